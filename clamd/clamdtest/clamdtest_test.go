package clamdtest

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// recorder is a testing.TB that records how Start ended.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Skip(args ...any) {
	r.skip = fmt.Sprint(args...)
	runtime.Goexit()
}

func run(t *testing.T) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Start(r, Options{})
	}()
	<-done
	return r
}

// TestMissingClamd: without clamd, Start fails the test and says how to install it; with
// AGENTDESK_NO_CLAMD=1 it skips.
func TestMissingClamd(t *testing.T) {
	old := Binary
	Binary = "/nonexistent/clamd"
	t.Cleanup(func() { Binary = old })
	t.Setenv("CLAMD", "")
	t.Setenv("PATH", t.TempDir())
	t.Setenv("AGENTDESK_NO_CLAMD", "")

	if r := run(t); !strings.Contains(r.fatal, "make clamav") || r.skip != "" {
		t.Fatalf("without clamd: fatal %q, skip %q; want a failure naming make clamav", r.fatal, r.skip)
	}
	t.Setenv("AGENTDESK_NO_CLAMD", "1")
	if r := run(t); r.fatal != "" || !strings.Contains(r.skip, "AGENTDESK_NO_CLAMD=1") {
		t.Fatalf("with AGENTDESK_NO_CLAMD=1: fatal %q, skip %q; want a skip", r.fatal, r.skip)
	}
}
