package workspace

import (
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// AddAPIKey creates a read-only API key for a CRM (supervisors only) and returns it with its
// only plain copy.
func (s *Service) AddAPIKey(ctx context.Context, name string) (*APIKey, string, error) {
	if _, err := RequireSupervisor(ctx); err != nil {
		return nil, "", err
	}
	name = NormaliseName(name)
	if IsBlank(name) || utf8.RuneCountInString(name) > maxNameChars {
		return nil, "", fieldError(EINVALID, "name", "a key needs a name of 1 to %d characters", maxNameChars)
	}
	secret := "adk_" + randomString(32)
	k, err := s.CreateAPIKey(ctx, name, secret, ScopeRead)
	if err != nil {
		return nil, "", err
	}
	s.audit(ctx, "apiKey.create", AuditAPIKey, k.ID, k.Name, nil, map[string]any{"name": k.Name, "revoked": false})
	return k, secret, nil
}

// APIKeys lists every API key, newest first (supervisors only).
func (s *Service) APIKeys(ctx context.Context) ([]*APIKey, error) {
	if _, err := RequireSupervisor(ctx); err != nil {
		return nil, err
	}
	return s.Store.APIKeys(ctx)
}

// RevokeAPIKeyByID revokes a key by its ID (supervisors only): it stops authenticating at
// once, and open sockets that use it close, on every node.
func (s *Service) RevokeAPIKeyByID(ctx context.Context, id string) (*APIKey, error) {
	if _, err := RequireSupervisor(ctx); err != nil {
		return nil, err
	}
	if checkID(id) != nil {
		return nil, fieldError(EINVALID, "apiKeyId", "not a valid ID: IDs are UUIDs")
	}
	keys, err := s.Store.APIKeys(ctx)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(keys, func(k *APIKey) bool { return k.ID == id })
	if i < 0 {
		return nil, fieldError(ENOTFOUND, "apiKeyId", "no API key has this ID")
	}
	k := keys[i]
	if err := s.RevokeAPIKey(ctx, k.KeyHash); err != nil {
		return nil, err
	}
	if k.RevokedAt.IsZero() {
		k.RevokedAt = s.Clock.Now()
		s.audit(ctx, "apiKey.revoke", AuditAPIKey, k.ID, k.Name, map[string]any{"revoked": false}, map[string]any{"revoked": true})
	}
	return k, nil
}

// AuditCommandLine records a change an operator made with the command line (add-agent,
// add-api-key): the audit log shows it with no actor.
func (s *Service) AuditCommandLine(ctx context.Context, a *Agent, k *APIKey) {
	if a != nil {
		s.audit(ctx, "agent.create", AuditAgent, a.ID, a.Username, nil, agentSnapshot(a))
	}
	if k != nil {
		s.audit(ctx, "apiKey.create", AuditAPIKey, k.ID, k.Name, nil, map[string]any{"name": k.Name, "revoked": false})
	}
}

// touchKey records, at most once a minute, that a key authenticated a request.
func (s *Service) touchKey(ctx context.Context, k *APIKey) {
	now := s.Clock.Now()
	if now.Sub(k.LastUsedAt) < time.Minute {
		return
	}
	at := now.Truncate(time.Minute)
	if err := s.Store.TouchAPIKey(ctx, k.KeyHash, at); err != nil {
		slog.WarnContext(ctx, "recording an API key's use", "err", err)
		return
	}
	k.LastUsedAt = at
}

// CannedResponses returns the canned responses an agent may insert: global ones and those of
// their plans (supervisors: all), whose title or text contains search, ignoring case. With a
// planID, only that plan's and the global ones.
func (s *Service) CannedResponses(ctx context.Context, search, planID string) ([]*CannedResponse, error) {
	me, err := RequireAgent(ctx)
	if err != nil {
		return nil, err
	}
	all, err := s.Store.CannedResponses(ctx)
	if err != nil {
		return nil, err
	}
	search = strings.ToLower(NormaliseName(search))
	out := make([]*CannedResponse, 0, len(all))
	for _, c := range all {
		switch {
		case c.PlanID != "" && planID != "" && c.PlanID != planID:
		case c.PlanID != "" && me.Role != RoleSupervisor && !slices.Contains(me.PlanIDs, c.PlanID):
		case search != "" && !strings.Contains(strings.ToLower(c.Title), search) && !strings.Contains(strings.ToLower(c.Text), search):
		default:
			out = append(out, c)
		}
	}
	return out, nil
}

// CannedChange creates (ID "") or changes a canned response.
type CannedChange struct {
	ID, Title, Text, PlanID string
}

// SaveCannedResponse creates or changes a canned response (supervisors only).
func (s *Service) SaveCannedResponse(ctx context.Context, c CannedChange) (*CannedResponse, error) {
	if _, err := RequireSupervisor(ctx); err != nil {
		return nil, err
	}
	title := NormaliseName(c.Title)
	if IsBlank(title) || utf8.RuneCountInString(title) > MaxCannedTitleChars {
		return nil, fieldError(EINVALID, "title", "a title needs 1 to %d characters", MaxCannedTitleChars)
	}
	text, err := s.checkText(c.Text)
	if err != nil {
		return nil, &Error{Code: ErrorCode(err), Message: ErrorMessage(err), Field: []string{"text"}}
	}
	if c.PlanID != "" {
		if _, err := s.checkPlanIDs(ctx, "planId", []string{c.PlanID}); err != nil {
			return nil, err
		}
	}
	now := s.Clock.Now()
	if c.ID == "" {
		r := &CannedResponse{ID: uuid.NewString(), Title: title, Text: text, PlanID: c.PlanID, CreatedAt: now, UpdatedAt: now}
		if err := s.Store.CreateCannedResponse(ctx, r); err != nil {
			return nil, err
		}
		s.audit(ctx, "cannedResponse.create", AuditCannedResponse, r.ID, r.Title, nil, cannedSnapshot(r))
		return r, nil
	}
	if checkID(c.ID) != nil {
		return nil, fieldError(EINVALID, "cannedResponseId", "not a valid ID: IDs are UUIDs")
	}
	before, r, err := guardedWrite(ctx, nil,
		func(ctx context.Context) (*CannedResponse, error) { return s.Store.CannedResponse(ctx, c.ID) },
		func(r *CannedResponse) error {
			r.Title, r.Text, r.PlanID, r.UpdatedAt = title, text, c.PlanID, now
			return nil
		},
		func(ctx context.Context, _, r *CannedResponse) error { return s.Store.UpdateCannedResponse(ctx, r) })
	if ErrorCode(err) == ENOTFOUND {
		return nil, fieldError(ENOTFOUND, "cannedResponseId", "no canned response has this ID")
	} else if err != nil {
		return nil, err
	}
	s.audit(ctx, "cannedResponse.update", AuditCannedResponse, r.ID, r.Title, cannedSnapshot(before), cannedSnapshot(r))
	return r, nil
}

// DeleteCannedResponse removes a canned response (supervisors only).
func (s *Service) DeleteCannedResponse(ctx context.Context, id string) error {
	if _, err := RequireSupervisor(ctx); err != nil {
		return err
	}
	if checkID(id) != nil {
		return fieldError(EINVALID, "cannedResponseId", "not a valid ID: IDs are UUIDs")
	}
	r, err := s.Store.CannedResponse(ctx, id)
	if err == nil {
		err = s.Store.DeleteCannedResponse(ctx, id)
	}
	if ErrorCode(err) == ENOTFOUND {
		return fieldError(ENOTFOUND, "cannedResponseId", "no canned response has this ID")
	} else if err != nil {
		return err
	}
	s.audit(ctx, "cannedResponse.delete", AuditCannedResponse, r.ID, r.Title, cannedSnapshot(r), nil)
	return nil
}

func cannedSnapshot(r *CannedResponse) map[string]any {
	return map[string]any{"title": r.Title, "text": r.Text, "planId": r.PlanID}
}

// AuditPage is a page of the audit log, newest first.
type AuditPage struct {
	Items   []*AuditEntry
	Cursors []string
	PageInfo
}

// AuditLog pages through configuration changes, newest first (supervisors only).
func (s *Service) AuditLog(ctx context.Context, f AuditFilter, first *int, after *string) (*AuditPage, error) {
	if _, err := RequireSupervisor(ctx); err != nil {
		return nil, err
	}
	n, err := pageSize(first, DefaultAdminPage)
	if err != nil {
		return nil, err
	}
	switch f.ObjectType {
	case "", AuditAgent, AuditPlan, AuditAPIKey, AuditCannedResponse, AuditIdentity, AuditWebhook:
	default:
		return nil, fieldError(EINVALID, "objectType", "objectType is one of AGENT, PLAN, API_KEY, CANNED_RESPONSE, IDENTITY, WEBHOOK")
	}
	if f.ObjectID != "" && checkID(f.ObjectID) != nil {
		return nil, fieldError(EINVALID, "objectId", "not a valid ID: IDs are UUIDs")
	}
	var cursor *AuditCursor
	if after != nil {
		c, ok := decodeTimeCursor(*after, "e1")
		if !ok {
			return nil, badCursor()
		}
		cursor = &AuditCursor{At: c.CreatedAt, ID: c.ID}
	}
	entries, err := s.Store.AuditLog(ctx, f, cursor, n+1)
	if err != nil {
		return nil, err
	}
	page := &AuditPage{PageInfo: PageInfo{HasPreviousPage: cursor != nil}}
	if len(entries) > n {
		entries, page.HasNextPage = entries[:n], true
	}
	page.Items = entries
	for _, e := range entries {
		page.Cursors = append(page.Cursors, encodeCursor("e1", strconv.FormatInt(e.At.UnixMilli(), 10), e.ID))
	}
	return page, nil
}

// audit records a configuration change: the fields that differ between before and after
// (nil before: a create; nil after: a delete). A change that changed nothing is not recorded.
// The change itself is made already, so a failed write is logged rather than returned.
func (s *Service) audit(ctx context.Context, action string, object AuditObject, id, name string, before, after map[string]any) {
	b, a := map[string]any{}, map[string]any{}
	for k, v := range after {
		if before == nil || !reflect.DeepEqual(before[k], v) {
			a[k] = v
			if before != nil {
				b[k] = before[k]
			}
		}
	}
	if before != nil && after == nil {
		b = before
	}
	if len(a) == 0 && len(b) == 0 {
		return
	}
	// Version 7 IDs sort by creation time, so changes made within one millisecond keep
	// their order in the log.
	id7, err := uuid.NewV7()
	if err != nil {
		id7 = uuid.New()
	}
	e := &AuditEntry{ID: id7.String(), At: s.Clock.Now(), Action: action, ObjectType: object, ObjectID: id, ObjectName: name}
	if p := PrincipalFrom(ctx); p.Kind == AgentPrincipal {
		e.ActorID = p.Agent.ID
	}
	if before != nil {
		e.Before = jsonObject(b)
	}
	if after != nil {
		e.After = jsonObject(a)
	}
	if err := s.Store.AppendAudit(ctx, e); err != nil {
		slog.ErrorContext(ctx, "writing the audit log", "action", action, "object", id, "err", err)
	}
}

func jsonObject(m map[string]any) string {
	b, err := json.Marshal(m)
	if err != nil {
		return "{}"
	}
	return string(b)
}
