package workspace

import (
	"time"
)

// Service is the domain's entry point: transports call its methods with a context that
// carries the caller's Principal.
type Service struct {
	Store Store
	Hub   *Hub
	Clock Clock

	// SessionTTL is how long a login token lives.
	SessionTTL time.Duration
	// BcryptCost is the cost of new password hashes.
	BcryptCost int
}

// NewService returns a service with production defaults.
func NewService(store Store, hub *Hub, clock Clock) *Service {
	return &Service{Store: store, Hub: hub, Clock: clock, SessionTTL: 12 * time.Hour, BcryptCost: 10}
}
