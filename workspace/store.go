package workspace

import "context"

// Store is the one storage port. The sqlite and mongo packages implement it and pass the
// same contract suite (storetest). Rules every implementation keeps:
//   - a missing record is an *Error with code NOT_FOUND;
//   - a create that collides with a unique key (ID, username, plan name, hash) is CONFLICT;
//   - a create stores the record's Version as given (normally 0);
//   - every Update is one conditional write on one record: it succeeds only if the stored
//     version equals the given record's Version, stores Version+1 and returns CONFLICT
//     otherwise (also when the record is missing or the update collides with a unique key).
//     There are no multi-record transactions;
//   - Session may return a session past its ExpiresAt (MongoDB's TTL index removes them
//     within a minute, SQLite keeps them): callers check ExpiresAt;
//   - names (usernames, plan names) compare case-sensitively and sort bytewise;
//   - Close may be called more than once.
type Store interface {
	// Ping makes one round trip to the database.
	Ping(ctx context.Context) error
	Close() error

	CreateAgent(ctx context.Context, a *Agent) error
	Agent(ctx context.Context, id string) (*Agent, error)
	AgentByUsername(ctx context.Context, username string) (*Agent, error)
	// Agents returns every agent ordered by username.
	Agents(ctx context.Context) ([]*Agent, error)
	// UpdateAgent writes a if the stored version is a.Version, and then sets a.Version+1.
	UpdateAgent(ctx context.Context, a *Agent) error

	CreateSession(ctx context.Context, s *Session) error
	Session(ctx context.Context, tokenHash string) (*Session, error)
	// DeleteSession removes a session; deleting a missing one is NOT_FOUND.
	DeleteSession(ctx context.Context, tokenHash string) error

	CreateAPIKey(ctx context.Context, k *APIKey) error
	APIKey(ctx context.Context, keyHash string) (*APIKey, error)

	CreatePlan(ctx context.Context, p *Plan) error
	Plan(ctx context.Context, id string) (*Plan, error)
	// Plans returns every plan ordered by name.
	Plans(ctx context.Context) ([]*Plan, error)
	// UpdatePlan writes p if the stored version is p.Version, and then sets p.Version+1.
	UpdatePlan(ctx context.Context, p *Plan) error
}
