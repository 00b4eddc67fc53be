package workspace

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"
)

// PrincipalKind says who is calling.
type PrincipalKind int

// Kinds of principal.
const (
	Anonymous PrincipalKind = iota
	AgentPrincipal
	IntegrationPrincipal
	// ContactPrincipal is a contact (a webchat visitor) holding the token of their own
	// conversation.
	ContactPrincipal
)

// Principal is the authenticated caller of one request or websocket connection.
type Principal struct {
	Kind PrincipalKind
	// Agent is set for AgentPrincipal.
	Agent *Agent
	// TokenHash identifies the agent's session.
	TokenHash string
	// ExpiresAt is when the agent's session ends.
	ExpiresAt time.Time
	// Key is set for IntegrationPrincipal.
	Key *APIKey
	// InteractionID is the contact's own chat, for ContactPrincipal.
	InteractionID string
	// Rejected is set when the caller sent credentials that did not authenticate; the caller
	// is then treated as anonymous, and operations that need a principal say why they fail.
	Rejected bool
}

type principalKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the context's principal, Anonymous if none.
func PrincipalFrom(ctx context.Context) Principal {
	p, _ := ctx.Value(principalKey{}).(Principal)
	return p
}

type clientAddrKey struct{}

// WithClientAddr returns a context carrying the caller's network address (an IP address), by
// which the login throttle and the webchat flood limit count.
func WithClientAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientAddrKey{}, addr)
}

// ClientAddrFrom returns the context's client address, "" if none.
func ClientAddrFrom(ctx context.Context) string {
	addr, _ := ctx.Value(clientAddrKey{}).(string)
	return addr
}

// sessionPrefix marks session tokens, so Authenticate looks up one table per token.
const sessionPrefix = "ads_"

// HashToken returns the stored form of a token or API key. Both are long random strings
// (demo keys aside), so a fast hash is enough; passwords use bcrypt.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// RequireAgent returns the signed-in agent, or UNAUTHENTICATED / FORBIDDEN.
func RequireAgent(ctx context.Context) (*Agent, error) {
	p := PrincipalFrom(ctx)
	switch {
	case p.Kind == AgentPrincipal:
		return p.Agent, nil
	case p.Kind == IntegrationPrincipal:
		return nil, Errorf(EFORBIDDEN, "API keys may only read; this operation needs a signed-in agent")
	case p.Kind == ContactPrincipal:
		return nil, Errorf(EFORBIDDEN, "a webchat contact token cannot be used for agent operations")
	case p.Rejected:
		return nil, Errorf(EUNAUTHENTICATED, "the token is invalid or has expired; sign in again")
	default:
		return nil, Errorf(EUNAUTHENTICATED, "sign in first: send Authorization: Bearer <token>")
	}
}

// RequireReader allows agents and integrations holding the read scope.
func RequireReader(ctx context.Context) error {
	p := PrincipalFrom(ctx)
	if p.Kind == IntegrationPrincipal {
		if slices.Contains(p.Key.Scopes, ScopeRead) {
			return nil
		}
		return Errorf(EFORBIDDEN, "this API key lacks the read scope")
	}
	if p.Kind == ContactPrincipal {
		return Errorf(EFORBIDDEN, "a webchat contact token reads only its own chat, with myChat")
	}
	_, err := RequireAgent(ctx)
	return err
}

// Authenticate resolves a bearer credential (a session token or an API key) to a
// principal. An unknown or expired credential is UNAUTHENTICATED. A session may come from
// this node's cache (authcache.go), which every revocation and change of the agent empties.
func (s *Service) Authenticate(ctx context.Context, bearer string) (Principal, error) {
	return s.authenticate(ctx, bearer, true)
}

// AuthenticateFresh is Authenticate from the store, never the cache: for an operation on a
// long-lived websocket, which must fail the moment its session is gone even if the news of
// it was lost on the way.
func (s *Service) AuthenticateFresh(ctx context.Context, bearer string) (Principal, error) {
	return s.authenticate(ctx, bearer, false)
}

