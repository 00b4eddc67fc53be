package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
	"github.com/google/uuid"
)

// newDraft is a clean draft an agent uploaded, expiring at expires.
func newDraft(id string, expires time.Time) *workspace.Attachment {
	return &workspace.Attachment{
		ID: id, UploadedBy: workspace.PartyAgent, UploaderID: "agent-1",
		FileName: "invoice " + id + ".pdf", ContentType: "application/pdf", Size: 12345,
		SHA256:  "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		BlobKey: "attachments/" + id, Scan: workspace.ScanClean,
		CreatedAt: expires.Add(-24 * time.Hour), ExpiresAt: expires,
	}
}

// newSent is a file sent with a message.
func newSent(id, interactionID, messageID string) *workspace.Attachment {
	a := newDraft(id, time.Time{})
	a.CreatedAt = now().Add(-time.Minute)
	a.UploadedBy, a.UploaderID = workspace.PartyContact, interactionID
	a.InteractionID, a.MessageID = interactionID, messageID
	return a
}

// attachmentIDs lists the IDs, as "[a b c]".
func attachmentIDs(list []*workspace.Attachment) string {
	ids := make([]string, len(list))
	for i, a := range list {
		ids[i] = a.ID
	}
	return fmt.Sprint(ids)
}

// testAttachments covers create, read, the version guard, a draft being sent and delete.
func testAttachments(t *testing.T, s workspace.Store) {
	expires := now().Add(time.Hour)
	draft := newDraft("att-1", expires)
	must(t, s.CreateAttachment(ctx(t), draft))
	got, err := s.Attachment(ctx(t), "att-1")
	must(t, err)
	sameFields(t, "Attachment", got, draft)

	// A taken ID is CONFLICT and changes nothing.
	dup := newSent("att-1", "ix-1", "m-1")
	dup.FileName = "other.png"
	wantCode(t, s.CreateAttachment(ctx(t), dup), workspace.ECONFLICT)
	got, err = s.Attachment(ctx(t), "att-1")
	must(t, err)
	sameFields(t, "Attachment after a colliding create", got, draft)
	_, err = s.Attachment(ctx(t), "att-9")
	wantCode(t, err, workspace.ENOTFOUND)

	// An INFECTED file stays a record with its signature.
	infected := newDraft("att-2", expires)
	infected.Scan, infected.Signature = workspace.ScanInfected, "Eicar-Test-Signature"
	must(t, s.CreateAttachment(ctx(t), infected))
	got, err = s.Attachment(ctx(t), "att-2")
	must(t, err)
	sameFields(t, "infected Attachment", got, infected)

	// The scan finishes: the version guard lets one writer through.
	draft.Scan = workspace.ScanPending
	stale := *draft
	draft.Scan = workspace.ScanClean
	must(t, s.UpdateAttachment(ctx(t), draft))
	if draft.Version != stale.Version+1 {
		t.Fatalf("version after update = %d, want %d", draft.Version, stale.Version+1)
	}
	got, err = s.Attachment(ctx(t), "att-1")
	must(t, err)
	sameFields(t, "Attachment after update", got, draft)
	stale.Scan, stale.Signature = workspace.ScanInfected, "late"
	wantCode(t, s.UpdateAttachment(ctx(t), &stale), workspace.ECONFLICT)
	if stale.Version != draft.Version-1 {
		t.Fatalf("a refused update changed the caller's version to %d", stale.Version)
	}
	got, err = s.Attachment(ctx(t), "att-1")
	must(t, err)
	sameFields(t, "Attachment after a stale update", got, draft)
	wantCode(t, s.UpdateAttachment(ctx(t), newDraft("att-9", expires)), workspace.ECONFLICT)
	if _, err := s.Attachment(ctx(t), "att-9"); workspace.ErrorCode(err) != workspace.ENOTFOUND {
		t.Fatalf("an update of a missing attachment created it: %v", err)
	}

	// The draft is sent: it leaves the drafts and joins its message.
	if list, err := s.ExpiredDrafts(ctx(t), expires, 10); err != nil || attachmentIDs(list) != "[att-1 att-2]" {
		t.Fatalf("ExpiredDrafts before sending = %s, %v; want [att-1 att-2]", attachmentIDs(list), err)
	}
	draft.InteractionID, draft.MessageID, draft.ExpiresAt = "ix-1", "m-1", time.Time{}
	must(t, s.UpdateAttachment(ctx(t), draft))
	got, err = s.Attachment(ctx(t), "att-1")
	must(t, err)
	sameFields(t, "Attachment after sending", got, draft)
	if !got.ExpiresAt.IsZero() {
		t.Fatalf("a sent file expires at %v", got.ExpiresAt)
	}
	if list, err := s.ExpiredDrafts(ctx(t), expires.Add(time.Hour), 10); err != nil || attachmentIDs(list) != "[att-2]" {
		t.Fatalf("ExpiredDrafts after sending = %s, %v; want [att-2]", attachmentIDs(list), err)
	}
	list, err := s.MessageAttachments(ctx(t), []string{"m-1"})
	sameFields(t, "MessageAttachments after sending", one(t, "MessageAttachments", list, err), draft)

	// Delete: gone from every read; a second delete, and an update, find nothing.
	must(t, s.DeleteAttachment(ctx(t), "att-1"))
	_, err = s.Attachment(ctx(t), "att-1")
	wantCode(t, err, workspace.ENOTFOUND)
	wantCode(t, s.DeleteAttachment(ctx(t), "att-1"), workspace.ENOTFOUND)
	wantCode(t, s.DeleteAttachment(ctx(t), "att-9"), workspace.ENOTFOUND)
	wantCode(t, s.UpdateAttachment(ctx(t), draft), workspace.ECONFLICT)
	if list, err := s.MessageAttachments(ctx(t), []string{"m-1"}); err != nil || len(list) != 0 {
		t.Fatalf("MessageAttachments after delete = %s, %v; want none", attachmentIDs(list), err)
	}
	// The other record is untouched.
	got, err = s.Attachment(ctx(t), "att-2")
	must(t, err)
	sameFields(t, "the other Attachment after delete", got, infected)
	must(t, s.DeleteAttachment(ctx(t), "att-2"))
	if list, err := s.ExpiredDrafts(ctx(t), expires.Add(time.Hour), 10); err != nil || len(list) != 0 {
		t.Fatalf("ExpiredDrafts after deleting all = %s, %v; want none", attachmentIDs(list), err)
	}
}

