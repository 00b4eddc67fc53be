package storetest

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
)

// filler sets every exported field of a value, however deep (structs, pointers, slices,
// maps), to a value distinct from every other it sets, so a field an adapter forgets to
// store reads back different. Times have millisecond parts and no finer.
type filler struct {
	t    *testing.T
	n    int
	base time.Time
}

func newFiller(t *testing.T) *filler {
	return &filler{t: t, base: now().Add(-24 * time.Hour).Truncate(time.Second)}
}

// full returns a new T with every field set.
func full[T any](f *filler) *T {
	v := new(T)
	f.fill(reflect.ValueOf(v).Elem(), reflect.TypeFor[T]().Name())
	return v
}

func (f *filler) fill(v reflect.Value, name string) {
	f.n++
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == timeType {
			v.Set(reflect.ValueOf(f.base.Add(time.Duration(f.n) * (time.Second + time.Millisecond))))
			return
		}
		for i := range v.NumField() {
			if field := v.Type().Field(i); field.IsExported() {
				f.fill(v.Field(i), field.Name)
			}
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		f.fill(v.Elem(), name)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range v.Len() {
			f.fill(v.Index(i), name)
		}
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		for range 2 {
			key, val := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			f.fill(key, name)
			f.fill(val, name)
			v.SetMapIndex(key, val)
		}
	case reflect.String:
		v.SetString(fmt.Sprintf("%s-%d", name, f.n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(f.n))
	case reflect.Uint8:
		v.SetUint(uint64(f.n % 256))
	case reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uint:
		v.SetUint(uint64(f.n))
	default:
		f.t.Fatalf("storetest: cannot fill %s of kind %s; teach filler.fill", name, v.Kind())
	}
}

// differences names every field, however deep, where got and want differ.
func differences(path string, got, want reflect.Value) []string {
	if got.Type() == timeType {
		if !got.Interface().(time.Time).Equal(want.Interface().(time.Time)) {
			return []string{fmt.Sprintf("%s: got %v, want %v", path, got, want)}
		}
		return nil
	}
	var out []string
	switch got.Kind() {
	case reflect.Struct:
		for i := range got.NumField() {
			out = append(out, differences(path+"."+got.Type().Field(i).Name, got.Field(i), want.Field(i))...)
		}
		return out
	case reflect.Pointer:
		if got.IsNil() != want.IsNil() {
			state := map[bool]string{true: "nil", false: "set"}
			return []string{fmt.Sprintf("%s: got %s, want %s", path, state[got.IsNil()], state[want.IsNil()])}
		}
		if got.IsNil() {
			return nil
		}
		return differences(path, got.Elem(), want.Elem())
	case reflect.Slice:
		if got.Len() != want.Len() || got.IsNil() != want.IsNil() {
			break
		}
		for i := range got.Len() {
			out = append(out, differences(fmt.Sprintf("%s[%d]", path, i), got.Index(i), want.Index(i))...)
		}
		return out
	}
	if !reflect.DeepEqual(got.Interface(), want.Interface()) {
		out = append(out, fmt.Sprintf("%s: got %+v, want %+v", path, got, want))
	}
	return out
}

// sameFields fails, naming each field that differs, unless got and want are deeply equal
// once their times are in UTC at millisecond precision.
func sameFields[T any](t *testing.T, what string, got, want *T) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: got nil", what)
	}
	g, w := normalise(*got), normalise(*want)
	if reflect.DeepEqual(g, w) {
		return
	}
	diffs := differences(reflect.TypeFor[T]().Name(), reflect.ValueOf(g), reflect.ValueOf(w))
	if len(diffs) == 0 {
		diffs = []string{fmt.Sprintf("got %+v, want %+v", g, w)}
	}
	t.Fatalf("%s: not stored as written:\n  %s", what, strings.Join(diffs, "\n  "))
}

// one returns the only element of list.
func one[T any](t *testing.T, what string, list []*T, err error) *T {
	t.Helper()
	must(t, err)
	if len(list) != 1 {
		t.Fatalf("%s: %d results, want 1", what, len(list))
	}
	return list[0]
}

