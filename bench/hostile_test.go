package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
)

// BenchmarkHostileRequests measures the CPU the costliest request shapes issue 10 found cost
// the node now, anonymous and with a CRM key, against a floor measured in the same run: the
// CPU of the smallest request, `{ __typename }`. CPU is the process's user+system time
// (getrusage), so it counts the server's work whatever the scheduler does; the client runs
// in the same process, and its share is in the floor too. Each request names its operation
// afresh, so no cache of parsed or judged queries answers for it. Run with -benchtime=1x.
func BenchmarkHostileRequests(b *testing.B) {
	m := startNode(b)
	defer m.Close()
	client := &http.Client{}
	post := func(token string, body []byte) error {
		req, _ := http.NewRequest(http.MethodPost, m.URL()+"/query", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		return res.Body.Close()
	}
	// Each shape is a format whose %[1]s is a fresh operation name.
	query := func(q string) func(string) []byte {
		return func(op string) []byte {
			body, _ := json.Marshal(map[string]string{"query": fmt.Sprintf(q, op)})
			return body
		}
	}
	bomb := func(levels int) func(string) []byte {
		var q strings.Builder
		q.WriteString("query %[1]s { ...F0 }")
		for i := range levels {
			fmt.Fprintf(&q, " fragment F%d on Query { ...F%d ...F%d }", i, i+1, i+1)
		}
		fmt.Fprintf(&q, " fragment F%d on Query { __typename }", levels)
		return query(q.String())
	}
	mib := int(m.Config.MaxBodyBytes) - 100
	variables := func(op string) []byte {
		return []byte(`{"query":"query ` + op + `($v: [Int]) { __typename }","variables":{"v":[` + strings.Repeat("0,", mib/2-50) + `0]}}`)
	}
	shapes := []struct {
		name, token string
		body        func(op string) []byte
	}{
		{"floor: { __typename }", "", query("query %[1]s { __typename }")},
		{"fragment bomb, 24 levels (finding 3)", "", bomb(24)},
		{"5,000 __typename (finding 4)", "", query("query %[1]s {" + strings.Repeat(" __typename", 5000) + " }")},
		{"800 __typename, the field cap", "", query("query %[1]s {" + strings.Repeat(" __typename", 800) + " }")},
		{"28 x me { 27 x __typename }, anonymous", "", query("query %[1]s {" + strings.Repeat(" me {"+strings.Repeat(" __typename", 27)+" }", 28) + " }")},
		{"30 aliased logins", "", query("mutation %[1]s {" + strings.Repeat(` l: login(input:{username:"x", password:"y"}) { token }`, 30) + " }")},
		{"1 MiB of small variables, anonymous (413)", "", variables},
		{"1 MiB of small variables, CRM key", workspace.DemoAPIKey, variables},
	}
	const n, warm = 30, 3
	results := make([]Samples, len(shapes))
	for i, s := range shapes {
		for j := range n + warm {
			body := s.body(fmt.Sprintf("Q%d_%d", i, j))
			before := cpu()
			if err := post(s.token, body); err != nil {
				b.Fatal(err)
			}
			if j >= warm {
				results[i] = append(results[i], cpu()-before)
			}
		}
	}
	w := os.Stdout
	fmt.Fprintf(w, "\nCPU per hostile request on sqlite (%d samples each)\n", n)
	for i, s := range shapes {
		Row(w, s.name, results[i])
	}
	for i := 1; i < len(shapes); i++ {
		Ratio(w, shapes[i].name+" / floor", results[i], results[0])
	}
}

// cpu is the process's user and system CPU time so far.
func cpu() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
