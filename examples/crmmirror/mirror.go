// Package crmmirror is a sample CRM mirror of agentdesk (issue 18): it keeps an exact copy
// of every interaction's state and transcript with an API key. It syncs everything once by
// cursor, then applies webhook deliveries (verifying their signatures and deduplicating on
// the event ID) by re-reading the interaction they name, and reconciles by updatedAfter to
// catch anything a dropped delivery missed. It uses the standard library only; cmd/crmmirror
// runs it as a program.
package crmmirror

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Interaction is the mirror's copy of one interaction.
type Interaction struct {
	ID        string   `json:"id"`
	State     string   `json:"state"`
	UpdatedAt string   `json:"updatedAt"`
	Notes     *string  `json:"notes"`
	AgentID   string   `json:"agentId"`
	Codes     []string `json:"codes"`
	Messages  []Message
}

// Message is one line of a copied transcript.
type Message struct {
	ID, From, Text string
}

// Mirror holds the copy.
type Mirror struct {
	// API is agentdesk's /query URL; Key a CRM API key; Secret the webhook's secret.
	API, Key, Secret string
	Client           *http.Client

	mu   sync.Mutex
	copy map[string]*Interaction
	seen map[string]bool // event IDs applied
}

// New returns an empty mirror.
func New(api, key, secret string) *Mirror {
	return &Mirror{API: api, Key: key, Secret: secret, Client: http.DefaultClient, copy: map[string]*Interaction{}, seen: map[string]bool{}}
}

// Copy returns the mirror's copy of every interaction, by ID.
func (m *Mirror) Copy() map[string]Interaction {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]Interaction, len(m.copy))
	for id, ix := range m.copy {
		out[id] = *ix
	}
	return out
}

// query posts a GraphQL query and decodes its data into out.
func (m *Mirror) query(ctx context.Context, q string, vars map[string]any, out any) error {
	body, _ := json.Marshal(map[string]any{"query": q, "variables": vars})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.API, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+m.Key)
	res, err := m.Client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	var r struct {
		Data   json.RawMessage
		Errors []struct{ Message string }
	}
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil {
		return err
	}
	if len(r.Errors) > 0 {
		return errors.New(r.Errors[0].Message)
	}
	return json.Unmarshal(r.Data, out)
}

// Read is the query the mirror copies an interaction with; tests compare against it.
const Read = `query($id: ID!, $after: String) { interaction(id: $id) { id state updatedAt notes agent { id } dispositions { code }
	transcript(first: 100, after: $after) { pageInfo { hasNextPage endCursor } edges { node { id from text } } } } }`

// Fetch reads one interaction and its whole transcript from the API.
func (m *Mirror) Fetch(ctx context.Context, id string) (*Interaction, error) {
	var ix *Interaction
	var after any
	for {
		var data struct {
			Interaction struct {
				Interaction
				Agent        *struct{ ID string }
				Dispositions []struct{ Code string }
				Transcript   struct {
					PageInfo struct {
						HasNextPage bool
						EndCursor   string
					}
					Edges []struct{ Node Message }
				}
			}
		}
		if err := m.query(ctx, Read, map[string]any{"id": id, "after": after}, &data); err != nil {
			return nil, err
		}
		got := data.Interaction
		if ix == nil {
			ix = &got.Interaction
			ix.Codes = []string{}
			for _, d := range got.Dispositions {
				ix.Codes = append(ix.Codes, d.Code)
			}
			if got.Agent != nil {
				ix.AgentID = got.Agent.ID
			}
		}
		for _, e := range got.Transcript.Edges {
			ix.Messages = append(ix.Messages, e.Node)
		}
		if !got.Transcript.PageInfo.HasNextPage {
			return ix, nil
		}
		after = got.Transcript.PageInfo.EndCursor
	}
}

// refresh copies one interaction afresh, unless the copy is newer (a slower refresh that
// read it earlier must not overwrite a faster one's).
func (m *Mirror) refresh(ctx context.Context, id string) error {
	ix, err := m.Fetch(ctx, id)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if old := m.copy[id]; old == nil || !changedAt(ix).Before(changedAt(old)) {
		m.copy[id] = ix
	}
	return nil
}

// changedAt parses an interaction's updatedAt (RFC 3339; compare times, not strings:
// "10:00:00.48Z" is later than "10:00:00.481Z" as text).
func changedAt(ix *Interaction) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, ix.UpdatedAt)
	return t
}

// Sync copies every interaction (updatedAfter nil: the initial sync, in creation order) or
// every one changed at or after updatedAfter (the reconciliation, in updatedAt order).
func (m *Mirror) Sync(ctx context.Context, updatedAfter *time.Time) error {
	filter := map[string]any{}
	if updatedAfter != nil {
		filter["updatedAfter"] = updatedAfter.UTC().Format(time.RFC3339Nano)
	}
	var after any
	for {
		var data struct {
			Interactions struct {
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
				Edges []struct{ Node struct{ ID string } }
			}
		}
		if err := m.query(ctx, `query($f: InteractionFilter, $a: String) { interactions(filter: $f, first: 100, after: $a) {
			pageInfo { hasNextPage endCursor } edges { node { id } } } }`, map[string]any{"f": filter, "a": after}, &data); err != nil {
			return err
		}
		for _, e := range data.Interactions.Edges {
			if err := m.refresh(ctx, e.Node.ID); err != nil {
				return err
			}
		}
		if !data.Interactions.PageInfo.HasNextPage {
			return nil
		}
		after = data.Interactions.PageInfo.EndCursor
	}
}

// Verify checks an X-Agentdesk-Signature header: t=<unix seconds>,v1=<hex HMAC-SHA256 of
// "<t>.<body>" under the secret>, made within five minutes of now.
func Verify(secret, header string, body []byte, now time.Time) bool {
	var t, v1 string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			t = v
		case "v1":
			v1 = v
		}
	}
	sec, err := strconv.ParseInt(t, 10, 64)
	if err != nil || math.Abs(now.Sub(time.Unix(sec, 0)).Seconds()) > 300 {
		return false
	}
	got, err := hex.DecodeString(v1)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(t + "."))
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// ServeHTTP receives webhook deliveries: it refuses a bad signature, applies each event once
// (by re-reading its interaction) and answers 204; a failed re-read answers 503, so the
// delivery is retried.
func (m *Mirror) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || !Verify(m.Secret, r.Header.Get("X-Agentdesk-Signature"), body, time.Now()) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var event struct {
		ID          string
		Interaction struct{ ID string }
	}
	if json.Unmarshal(body, &event) != nil || event.ID == "" {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	m.mu.Lock()
	done := m.seen[event.ID]
	m.mu.Unlock()
	if !done {
		if err := m.refresh(r.Context(), event.Interaction.ID); err != nil {
			http.Error(w, fmt.Sprint("refresh: ", err), http.StatusServiceUnavailable)
			return
		}
		m.mu.Lock()
		m.seen[event.ID] = true
		m.mu.Unlock()
	}
	w.WriteHeader(http.StatusNoContent)
}
