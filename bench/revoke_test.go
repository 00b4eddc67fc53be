package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
	"github.com/coder/websocket"
)

// BenchmarkRevocation measures what issue 10's websocket hardening costs and delivers, on the
// embedded store:
//   - revocation latency: `logout` sent over HTTP until the close frame (4403) arrives on a
//     websocket of that session, against a floor of the store calls logout makes (delete the
//     session, read and write the agent), one loopback HTTP request and one websocket
//     ping → pong;
//   - an operation on a socket, which now authenticates afresh, against the same query over
//     HTTP (which always did).
//
// Run with -benchtime=1x.
func BenchmarkRevocation(b *testing.B) {
	m := startNode(b)
	defer m.Close()
	ctx := b.Context()
	c := newClient(m)
	alice, err := m.Store.AgentByUsername(ctx, "alice")
	if err != nil {
		b.Fatal(err)
	}
	const n, warm = 300, 30

	// Each sample: a fresh session with its socket, then logout and wait for the close.
	var logout Samples
	for i := range n + warm {
		token, _ := login(b, m)
		ws, err := openWS(ctx, m, token)
		if err != nil {
			b.Fatal(err)
		}
		closed := make(chan error, 1)
		go func() {
			for {
				if _, _, err := ws.conn.Read(ctx); err != nil {
					closed <- err
					return
				}
			}
		}()
		start := time.Now()
		var out struct{ Logout bool }
		if err := c.do(ctx, token, `mutation { logout }`, nil, &out); err != nil || !out.Logout {
			b.Fatalf("logout: %v %+v", err, out)
		}
		select {
		case err := <-closed:
			if websocket.CloseStatus(err) != 4403 {
				b.Fatalf("the socket closed with %v", err)
			}
		case <-time.After(10 * time.Second):
			b.Fatal("the socket stayed open after logout")
		}
		if i >= warm {
			logout = append(logout, time.Since(start))
		}
		ws.close()
	}

	// The floor, measured in the same run.
	token, _ := login(b, m)
	ws, err := openWS(ctx, m, token)
	if err != nil {
		b.Fatal(err)
	}
	defer ws.close()
	var store, loopback, ping Samples
	for i := range n + warm {
		hash := fmt.Sprintf("bench-%d", i)
		if err := m.Store.CreateSession(ctx, &workspace.Session{TokenHash: hash, AgentID: alice.ID, CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := m.Store.DeleteSession(ctx, hash); err != nil {
			b.Fatal(err)
		}
		a, err := m.Store.Agent(ctx, alice.ID)
		if err != nil {
			b.Fatal(err)
		}
		if err := m.Store.UpdateAgent(ctx, a); err != nil {
			b.Fatal(err)
		}
		storeTook := time.Since(start)
		start = time.Now()
		res, err := http.Get(m.URL() + "/healthz")
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		loopTook := time.Since(start)
		start = time.Now()
		if err := ws.ping(ctx); err != nil {
			b.Fatal(err)
		}
		if i >= warm {
			store, loopback, ping = append(store, storeTook), append(loopback, loopTook), append(ping, time.Since(start))
		}
	}
	floor := Sum(store, loopback, ping)

	// An operation on the socket against the same over HTTP.
	if err := ws.subscribe(ctx, "warm", `{ me { id } }`, nil); err != nil {
		b.Fatal(err)
	}
	if _, err := untilComplete(ctx, ws, "warm"); err != nil {
		b.Fatal(err)
	}
	seq := 0
	overWS, err := Measure(warm, n, func() error {
		seq++
		id := fmt.Sprint("me-", seq)
		if err := ws.subscribe(ctx, id, `{ me { id name presence } }`, nil); err != nil {
			return err
		}
		data, err := untilComplete(ctx, ws, id)
		if err == nil && !bytes.Contains(data, []byte(alice.ID)) {
			err = fmt.Errorf("me over the socket: %s", data)
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	overHTTP, err := Measure(warm, n, func() error {
		var out struct{ Me struct{ ID string } }
		if err := c.do(ctx, token, `{ me { id name presence } }`, nil, &out); err != nil || out.Me.ID != alice.ID {
			return fmt.Errorf("me over HTTP: %v %+v", err, out)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}

	w := os.Stdout
	fmt.Fprintf(w, "\nrevocation on sqlite (%d samples each)\n", n)
	Row(w, "logout over HTTP → 4403 on the session's socket", logout)
	Row(w, "store: delete session, read and write agent", store)
	Row(w, "loopback HTTP: GET /healthz", loopback)
	Row(w, "websocket round trip: ping → pong", ping)
	Row(w, "floor = logout's store calls + 1 request + 1 ping", floor)
	Ratio(w, "revocation / floor", logout, floor)
	Row(w, "me over the socket (re-authenticated)", overWS)
	Row(w, "me over HTTP", overHTTP)
	Ratio(w, "socket / HTTP", overWS, overHTTP)
	b.ReportMetric(float64(logout.Percentile(50).Microseconds()), "revoke-p50-µs")
	b.ReportMetric(float64(logout.Percentile(99).Microseconds()), "revoke-p99-µs")
	b.ReportMetric(float64(logout.Percentile(50))/float64(floor.Percentile(50)), "x-floor-p50")
}

// untilComplete reads the socket until the operation completes and returns its last payload.
func untilComplete(ctx context.Context, ws *wsConn, id string) (json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var last json.RawMessage
	for {
		msg, err := ws.next(ctx)
		if err != nil {
			return nil, err
		}
		if msg.ID != id {
			continue
		}
		switch msg.Type {
		case "next":
			last = msg.Payload
		case "complete":
			return last, nil
		case "error":
			return nil, errors.New(string(msg.Payload))
		}
	}
}