func (s *Service) authenticate(ctx context.Context, bearer string, cache bool) (Principal, error) {
	bearer = strings.TrimSpace(bearer)
	if bearer == "" {
		return Principal{}, nil
	}
	hash := HashToken(bearer)
	for _, tokens := range s.ContactTokens {
		if id, ok := tokens.ParseContactToken(bearer); ok {
			return s.authenticateContact(ctx, id, hash)
		}
	}
	if strings.HasPrefix(bearer, sessionPrefix) {
		return s.authenticateSession(ctx, hash, cache)
	}
	key, err := s.Store.APIKey(ctx, hash)
	if ErrorCode(err) == ENOTFOUND {
		return Principal{Rejected: true}, Errorf(EUNAUTHENTICATED, "the API key or token is not known")
	} else if err != nil {
		return Principal{}, err
	}
	if !key.RevokedAt.IsZero() {
		return Principal{Rejected: true}, Errorf(EUNAUTHENTICATED, "%s", ReasonKeyRevoked)
	}
	s.touchKey(ctx, key)
	return Principal{Kind: IntegrationPrincipal, Key: key}, nil
}

// authenticateSession resolves a session token: from this node's cache (authcache.go) when
// it holds the session and fromCache allows, else from the store, and then keeps it.
func (s *Service) authenticateSession(ctx context.Context, hash string, fromCache bool) (Principal, error) {
	now := s.Clock.Now()
	cached := s.sessionCacheReady()
	if cached && fromCache {
		if sess, a, ok := s.sessions.get(hash, now); ok && now.Before(sess.ExpiresAt) {
			return Principal{Kind: AgentPrincipal, Agent: a, TokenHash: hash, ExpiresAt: sess.ExpiresAt}, nil
		}
	}
	var revoked, changes uint64
	if cached {
		revoked = s.sessions.revocations()
	}
	sess, err := s.Store.Session(ctx, hash)
	if ErrorCode(err) == ENOTFOUND || (err == nil && !now.Before(sess.ExpiresAt)) {
		return Principal{Rejected: true}, Errorf(EUNAUTHENTICATED, "the session token is invalid or has expired")
	} else if err != nil {
		return Principal{}, err
	}
	if cached {
		changes = s.sessions.agentChanges(sess.AgentID)
	}
	a, err := s.Store.Agent(ctx, sess.AgentID)
	if ErrorCode(err) == ENOTFOUND {
		return Principal{Rejected: true}, Errorf(EUNAUTHENTICATED, "the session's agent no longer exists")
	} else if err != nil {
		return Principal{}, err
	}
	if a.Disabled {
		return Principal{Rejected: true}, Errorf(EUNAUTHENTICATED, "%s", ReasonAgentDisabled)
	}
	if cached {
		s.sessions.put(hash, sess, a, revoked, changes, now)
	}
	return Principal{Kind: AgentPrincipal, Agent: a, TokenHash: hash, ExpiresAt: sess.ExpiresAt}, nil
}

// Login checks a username and password and opens a session. A wrong username or password
// is INVALID_CREDENTIALS, with the same message for both. Too many failures for the username
// or from the caller's address (ClientAddrFrom) are TOO_MANY_ATTEMPTS, refused before any
// password is checked (see LoginThrottle).
func (s *Service) Login(ctx context.Context, username, password string) (token string, sess *Session, a *Agent, err error) {
	username = NormaliseName(username)
	if username == "" || password == "" {
		return "", nil, nil, &Error{Code: EINVALID, Message: "enter a username and a password"}
	}
	addr := ClientAddrFrom(ctx)
	if s.LoginThrottle != nil {
		if wait := s.LoginThrottle.admit(s.Clock.Now(), username, addr); wait > 0 {
			return "", nil, nil, tooManyAttempts(wait)
		}
	}
	a, err = s.Store.AgentByUsername(ctx, username)
	if ErrorCode(err) == ENOTFOUND {
		// Spend the same time as a real check so timing does not reveal usernames.
		_ = checkPassword(s.dummyHash(), password)
		return "", nil, nil, Errorf(EINVALIDCREDENTIALS, "wrong username or password")
	} else if err != nil {
		return "", nil, nil, err
	}
	if !checkPassword(a.PasswordHash, password) {
		return "", nil, nil, Errorf(EINVALIDCREDENTIALS, "wrong username or password")
	}
	if s.LoginThrottle != nil {
		s.LoginThrottle.succeeded(username, addr)
	}
	if a.Disabled {
		// Said only to whoever knows the password.
		return "", nil, nil, Errorf(EINVALIDCREDENTIALS, "%s: ask a supervisor", ReasonAgentDisabled)
	}
	token = sessionPrefix + randomString(32)
	now := s.Clock.Now()
	sess = &Session{TokenHash: HashToken(token), AgentID: a.ID, CreatedAt: now, ExpiresAt: now.Add(s.SessionTTL)}
	if err := s.Store.CreateSession(ctx, sess); err != nil {
		return "", nil, nil, err
	}
	return token, sess, a, nil
}

