package workspace

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// Administration: supervisors configure agents, plans, API keys and canned responses here.
// Every change is validated here (never in a resolver or the SPA), written through the
// version-guarded write path, takes effect at once (routing, sessions, sockets) and leaves an
// entry in the audit log.

// Limits of the admin API.
const (
	// MinPasswordChars is the shortest password the admin API and changePassword accept.
	MinPasswordChars = 8
	// MaxCapacity is the most interactions of one channel an agent may be given.
	MaxCapacity = 100
	// MaxDispositionCodes bounds a plan's codes (room for Banking77's 77 intents, which Agent
	// Assist is measured on).
	MaxDispositionCodes = 100
	// MaxCannedTitleChars bounds a canned response's title.
	MaxCannedTitleChars = 100
)

// Plan timer bounds, in seconds.
const (
	MinOfferTimeout   = 5
	MaxOfferTimeout   = 600
	MaxWrapSeconds    = 3600
	MinAutoParkSecs   = 30
	MaxAutoParkSecs   = 86400
	MinParkedTimeout  = 60
	MaxParkedTimeout  = 7 * 86400
	maxPostParkingHop = 100
)

// Codes of admin userErrors beyond the common ones.
const (
	// ETAKEN: a username or plan name that another one has.
	ETAKEN = "TAKEN"
	// ECYCLE: post-parking plans that lead back to the plan.
	ECYCLE = "CYCLE"
	// EINUSE: a change that would strand live interactions.
	EINUSE = "IN_USE"
)

// ReasonRoleChanged closes the sockets of an agent whose supervisor role was removed.
const ReasonRoleChanged = "your role was changed: sign in again"

func fieldError(code, field, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Field: []string{field}}
}

// checkPasswordRule refuses a password the admin API will not store.
func checkPasswordRule(field, password string) error {
	if utf8.RuneCountInString(password) < MinPasswordChars {
		return fieldError(EINVALID, field, "a password needs at least %d characters", MinPasswordChars)
	}
	if len(password) > 72 {
		return fieldError(EINVALID, field, "a password may have at most 72 bytes")
	}
	return nil
}

// checkCapacity refuses capacities outside 0..MaxCapacity or of unknown channels.
func checkCapacity(capacity map[Channel]int) error {
	for ch, n := range capacity {
		if !slices.Contains(Channels, ch) {
			return fieldError(EINVALID, "capacity", "unknown channel %q", ch)
		}
		if n < 0 || n > MaxCapacity {
			return &Error{Code: EINVALID, Message: fmt.Sprintf("%s capacity must be 0 to %d", strings.ToLower(string(ch)), MaxCapacity), Field: []string{"capacity", string(ch)}}
		}
	}
	return nil
}