// testRoundTrip writes every domain type the store keeps with every field set, through
// each write, and reads it back through each read: a field an adapter does not store (or a
// new field it was not taught) fails here, by name.
func testRoundTrip(t *testing.T, s workspace.Store) {
	f := newFiller(t)

	t.Run("Agent", func(t *testing.T) {
		a := full[workspace.Agent](f)
		must(t, s.CreateAgent(ctx(t), a))
		got, err := s.Agent(ctx(t), a.ID)
		must(t, err)
		sameFields(t, "Agent", got, a)
		got, err = s.AgentByUsername(ctx(t), a.Username)
		must(t, err)
		sameFields(t, "AgentByUsername", got, a)
		all, err := s.Agents(ctx(t))
		sameFields(t, "Agents", one(t, "Agents", all, err), a)

		next := full[workspace.Agent](f)
		next.ID, next.Version = a.ID, a.Version
		next.Presence, next.Disabled = workspace.Ready, false // so ReadyAgents reads it too
		must(t, s.UpdateAgent(ctx(t), next))
		got, err = s.Agent(ctx(t), a.ID)
		must(t, err)
		sameFields(t, "Agent after UpdateAgent", got, next)
		ready, err := s.ReadyAgents(ctx(t), next.PlanIDs[:1], "", 0)
		sameFields(t, "ReadyAgents", one(t, "ReadyAgents", ready, err), next)
	})

	t.Run("Plan", func(t *testing.T) {
		p := full[workspace.Plan](f)
		must(t, s.CreatePlan(ctx(t), p))
		got, err := s.Plan(ctx(t), p.ID)
		must(t, err)
		sameFields(t, "Plan", got, p)
		next := full[workspace.Plan](f)
		next.ID, next.Version = p.ID, p.Version
		must(t, s.UpdatePlan(ctx(t), next))
		all, err := s.Plans(ctx(t))
		sameFields(t, "Plans after UpdatePlan", one(t, "Plans", all, err), next)
	})

	t.Run("AssistExample", func(t *testing.T) {
		e := full[workspace.AssistExample](f)
		must(t, s.AddAssistExample(ctx(t), e))
		all, err := s.AssistExamples(ctx(t), e.PlanID, "", 10)
		sameFields(t, "AssistExamples", one(t, "AssistExamples", all, err), e)
	})

	t.Run("Session", func(t *testing.T) {
		sess := full[workspace.Session](f)
		must(t, s.CreateSession(ctx(t), sess))
		got, err := s.Session(ctx(t), sess.TokenHash)
		must(t, err)
		sameFields(t, "Session", got, sess)
	})

	t.Run("APIKey", func(t *testing.T) {
		k := full[workspace.APIKey](f)
		must(t, s.CreateAPIKey(ctx(t), k))
		got, err := s.APIKey(ctx(t), k.KeyHash)
		must(t, err)
		sameFields(t, "APIKey", got, k)
		all, err := s.APIKeys(ctx(t))
		sameFields(t, "APIKeys", one(t, "APIKeys", all, err), k)
	})

	t.Run("CannedResponse", func(t *testing.T) {
		c := full[workspace.CannedResponse](f)
		must(t, s.CreateCannedResponse(ctx(t), c))
		got, err := s.CannedResponse(ctx(t), c.ID)
		must(t, err)
		sameFields(t, "CannedResponse", got, c)
		next := full[workspace.CannedResponse](f)
		next.ID, next.Version = c.ID, c.Version
		must(t, s.UpdateCannedResponse(ctx(t), next))
		all, err := s.CannedResponses(ctx(t))
		sameFields(t, "CannedResponses after UpdateCannedResponse", one(t, "CannedResponses", all, err), next)
	})

	t.Run("AuditEntry", func(t *testing.T) {
		e := full[workspace.AuditEntry](f)
		must(t, s.AppendAudit(ctx(t), e))
		list, err := s.AuditLog(ctx(t), workspace.AuditFilter{ObjectType: e.ObjectType, ObjectID: e.ObjectID}, nil, 10)
		sameFields(t, "AuditLog", one(t, "AuditLog", list, err), e)
	})

	t.Run("Attachment", func(t *testing.T) {
		a := full[workspace.Attachment](f)
		must(t, s.CreateAttachment(ctx(t), a))
		got, err := s.Attachment(ctx(t), a.ID)
		must(t, err)
		sameFields(t, "Attachment", got, a)
		list, err := s.MessageAttachments(ctx(t), []string{a.MessageID})
		sameFields(t, "MessageAttachments", one(t, "MessageAttachments", list, err), a)

		next := full[workspace.Attachment](f)
		next.ID, next.Version = a.ID, a.Version
		must(t, s.UpdateAttachment(ctx(t), next))
		got, err = s.Attachment(ctx(t), a.ID)
		must(t, err)
		sameFields(t, "Attachment after UpdateAttachment", got, next)
		list, err = s.MessageAttachments(ctx(t), []string{next.MessageID})
		sameFields(t, "MessageAttachments after UpdateAttachment", one(t, "MessageAttachments", list, err), next)

		draft := full[workspace.Attachment](f)
		draft.ID, draft.Version = a.ID, next.Version
		draft.MessageID = "" // so ExpiredDrafts reads it
		must(t, s.UpdateAttachment(ctx(t), draft))
		list, err = s.ExpiredDrafts(ctx(t), draft.ExpiresAt, 10)
		sameFields(t, "ExpiredDrafts", one(t, "ExpiredDrafts", list, err), draft)
	})

	t.Run("Identity", func(t *testing.T) {
		id := full[workspace.Identity](f)
		must(t, s.CreateIdentity(ctx(t), id))
		got, err := s.Identity(ctx(t), id.ID)
		must(t, err)
		sameFields(t, "Identity", got, id)
		next := full[workspace.Identity](f)
		next.ID, next.Version = id.ID, id.Version
		must(t, s.UpdateIdentity(ctx(t), next))
		all, err := s.Identities(ctx(t))
		sameFields(t, "Identities after UpdateIdentity", one(t, "Identities", all, err), next)
	})

	t.Run("Template", func(t *testing.T) {
		tp := full[workspace.Template](f)
		must(t, s.CreateTemplate(ctx(t), tp))
		got, err := s.Template(ctx(t), tp.ID)
		must(t, err)
		sameFields(t, "Template", got, tp)
		all, err := s.Templates(ctx(t), tp.IdentityID)
		sameFields(t, "Templates", one(t, "Templates", all, err), tp)
	})

	t.Run("Interaction", func(t *testing.T) {
		ix := full[workspace.Interaction](f)
		// Events are written, not read back (see testEvents); carried messages
		// become the transcript's rows (see InteractionMessages), carried examples Agent
		// Assist's (see CompleteInteraction).
		ix.Outbox, ix.Messages, ix.Learnt = nil, nil, nil
		must(t, s.CreateInteraction(ctx(t), ix))
		got, err := s.Interaction(ctx(t), ix.ID)
		must(t, err)
		sameFields(t, "Interaction", got, ix)
		got, err = s.LiveInteractionByThread(ctx(t), ix.ThreadKey)
		must(t, err)
		sameFields(t, "LiveInteractionByThread", got, ix)

		next := full[workspace.Interaction](f)
		next.ID, next.Version, next.Outbox, next.Messages, next.Learnt = ix.ID, ix.Version, nil, nil, nil
		must(t, s.UpdateInteraction(ctx(t), next, ix.State))
		live, err := s.LiveInteractions(ctx(t), workspace.LiveFilter{})
		sameFields(t, "LiveInteractions after UpdateInteraction", one(t, "LiveInteractions", live, err), next)
		page, err := s.Interactions(ctx(t), workspace.InteractionFilter{}, nil, 10)
		sameFields(t, "Interactions (live)", one(t, "Interactions", page, err), next)

		done := full[workspace.Interaction](f)
		done.ID, done.Version, done.State, done.Outbox, done.Messages, done.Learnt = ix.ID, next.Version, workspace.Completed, nil, nil, nil
		must(t, s.UpdateInteraction(ctx(t), done, next.State))
		must(t, s.ArchiveInteraction(ctx(t), done))
		got, err = s.Interaction(ctx(t), ix.ID)
		must(t, err)
		sameFields(t, "Interaction from history", got, done)
		page, err = s.Interactions(ctx(t), workspace.InteractionFilter{}, nil, 10)
		sameFields(t, "Interactions (history)", one(t, "Interactions", page, err), done)
	})

	t.Run("Message", func(t *testing.T) {
		m := full[workspace.Message](f)
		m.Outbox = nil
		must(t, s.AppendMessage(ctx(t), m))
		got, err := s.Message(ctx(t), m.ID)
		must(t, err)
		sameFields(t, "Message", got, m)
		got, err = s.MessageByExternalID(ctx(t), m.ExternalID)
		must(t, err)
		sameFields(t, "MessageByExternalID", got, m)
		got, err = s.LastMessage(ctx(t), m.InteractionID)
		must(t, err)
		sameFields(t, "LastMessage", got, m)

		next := full[workspace.Message](f)
		next.ID, next.InteractionID, next.Version, next.Outbox = m.ID, m.InteractionID, m.Version, nil
		next.Delivery = workspace.DeliveryPending // so DueMessages reads it too
		must(t, s.UpdateMessage(ctx(t), next))
		list, err := s.Messages(ctx(t), m.InteractionID, "", 10)
		sameFields(t, "Messages after UpdateMessage", one(t, "Messages", list, err), next)
		due, err := s.DueMessages(ctx(t), next.NextAttemptAt, 10)
		sameFields(t, "DueMessages", one(t, "DueMessages", due, err), next)
	})
}