// testMessageAttachments reads the files of several messages in one call, by message ID
// then attachment ID, whatever order they were created and asked for in.
func testMessageAttachments(t *testing.T, s workspace.Store) {
	// Message IDs sort m-a < m-b < m-c < m-d; attachment IDs are created out of order.
	created := map[string]*workspace.Attachment{}
	for _, c := range []struct{ id, message string }{
		{"f-3", "m-b"}, {"f-7", "m-a"}, {"f-1", "m-c"}, {"f-5", "m-b"}, {"f-2", "m-a"},
		{"f-4", "m-b"}, {"f-6", "m-c"}, {"f-8", "m-d"},
	} {
		a := newSent(c.id, "ix-1", c.message)
		must(t, s.CreateAttachment(ctx(t), a))
		created[c.id] = a
	}
	// Drafts have no message: no list of messages finds them.
	must(t, s.CreateAttachment(ctx(t), newDraft("f-0", now().Add(time.Hour))))
	must(t, s.CreateAttachment(ctx(t), newDraft("f-9", now().Add(-time.Hour))))

	files := func(ids ...string) string {
		t.Helper()
		list, err := s.MessageAttachments(ctx(t), ids)
		must(t, err)
		var out []string
		for _, a := range list {
			out = append(out, a.MessageID+"/"+a.ID)
		}
		return strings.Join(out, " ")
	}
	for _, c := range []struct {
		ids  []string
		want string
	}{
		{[]string{"m-a", "m-b", "m-c"}, "m-a/f-2 m-a/f-7 m-b/f-3 m-b/f-4 m-b/f-5 m-c/f-1 m-c/f-6"},
		// The order asked in does not matter, nor repeats, nor messages without files.
		{[]string{"m-c", "m-x", "m-a", "m-c"}, "m-a/f-2 m-a/f-7 m-c/f-1 m-c/f-6"},
		{[]string{"m-d", "m-b"}, "m-b/f-3 m-b/f-4 m-b/f-5 m-d/f-8"},
		{[]string{"m-b"}, "m-b/f-3 m-b/f-4 m-b/f-5"},
		{[]string{"m-x"}, ""},
		// A draft's empty message ID is no message's.
		{[]string{""}, ""},
		{[]string{"", "m-d"}, "m-d/f-8"},
		{[]string{}, ""},
		{nil, ""},
	} {
		if got := files(c.ids...); got != c.want {
			t.Errorf("MessageAttachments(%q) = %s, want %s", c.ids, got, c.want)
		}
	}
	if list, err := s.MessageAttachments(ctx(t), nil); err != nil || len(list) != 0 {
		t.Fatalf("MessageAttachments(nil) = %s, %v; want none and no error", attachmentIDs(list), err)
	}

	// A transcript page is one call, however many messages it has.
	page := []string{"m-d"}
	for i := range 1500 {
		page = append(page, fmt.Sprintf("m-page-%04d", i))
	}
	page = append(page, "m-a")
	if got, want := files(page...), "m-a/f-2 m-a/f-7 m-d/f-8"; got != want {
		t.Fatalf("MessageAttachments of a page of %d messages = %s, want %s", len(page), got, want)
	}

	// The records read whole.
	list, err := s.MessageAttachments(ctx(t), []string{"m-d"})
	sameFields(t, "MessageAttachments", one(t, "MessageAttachments", list, err), created["f-8"])
	list, err = s.MessageAttachments(ctx(t), []string{"m-b", "m-a"})
	must(t, err)
	for _, a := range list {
		sameFields(t, "MessageAttachments "+a.ID, a, created[a.ID])
	}
}