// checkPlanIDs refuses plan IDs that name no plan.
func (s *Service) checkPlanIDs(ctx context.Context, field string, ids []string) ([]string, error) {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if checkID(id) != nil {
			return nil, fieldError(EINVALID, field, "not a valid plan ID: IDs are UUIDs")
		}
		if _, err := s.Store.Plan(ctx, id); ErrorCode(err) == ENOTFOUND {
			return nil, fieldError(ENOTFOUND, field, "no interaction plan has the ID %s", id)
		} else if err != nil {
			return nil, err
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// AddAgent creates an agent or supervisor through the admin API (supervisors only).
func (s *Service) AddAgent(ctx context.Context, n NewAgent) (*Agent, error) {
	if _, err := RequireSupervisor(ctx); err != nil {
		return nil, err
	}
	if err := checkPasswordRule("password", n.Password); err != nil {
		return nil, err
	}
	if n.Role != "" && n.Role != RoleAgent && n.Role != RoleSupervisor {
		return nil, fieldError(EINVALID, "role", "unknown role %q", n.Role)
	}
	if err := checkCapacity(n.Capacity); err != nil {
		return nil, err
	}
	plans, err := s.checkPlanIDs(ctx, "planIds", n.PlanIDs)
	if err != nil {
		return nil, err
	}
	n.PlanIDs = plans
	a, err := s.CreateAgent(ctx, n)
	if ErrorCode(err) == ECONFLICT {
		return nil, fieldError(ETAKEN, "username", "the username %s is taken", NormaliseName(n.Username))
	} else if err != nil {
		return nil, err
	}
	s.audit(ctx, "agent.create", AuditAgent, a.ID, a.Username, nil, agentSnapshot(a))
	return a, nil
}

// AgentChange is an admin change to an agent; nil fields stay as they are.
type AgentChange struct {
	AgentID    string
	Name       *string
	Role       *Role
	PlanIDs    *[]string
	Capacity   map[Channel]int
	AutoAccept *bool
	Disabled   *bool
	Password   *string
}

// UpdateAgent changes an agent (supervisors only) and applies the change at once:
//   - more capacity or a new plan routes waiting work to them (if READY);
//   - less capacity drops nothing they hold: they get no new work until under it;
//   - disabling signs them out everywhere and requeues what they hold, with a system
//     notice (what was in WRAP is completed);
//   - a new password or the loss of the supervisor role signs them out everywhere.
func (s *Service) UpdateAgent(ctx context.Context, c AgentChange) (*Agent, error) {
	me, err := RequireSupervisor(ctx)
	if err != nil {
		return nil, err
	}
	if checkID(c.AgentID) != nil {
		return nil, fieldError(EINVALID, "agentId", "not a valid ID: IDs are UUIDs")
	}
	var name string
	if c.Name != nil {
		name = NormaliseName(*c.Name)
		if IsBlank(name) || utf8.RuneCountInString(name) > maxNameChars {
			return nil, fieldError(EINVALID, "name", "a name needs 1 to %d characters", maxNameChars)
		}
	}
	if c.Role != nil && *c.Role != RoleAgent && *c.Role != RoleSupervisor {
		return nil, fieldError(EINVALID, "role", "unknown role %q", *c.Role)
	}
	if c.AgentID == me.ID && c.Disabled != nil && *c.Disabled {
		return nil, fieldError(EINVALID, "disabled", "you cannot disable your own account")
	}
	if c.AgentID == me.ID && c.Role != nil && *c.Role != RoleSupervisor {
		return nil, fieldError(EINVALID, "role", "you cannot remove your own supervisor role")
	}
	if err := checkCapacity(c.Capacity); err != nil {
		return nil, err
	}
	var plans []string
	if c.PlanIDs != nil {
		if plans, err = s.checkPlanIDs(ctx, "planIds", *c.PlanIDs); err != nil {
			return nil, err
		}
	}
	var hash []byte
	if c.Password != nil {
		if err := checkPasswordRule("password", *c.Password); err != nil {
			return nil, err
		}
		if hash, err = bcrypt.GenerateFromPassword([]byte(*c.Password), s.BcryptCost); err != nil {
			return nil, err
		}
	}
	var before *Agent
	a, err := s.updateAgent(ctx, c.AgentID, func(a *Agent) error {
		b := *a
		before = &b
		if c.Name != nil {
			a.Name = name
		}
		if c.Role != nil {
			a.Role = *c.Role
		}
		if c.PlanIDs != nil {
			a.PlanIDs = plans
		}
		if c.Capacity != nil {
			capacity := maps.Clone(a.Capacity)
			if capacity == nil {
				capacity = map[Channel]int{}
			}
			maps.Copy(capacity, c.Capacity)
			a.Capacity = capacity
		}
		if c.AutoAccept != nil {
			a.AutoAccept = *c.AutoAccept
		}
		if c.Disabled != nil {
			a.Disabled = *c.Disabled
			if a.Disabled && a.Presence != Offline {
				a.Presence, a.PresenceSince = Offline, s.Clock.Now()
			}
		}
		if hash != nil {
			a.PasswordHash = hash
		}
		return nil
	})
	if ErrorCode(err) == ENOTFOUND {
		return nil, fieldError(ENOTFOUND, "agentId", "no agent has this ID")
	} else if err != nil {
		return nil, err
	}
	after := agentSnapshot(a)
	if hash != nil {
		after["password"] = "changed"
	}
	s.audit(ctx, "agent.update", AuditAgent, a.ID, a.Username, agentSnapshot(before), after)
	return a, s.applyAgentChange(ctx, before, a, hash != nil)
}

// applyAgentChange does what an agent change means at once.
func (s *Service) applyAgentChange(ctx context.Context, before, a *Agent, newPassword bool) error {
	switch {
	case a.Disabled && !before.Disabled:
		if err := s.endAgentSessions(ctx, a.ID, ReasonAgentDisabled); err != nil {
			return err
		}
		return s.reclaimFrom(ctx, a)
	case newPassword:
		return s.endAgentSessions(ctx, a.ID, ReasonPasswordChanged)
	case before.Role == RoleSupervisor && a.Role != RoleSupervisor:
		return s.endAgentSessions(ctx, a.ID, ReasonRoleChanged)
	}
	if a.Presence == Ready && !a.Disabled {
		s.offerWaiting(ctx, a.PlanIDs)
	}
	return nil
}

// reclaimFrom requeues what a disabled agent holds, so nothing is stranded: offers go back to
// the queue, ACTIVE and PARKED interactions are requeued with a system notice, and WRAP ones
// (the conversation is over) are completed by the system.
func (s *Service) reclaimFrom(ctx context.Context, a *Agent) error {
	held, err := s.Store.LiveInteractions(ctx, LiveFilter{AgentID: a.ID})
	if err != nil {
		return err
	}
	var errs []error
	for _, ix := range held {
		errs = append(errs, s.reclaim(ctx, a, ix))
	}
	return errors.Join(errs...)
}

func (s *Service) reclaim(ctx context.Context, a *Agent, ix *Interaction) error {
	if ix.State == Wrap {
		_, err := s.complete(ctx, ix.ID, ix, func(x *Interaction, now time.Time) error {
			if x.AgentID != a.ID {
				return errSkip
			}
			return x.close(now)
		})
		if errors.Is(err, errSkip) || ErrorCode(err) == EWRONGSTATE {
			return nil
		}
		return err
	}
	var transfer *Transfer
	queued, from, err := s.mutate(ctx, ix.ID, ix, func(x *Interaction) error {
		if x.AgentID != a.ID {
			return errSkip
		}
		transfer = x.Transfer
		return x.reclaim(s.Clock.Now())
	})
	if errors.Is(err, errSkip) || ErrorCode(err) == EWRONGSTATE || ErrorCode(err) == ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	if from == Offered {
		s.notify(AgentTopic(a.ID), &OfferEvent{Kind: OfferRescinded, Offer: offerOf(ix, from)})
	} else {
		s.systemMessage(ctx, queued, a.Name+" is no longer available: the conversation is back in the queue for the next agent.")
	}
	if transfer != nil {
		s.notify(AgentTopic(transfer.ToAgentID), &OfferEvent{Kind: OfferRescinded, Offer: Offer{ID: transfer.OfferID, Interaction: *queued, AgentID: transfer.ToAgentID, TransferredBy: transfer.FromAgentID}})
	}
	s.notify(UpdatesTopic(a.ID), &InteractionEvent{Interaction: queued})
	if err := s.release(ctx, a.ID, ix.ID, nil); err != nil {
		return err
	}
	routed := *queued
	return s.route(ctx, &routed)
}

// ChangePassword sets a new password for the signed-in agent. Their other sessions end and
// their sockets close; the session making the change stays signed in.
func (s *Service) ChangePassword(ctx context.Context, current, password string) (*Agent, error) {
	p := PrincipalFrom(ctx)
	me, err := RequireAgent(ctx)
	if err != nil {
		return nil, err
	}
	stored, err := s.Store.Agent(ctx, me.ID)
	if err != nil {
		return nil, err
	}
	if !checkPassword(stored.PasswordHash, current) {
		return nil, fieldError(EINVALIDCREDENTIALS, "currentPassword", "the current password is wrong")
	}
	if err := checkPasswordRule("newPassword", password); err != nil {
		return nil, err
	}
	if password == current {
		return nil, fieldError(EINVALID, "newPassword", "the new password is the current one")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.BcryptCost)
	if err != nil {
		return nil, err
	}
	a, err := s.updateAgent(ctx, me.ID, func(a *Agent) error {
		a.PasswordHash = hash
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.audit(ctx, "agent.changePassword", AuditAgent, a.ID, a.Username, nil, map[string]any{"password": "changed"})
	// Every other session ends; this one is written back at once, so it never stops working.
	sess, err := s.Store.Session(ctx, p.TokenHash)
	if err != nil {
		return nil, err
	}
	if _, err := s.Store.DeleteAgentSessions(ctx, me.ID); err != nil {
		return nil, err
	}
	if err := s.Store.CreateSession(ctx, sess); err != nil {
		return nil, err
	}
	s.notify(AgentAccessTopic(me.ID), &RevokedEvent{Reason: ReasonPasswordChanged, KeepSession: SessionTopic(p.TokenHash)})
	return a, nil
}

// AgentPage is a page of agents with a cursor per agent and the total that match.
type AgentPage struct {
	Items   []*Agent
	Cursors []string
	Total   int
	PageInfo
}

// DefaultAdminPage is how many agents or audit entries a page has unless asked otherwise.
const DefaultAdminPage = 50

// SearchAgents pages through agents by username (supervisors only): those whose username or
// name contains search, ignoring case.
func (s *Service) SearchAgents(ctx context.Context, search string, first *int, after *string) (*AgentPage, error) {
	if _, err := RequireSupervisor(ctx); err != nil {
		return nil, err
	}
	n, err := pageSize(first, DefaultAdminPage)
	if err != nil {
		return nil, err
	}
	from := ""
	if after != nil {
		parts, ok := decodeCursor(*after, "a1", 1)
		if !ok {
			return nil, badCursor()
		}
		raw, err := base64.RawURLEncoding.DecodeString(parts[0])
		if err != nil {
			return nil, badCursor()
		}
		from = string(raw)
	}
	agents, total, err := s.Store.SearchAgents(ctx, NormaliseName(search), from, n+1)
	if err != nil {
		return nil, err
	}
	page := &AgentPage{Total: total, PageInfo: PageInfo{HasPreviousPage: from != ""}}
	if len(agents) > n {
		agents, page.HasNextPage = agents[:n], true
	}
	page.Items = agents
	for _, a := range agents {
		page.Cursors = append(page.Cursors, encodeCursor("a1", base64.RawURLEncoding.EncodeToString([]byte(a.Username))))
	}
	return page, nil
}

// AgentInteractions returns the live interactions an agent holds (supervisors only).
func (s *Service) AgentInteractions(ctx context.Context, agentID string) ([]*Interaction, error) {
	if _, err := RequireSupervisor(ctx); err != nil {
		return nil, err
	}
	return s.Store.LiveInteractions(ctx, LiveFilter{AgentID: agentID})
}

// agentSnapshot is what the audit log records of an agent: its configuration, no secrets.
func agentSnapshot(a *Agent) map[string]any {
	return map[string]any{
		"username": a.Username, "name": a.Name, "role": a.Role, "planIds": a.PlanIDs,
		"capacity": a.Capacity, "autoAccept": a.AutoAccept, "disabled": a.Disabled,
	}
}
