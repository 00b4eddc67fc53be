// Package clamdtest runs Debian's real clamd for a test, offline: a child process with its
// own configuration, listening on a free loopback port, whose only signatures are custom ones
// written here (EICAR by its MD5, and a marker that matches anywhere in a file). No freshclam,
// no official databases, nothing from systemd.
//
// clamd is installed by `make clamav` (Debian's clamav-daemon). When it is missing, Start
// fails the test, naming that target: a skipped test would hide a missing feature. Set
// AGENTDESK_NO_CLAMD=1 to skip those tests instead.
package clamdtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/agentdesk/agentdesk/clamd"
)

// EICAR is the 68-byte EICAR anti-malware test file. It is built from two parts so that this
// source file is not itself flagged by scanners.
var EICAR = []byte(`X5O!P%@AP[4\PZX54(P^)7CC)7}$` + `EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`)

// EICARSignature is the name the custom database gives EICAR.
const EICARSignature = "Eicar-Test-Signature"

// Marker is a byte string that the second custom signature, MarkerSignature, finds anywhere
// in a file, at any offset: unlike EICAR, which ClamAV recognises only at the very start of a
// file of at most 128 bytes.
var Marker = []byte("agentdesk-test-malware-marker-" + "7f3c1e")

// MarkerSignature is the name of the signature that finds Marker.
const MarkerSignature = "Agentdesk-Test-Marker"

// Options configure a clamd. The zero value is the default.
type Options struct {
	// StreamMaxLength is clamd's limit on an INSTREAM file, in clamd.conf's syntax (default
	// "30M": above the 25 MB attachment limit).
	StreamMaxLength string
}

// Server is one running clamd.
type Server struct {
	// Addr is where it listens, 127.0.0.1:port.
	Addr string
	dir  string
	cmd  *exec.Cmd
	out  *syncBuffer
	once sync.Once
	done chan struct{}
}

// Binary is where Debian installs clamd. Find looks at $CLAMD first, then here, then $PATH.
var Binary = "/usr/sbin/clamd"

// Find returns the path of clamd, or "" if it is not installed.
func Find() string {
	for _, p := range []string{os.Getenv("CLAMD"), Binary} {
		if p == "" {
			continue
		}
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	if p, err := exec.LookPath("clamd"); err == nil {
		return p
	}
	return ""
}

// Start runs a clamd for t and stops it when t ends. See the package comment for what
// happens when clamd is not installed.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if os.Getenv("AGENTDESK_NO_CLAMD") == "1" {
		t.Skip("AGENTDESK_NO_CLAMD=1: not running the tests that need Debian's clamd")
	}
	bin := Find()
	if bin == "" {
		t.Fatalf("clamd is not installed (looked for $CLAMD, %s and clamd on $PATH): run `make clamav` "+
			"to install Debian's clamav-daemon, or set AGENTDESK_NO_CLAMD=1 to skip the tests that need it", Binary)
	}
	if opts.StreamMaxLength == "" {
		opts.StreamMaxLength = "30M"
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "db")
	if err := os.Mkdir(db, 0o755); err != nil {
		t.Fatal(err)
	}
	// .hdb: MD5:size:name, EICAR's 68 bytes exactly. .ndb: name:target type (0, any
	// file):offset:hex; EICAR at offset 0 also catches the file with trailing whitespace (a
	// newline that an editor or a channel added), which the MD5 alone misses.
	write(t, filepath.Join(db, "agentdesk-test.hdb"), "44d88612fea8a8f36de82e1278abb02f:68:"+EICARSignature+"\n")
	write(t, filepath.Join(db, "agentdesk-test.ndb"), fmt.Sprintf("%s:0:0:%x\n%s:0:*:%x\n",
		EICARSignature, EICAR, MarkerSignature, Marker))

	// A free port can be taken by someone else between finding and binding it: try again.
	var lastErr error
	for range 3 {
		s, err := start(t, bin, dir, db, opts)
		if err == nil {
			return s
		}
		lastErr = err
	}
	t.Fatalf("clamd did not start: %v", lastErr)
	return nil
}

func start(t testing.TB, bin, dir, db string, opts Options) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "clamd.conf")
	write(t, conf, fmt.Sprintf(`# written by clamdtest
Foreground yes
TCPSocket %d
TCPAddr 127.0.0.1
DatabaseDirectory %s
TemporaryDirectory %s
StreamMaxLength %s
MaxThreads 4
LogTime yes
LogVerbose no
SelfCheck 0
`, port, db, dir, opts.StreamMaxLength))
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), dir: dir, out: &syncBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(bin, "--foreground", "--config-file="+conf)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	// Never outlive the test binary, even one killed by its -timeout. (Pdeathsig follows the
	// thread that started the child; Go ends threads only under runtime.LockOSThread.)
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", bin, err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(s.Stop)

	client := clamd.New(s.Addr)
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := client.Ping(ctx)
		cancel()
		if err == nil {
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("clamd exited (%v); its output:\n%s", s.cmd.ProcessState, s.out.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("clamd did not answer PING within 60s (%v); its output:\n%s", err, s.out.String())
		}
	}
}

// Client returns a client for this clamd.
func (s *Server) Client() *clamd.Client { return clamd.New(s.Addr) }

// Output is what clamd has logged so far.
func (s *Server) Output() string { return s.out.String() }

// Stop stops clamd (SIGTERM, then SIGKILL after 10 s) and waits for it to exit. It may be
// called more than once.
func (s *Server) Stop() {
	s.once.Do(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func write(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
