package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"testing"

	"github.com/agentdesk/agentdesk/mongo/mongotest"
	"github.com/agentdesk/agentdesk/server"
	"github.com/agentdesk/agentdesk/workspace"
)

// BenchmarkMe measures `{ me { id name presence } }` over loopback HTTP against its floor:
// the two store reads it needs (session by token hash, agent by ID) plus one loopback HTTP
// request (GET /healthz), all on the same store in the same run. Run with -benchtime=1x.
func BenchmarkMe(b *testing.B) {
	for _, store := range []string{"sqlite", "mongo-test-engine"} {
		b.Run(store, func(b *testing.B) {
			cfg, err := server.ParseConfig([]string{"-addr", "127.0.0.1:0", "-metrics-addr", "127.0.0.1:0", "-data", b.TempDir(), "-demo"}, func(string) string { return "" }, io.Discard)
			if err != nil {
				b.Fatal(err)
			}
			if store != "sqlite" {
				cfg.MongoURI = mongotest.Start(b)
			}
			m := server.NewMain(cfg)
			m.Stdout = io.Discard
			if err := m.Run(b.Context()); err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			token, agentID := login(b, m)
			tokenHash := workspace.HashToken(token)

			n, warm := 2000, 200
			if store != "sqlite" {
				n, warm = 500, 50 // the test engine scans whole collections on every filter
			}
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			body, _ := json.Marshal(map[string]string{"query": `{ me { id name presence } }`})
			me, err := Measure(warm, n, func() error {
				req, _ := http.NewRequest(http.MethodPost, m.URL()+"/query", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+token)
				res, err := client.Do(req)
				if err != nil {
					return err
				}
				defer res.Body.Close()
				raw, _ := io.ReadAll(res.Body)
				if res.StatusCode != 200 || !bytes.Contains(raw, []byte(agentID)) {
					return fmt.Errorf("me: %d %s", res.StatusCode, raw)
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			ctx := b.Context()
			session, err := Measure(warm, n, func() error { _, err := m.Store.Session(ctx, tokenHash); return err })
			if err != nil {
				b.Fatal(err)
			}
			agent, err := Measure(warm, n, func() error { _, err := m.Store.Agent(ctx, agentID); return err })
			if err != nil {
				b.Fatal(err)
			}
			healthz, err := Measure(warm, n, func() error {
				res, err := client.Get(m.URL() + "/healthz")
				if err != nil {
					return err
				}
				_, _ = io.Copy(io.Discard, res.Body)
				return res.Body.Close()
			})
			if err != nil {
				b.Fatal(err)
			}
			floor := Sum(session, agent, healthz)
			w := os.Stdout
			fmt.Fprintf(w, "\nme query on %s (%d samples each)\n", store, n)
			Row(w, "me over HTTP", me)
			Row(w, "store read: session by token hash", session)
			Row(w, "store read: agent by id", agent)
			Row(w, "loopback HTTP: GET /healthz", healthz)
			Row(w, "floor = 2 store reads + 1 loopback request", floor)
			Ratio(w, "me / one store read", me, agent)
			Ratio(w, "me / floor", me, floor)
			b.ReportMetric(float64(me.Percentile(50).Microseconds()), "me-p50-µs")
			b.ReportMetric(float64(me.Percentile(99).Microseconds()), "me-p99-µs")
			b.ReportMetric(float64(me.Percentile(50))/float64(floor.Percentile(50)), "x-floor-p50")
		})
	}
}

func login(b *testing.B, m *server.Main) (token, agentID string) {
	body := []byte(`{"query":"mutation { login(input:{username:\"alice\", password:\"demo\"}) { token agent { id } } }"}`)
	res, err := http.Post(m.URL()+"/query", "application/json", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Data struct {
			Login struct {
				Token string
				Agent struct{ ID string }
			}
		}
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || out.Data.Login.Token == "" {
		b.Fatalf("login: %v %+v", err, out)
	}
	return out.Data.Login.Token, out.Data.Login.Agent.ID
}
