package workspace_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/blobstore"
	"github.com/agentdesk/agentdesk/workspace"
)

// Inbound media in the domain: Receive fetches each file through the adapter's Open and
// stores it with the message; whatever happens to a file, the message is stored, and the
// transcript says what was not kept.

var png = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{1}, 4000)...)

func (e *env) blobs() string {
	e.t.Helper()
	dir := e.t.TempDir()
	b, err := blobstore.OpenFolder(dir)
	if err != nil {
		e.t.Fatal(err)
	}
	e.s.Blobs = b
	return dir
}

func files(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

func medium(name string, body []byte) workspace.InboundMedia {
	return workspace.InboundMedia{FileName: name, Source: "TestProvider", Open: func(context.Context) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(body)), nil
	}}
}

// transcriptOf is the texts of an interaction's messages and the contact message's files.
func (e *env) transcriptOf(id string) (texts []string, files []*workspace.Attachment) {
	e.t.Helper()
	ms, err := e.s.Store.Messages(e.t.Context(), id, "", 100)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, m := range ms {
		texts = append(texts, string(m.From)+": "+m.Text)
		if len(m.AttachmentIDs) > 0 {
			as, err := e.s.Store.MessageAttachments(e.t.Context(), []string{m.ID})
			if err != nil {
				e.t.Fatal(err)
			}
			files = append(files, as...)
		}
	}
	return texts, files
}

type brokenBody struct{ n int }

func (b *brokenBody) Read(p []byte) (int, error) {
	if b.n > 0 {
		n := min(len(p), b.n)
		copy(p, png)
		b.n -= n
		return n, nil
	}
	return 0, errors.New("connection reset by peer")
}
func (*brokenBody) Close() error { return nil }

func TestReceiveMedia(t *testing.T) {
	e := newEnv(t)
	sms, _, _, _ := e.channels()
	dir := e.blobs()
	// Long enough that a file that is there never runs out of time, however loaded the
	// machine: only the slow provider's file below is given a short one.
	e.s.MediaTimeout = time.Minute
	in := func(id string, media ...workspace.InboundMedia) workspace.InboundMessage {
		return workspace.InboundMessage{IdentityID: sms.ID, From: "+447700900777", ProviderMessageID: id, Media: media}
	}

	r, err := e.s.Receive(t.Context(), in("m-1", workspace.InboundMedia{FileName: "photo", Caption: "the label", Open: medium("", png).Open}))
	if err != nil {
		t.Fatal(err)
	}
	texts, got := e.transcriptOf(r.Interaction.ID)
	if len(texts) != 1 || texts[0] != "CONTACT: the label" || len(got) != 1 || got[0].FileName != "photo.png" ||
		got[0].UploadedBy != workspace.PartyContact || got[0].UploaderID != r.Interaction.ID || got[0].MessageID != r.Message.ID {
		t.Fatalf("%q %+v", texts, got)
	}
	ix := r.Interaction.ID

	t.Run("a slow provider, a broken download, no way to fetch: the message stays, with notes", func(t *testing.T) {
		before := files(t, dir)
		// The slow file is fetched first, within 200ms; its Open puts the generous timeout
		// back for the files after it (Receive fetches them one by one on this goroutine),
		// so that only this one runs out of time, even on a loaded machine.
		e.s.MediaTimeout = 200 * time.Millisecond
		slow := workspace.InboundMedia{FileName: "slow.png", Source: "TestProvider", Open: func(ctx context.Context) (io.ReadCloser, error) {
			e.s.MediaTimeout = time.Minute
			<-ctx.Done()
			return nil, ctx.Err()
		}}
		broken := workspace.InboundMedia{FileName: "broken.png", Source: "TestProvider", Open: func(context.Context) (io.ReadCloser, error) {
			return &brokenBody{n: 10000}, nil
		}}
		m := in("m-2", slow, broken, workspace.InboundMedia{FileName: "nothing.png"}, medium("ok.png", png))
		m.Text = "three files"
		if _, err := e.s.Receive(t.Context(), m); err != nil {
			t.Fatal(err)
		}
		texts, got := e.transcriptOf(ix)
		notes := strings.Join(texts[2:], "\n")
		if texts[1] != "CONTACT: three files" || len(got) != 2 || got[1].FileName != "ok.png" ||
			!strings.Contains(notes, "slow.png) that could not be fetched from TestProvider: it did not arrive within 200ms") ||
			!strings.Contains(notes, "broken.png) that could not be fetched from TestProvider: connection reset by peer") ||
			!strings.Contains(notes, "nothing.png) that could not be fetched from the provider") {
			t.Fatalf("%q", texts)
		}
		if after := files(t, dir); after != before+1 {
			t.Fatalf("%d blobs before, %d after: a failed download left bytes behind", before, after)
		}
	})
	t.Run("more files than a message takes", func(t *testing.T) {
		var many []workspace.InboundMedia
		for range workspace.MaxAttachmentsPerMessage + 2 {
			many = append(many, medium("p.png", png))
		}
		r, err := e.s.Receive(t.Context(), in("m-3", many...))
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Message.AttachmentIDs) != workspace.MaxAttachmentsPerMessage || r.Message.Text != "" {
			t.Fatalf("%+v", r.Message)
		}
		texts, _ := e.transcriptOf(ix)
		if !strings.Contains(texts[len(texts)-1], "keeps at most 10") || !strings.Contains(texts[len(texts)-2], "keeps at most 10") {
			t.Fatalf("%q", texts[len(texts)-3:])
		}
	})
	t.Run("the same webhook twice at once: one message, its files once, nothing left over", func(t *testing.T) {
		before := files(t, dir)
		var wg sync.WaitGroup
		gate := make(chan struct{})
		var mu sync.Mutex
		opened := 0
		md := workspace.InboundMedia{FileName: "twice.png", Open: func(context.Context) (io.ReadCloser, error) {
			mu.Lock()
			opened++
			if opened == 2 {
				close(gate)
			}
			mu.Unlock()
			// Both deliveries are past the idempotency check and fetching. The bound only
			// keeps a Receive that never lets a second delivery fetch from hanging the
			// test (it then fails on opened); it is generous, as a loaded machine can take
			// a second or more to bring the second delivery here.
			select {
			case <-gate:
			case <-time.After(30 * time.Second):
			}
			return io.NopCloser(bytes.NewReader(png)), nil
		}}
		results := make([]workspace.Received, 2)
		for i := range 2 {
			wg.Go(func() {
				var err error
				results[i], err = e.s.Receive(t.Context(), in("m-4", md))
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if results[0].Message.ID != results[1].Message.ID || results[0].Duplicate == results[1].Duplicate {
			t.Fatalf("%+v\n%+v", results[0], results[1])
		}
		if after := files(t, dir); after != before+1 {
			texts, got := e.transcriptOf(ix)
			t.Fatalf("%d blobs before, %d after: the duplicate's file was left behind, or the message's was not kept\n%q\n%d files",
				before, after, texts[max(0, len(texts)-3):], len(got))
		}
		if opened != 2 {
			t.Fatalf("opened %d times: the deliveries did not race", opened)
		}
		drafts, err := e.s.Store.ExpiredDrafts(t.Context(), e.clock.Now().Add(100*time.Hour), 100)
		if err != nil || len(drafts) != 0 {
			t.Fatalf("drafts left: %d %v", len(drafts), err)
		}
	})
}