// testExpiredDrafts reads the drafts whose time is up, oldest first, a batch at a time, as
// the sweeper does; sent files are never among them.
func testExpiredDrafts(t *testing.T, s workspace.Store) {
	base := now()
	for _, c := range []struct {
		id  string
		age time.Duration // expired this long before base (negative: later)
	}{
		{"d-5", -time.Minute}, {"d-2", 3 * time.Minute}, {"d-4", 0}, {"d-3", time.Minute},
		{"d-1", 3 * time.Minute}, // the same expiry as d-2: ID order
		{"d-6", time.Millisecond},
	} {
		must(t, s.CreateAttachment(ctx(t), newDraft(c.id, base.Add(-c.age))))
	}
	// Files of messages: one as sent files are (no expiry), one whose expiry was not cleared.
	must(t, s.CreateAttachment(ctx(t), newSent("s-1", "ix-1", "m-1")))
	oddlySent := newSent("s-2", "ix-1", "m-1")
	oddlySent.ExpiresAt = base.Add(-time.Hour)
	must(t, s.CreateAttachment(ctx(t), oddlySent))

	expired := func(at time.Time, limit int) string {
		t.Helper()
		list, err := s.ExpiredDrafts(ctx(t), at, limit)
		must(t, err)
		for _, a := range list {
			if a.MessageID != "" {
				t.Fatalf("ExpiredDrafts returned %s, a file of message %s", a.ID, a.MessageID)
			}
		}
		return attachmentIDs(list)
	}
	for _, c := range []struct {
		at    time.Time
		limit int
		want  string
	}{
		{base, 10, "[d-1 d-2 d-3 d-6 d-4]"}, // d-4 expires at base exactly: included
		{base.Add(-time.Millisecond), 10, "[d-1 d-2 d-3 d-6]"},
		{base, 2, "[d-1 d-2]"},
		{base, 3, "[d-1 d-2 d-3]"},
		{base, 1, "[d-1]"},
		{base.Add(-2 * time.Minute), 10, "[d-1 d-2]"},
		{base.Add(-4 * time.Minute), 10, "[]"},
		{base.Add(time.Hour), 10, "[d-1 d-2 d-3 d-6 d-4 d-5]"},
	} {
		if got := expired(c.at, c.limit); got != c.want {
			t.Errorf("ExpiredDrafts(base%+v, %d) = %s, want %s", c.at.Sub(base), c.limit, got, c.want)
		}
	}

	// The sweeper deletes a batch and reads the next.
	var swept []string
	for {
		list, err := s.ExpiredDrafts(ctx(t), base, 2)
		must(t, err)
		if len(list) > 2 {
			t.Fatalf("ExpiredDrafts returned %d, limit 2", len(list))
		}
		if len(list) == 0 {
			break
		}
		for _, a := range list {
			swept = append(swept, a.ID)
			must(t, s.DeleteAttachment(ctx(t), a.ID))
		}
	}
	if got := fmt.Sprint(swept); got != "[d-1 d-2 d-3 d-6 d-4]" {
		t.Fatalf("swept %s, want [d-1 d-2 d-3 d-6 d-4]", got)
	}
	if got := expired(base.Add(time.Hour), 10); got != "[d-5]" {
		t.Fatalf("ExpiredDrafts after the sweep = %s, want [d-5]", got)
	}
	for _, id := range []string{"s-1", "s-2", "d-5"} {
		if _, err := s.Attachment(ctx(t), id); err != nil {
			t.Fatalf("%s after the sweep: %v", id, err)
		}
	}
	got, err := s.Attachment(ctx(t), "s-2")
	must(t, err)
	sameFields(t, "a sent file with an expiry", got, oddlySent)
}