// passwordChecks counts bcrypt comparisons, so tests can tell a refused sign-in ran none.
var passwordChecks atomic.Int64

// checkPassword reports whether password matches the bcrypt hash.
func checkPassword(hash []byte, password string) bool {
	passwordChecks.Add(1)
	return bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
}

// Logout revokes the caller's session and sets the agent OFFLINE, so nothing is offered
// to someone who has left.
func (s *Service) Logout(ctx context.Context) (bool, error) {
	p := PrincipalFrom(ctx)
	if p.Kind != AgentPrincipal {
		_, err := RequireAgent(ctx)
		return false, err
	}
	if err := s.Store.DeleteSession(ctx, p.TokenHash); ErrorCode(err) == ENOTFOUND {
		return false, nil
	} else if err != nil {
		return false, err
	}
	s.revoke(SessionTopic(p.TokenHash), ReasonLoggedOut)
	if _, err := s.updateAgent(ctx, p.Agent.ID, func(a *Agent) error {
		if a.Presence != Offline {
			a.Presence, a.PresenceSince = Offline, s.Clock.Now()
		}
		return nil
	}); err != nil {
		return true, err
	}
	return true, nil
}

// NewAgent describes an agent to create.
type NewAgent struct {
	Username, Name, Password string
	Role                     Role
	PlanIDs                  []string
	AutoAccept               bool
	// Capacity overrides the default capacity of the channels it names.
	Capacity map[Channel]int
}

// CreateAgent hashes the password and stores a new OFFLINE agent with default capacity. The
// username and name are normalised (NormaliseName); a username is one word of visible
// characters, so no two agents' usernames look alike but differ by a space or an invisible
// character.
func (s *Service) CreateAgent(ctx context.Context, n NewAgent) (*Agent, error) {
	username, name := NormaliseName(n.Username), NormaliseName(n.Name)
	switch {
	case username == "" || n.Password == "":
		return nil, Errorf(EINVALID, "an agent needs a username and a password")
	case strings.ContainsFunc(username, invisible):
		return nil, &Error{Code: EINVALID, Message: "a username may not contain spaces or invisible characters", Field: []string{"username"}}
	case utf8.RuneCountInString(username) > maxNameChars || utf8.RuneCountInString(name) > maxNameChars:
		return nil, Errorf(EINVALID, "usernames and names are limited to %d characters", maxNameChars)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(n.Password), s.BcryptCost)
	if err != nil {
		return nil, Errorf(EINVALID, "password: %v", err)
	}
	if n.Role == "" {
		n.Role = RoleAgent
	}
	if IsBlank(name) {
		name = username
	}
	now := s.Clock.Now()
	capacity := DefaultCapacity()
	maps.Copy(capacity, n.Capacity)
	a := &Agent{
		ID: uuid.NewString(), Username: username, Name: name,
		PasswordHash: hash, Role: n.Role, Presence: Offline, PresenceSince: now,
		AutoAccept: n.AutoAccept, Capacity: capacity, PlanIDs: n.PlanIDs, CreatedAt: now,
	}
	if err := s.Store.CreateAgent(ctx, a); err != nil {
		return nil, err
	}
	s.notify(AgentsTopic, &AgentEvent{Agent: a})
	return a, nil
}

// CreateAPIKey stores the hash of key for a CRM integration with the given scopes.
func (s *Service) CreateAPIKey(ctx context.Context, name, key string, scopes ...Scope) (*APIKey, error) {
	if len(key) < 8 {
		return nil, Errorf(EINVALID, "an API key needs at least 8 characters")
	}
	k := &APIKey{ID: uuid.NewString(), KeyHash: HashToken(key), Name: name, Scopes: scopes, CreatedAt: s.Clock.Now()}
	return k, s.Store.CreateAPIKey(ctx, k)
}

// NewAPIKey generates a random API key, stores it and returns its only plain copy.
func (s *Service) NewAPIKey(ctx context.Context, name string, scopes ...Scope) (string, error) {
	key := "adk_" + randomString(32)
	_, err := s.CreateAPIKey(ctx, name, key, scopes...)
	return key, err
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// dummyHash is compared against when the username is unknown: made once, at the cost of the
// service's own hashes, so that an unknown name costs what a known one does.
func (s *Service) dummyHash() []byte {
	s.dummy.once.Do(func() {
		s.dummy.hash, _ = bcrypt.GenerateFromPassword([]byte("agentdesk"), s.BcryptCost)
	})
	return s.dummy.hash
}