// testMessageAttachmentIDs stores the files of messages in the order they were attached,
// not sorted, through appends and updates; a message without files reads nil.
func testMessageAttachmentIDs(t *testing.T, s workspace.Store) {
	ix := newInteraction(now())
	must(t, s.CreateInteraction(ctx(t), ix))
	with := &workspace.Message{ID: uuid.Must(uuid.NewV7()).String(), InteractionID: ix.ID, From: workspace.PartyAgent,
		AgentID: "agent-1", Text: "see attached", SentAt: now(), AttachmentIDs: []string{"f-c", "f-a", "f-b"}}
	without := &workspace.Message{ID: uuid.Must(uuid.NewV7()).String(), InteractionID: ix.ID, From: workspace.PartyContact,
		Text: "thanks", SentAt: now()}
	empty := &workspace.Message{ID: uuid.Must(uuid.NewV7()).String(), InteractionID: ix.ID, From: workspace.PartyContact,
		Text: "empty list", SentAt: now(), AttachmentIDs: []string{}}
	must(t, s.AppendMessage(ctx(t), with))
	must(t, s.AppendMessage(ctx(t), without))
	must(t, s.AppendMessage(ctx(t), empty))

	got, err := s.Message(ctx(t), with.ID)
	must(t, err)
	if fmt.Sprint(got.AttachmentIDs) != "[f-c f-a f-b]" {
		t.Fatalf("AttachmentIDs = %v, want [f-c f-a f-b] in the order attached", got.AttachmentIDs)
	}
	sameMessage(t, got, with)
	got, err = s.Message(ctx(t), without.ID)
	must(t, err)
	if got.AttachmentIDs != nil {
		t.Fatalf("a message without files reads AttachmentIDs %#v, want nil", got.AttachmentIDs)
	}
	// An empty list is no files: it may read nil.
	got, err = s.Message(ctx(t), empty.ID)
	must(t, err)
	if len(got.AttachmentIDs) != 0 {
		t.Fatalf("a message with an empty list reads AttachmentIDs %v", got.AttachmentIDs)
	}

	without.AttachmentIDs = []string{"f-z", "f-y"}
	must(t, s.UpdateMessage(ctx(t), without))
	with.AttachmentIDs = nil
	must(t, s.UpdateMessage(ctx(t), with))
	list, err := s.Messages(ctx(t), ix.ID, "", 10)
	must(t, err)
	if len(list) != 3 {
		t.Fatalf("Messages = %d, want 3", len(list))
	}
	sameMessage(t, list[0], with)
	sameMessage(t, list[1], without)
}
