package emailtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// DovecotBinary is where Debian's dovecot-imapd puts the server (make mailtools installs it).
var DovecotBinary = "/usr/sbin/dovecot"

// Dovecot is Debian's dovecot serving IMAP on loopback from a temp folder, with one user
// whose password is Password: the mailbox an IMAP poller polls in the tests.
type Dovecot struct {
	Addr     string
	User     string
	Password string
	dir      string
	conf     string
	cmd      *exec.Cmd
	t        testing.TB
}

// StartDovecot runs dovecot for the test, or skips it when the binary is absent (make test
// installs it first, through make mailtools).
func StartDovecot(t testing.TB) *Dovecot {
	t.Helper()
	if _, err := os.Stat(DovecotBinary); err != nil {
		t.Skipf("dovecot is not installed at %s: run 'make mailtools' (apt-get install dovecot-imapd)", DovecotBinary)
	}
	dir, err := os.MkdirTemp("", "dovecot")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// The mail processes run as an unprivileged user when the test runs as root: the folder
	// must be theirs to use.
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	d := &Dovecot{Addr: fmt.Sprintf("127.0.0.1:%d", port), User: "support", Password: "imap-secret", dir: dir, t: t,
		conf: filepath.Join(dir, "dovecot.conf")}
	mailUID, mailGID, loginUser, internalUser := os.Getuid(), os.Getgid(), "", ""
	if me, err := user.Current(); err == nil {
		loginUser, internalUser = me.Username, me.Username
	}
	if os.Getuid() == 0 {
		loginUser, internalUser = "dovenull", "dovecot"
		if u, err := user.Lookup("dovecot"); err == nil {
			fmt.Sscan(u.Uid, &mailUID)
			fmt.Sscan(u.Gid, &mailGID)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "passwd"), []byte(d.User+":{PLAIN}"+d.Password+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := `base_dir = ` + dir + `/run
state_dir = ` + dir + `/state
log_path = ` + dir + `/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
first_valid_gid = 1
default_login_user = ` + loginUser + `
default_internal_user = ` + internalUser + `
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ` + dir + `/passwd
}
userdb {
  driver = static
  args = uid=` + fmt.Sprint(mailUID) + ` gid=` + fmt.Sprint(mailGID) + ` home=` + dir + `/home/%u
}
mail_location = maildir:~/Maildir
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ` + fmt.Sprint(port) + `
  }
  inet_listener imaps {
    port = 0
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0666
  }
  unix_listener stats-writer {
    mode = 0666
  }
}
`
	if err := os.WriteFile(d.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"run", "state", "home"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o777); err != nil {
			t.Fatal(err)
		}
		_ = os.Chmod(filepath.Join(dir, sub), 0o777)
	}
	d.Start()
	t.Cleanup(d.Stop)
	return d
}

// Start runs dovecot (again) and waits until it takes connections.
func (d *Dovecot) Start() {
	d.t.Helper()
	d.cmd = exec.Command(DovecotBinary, "-F", "-c", d.conf)
	d.cmd.Stdout, d.cmd.Stderr = os.Stderr, os.Stderr
	if err := d.cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("tcp", d.Addr)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(d.dir, "dovecot.log"))
			d.t.Fatalf("dovecot did not listen on %s: %v\n%s", d.Addr, err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop ends dovecot and its processes.
func (d *Dovecot) Stop() {
	if d.cmd == nil || d.cmd.Process == nil {
		return
	}
	_ = d.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = d.cmd.Process.Kill()
		<-done
	}
	d.cmd = nil
	// dovecot's master ends its children; wait until the port is free again.
	for range 100 {
		c, err := net.Dial("tcp", d.Addr)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(50 * time.Millisecond)
	}
}

// Deliver drops a message into the user's INBOX as a local delivery agent would (a maildir
// file in new/), whether or not dovecot runs.
func (d *Dovecot) Deliver(raw string) {
	d.t.Helper()
	dir := filepath.Join(d.dir, "home", d.User, "Maildir")
	for _, sub := range []string{"new", "cur", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o777); err != nil {
			d.t.Fatal(err)
		}
		_ = os.Chmod(filepath.Join(dir, sub), 0o777)
	}
	_ = os.Chmod(filepath.Join(d.dir, "home", d.User), 0o777)
	_ = os.Chmod(dir, 0o777)
	name := fmt.Sprintf("%d.%d.agentdesk-test", time.Now().UnixNano(), os.Getpid())
	tmp := filepath.Join(dir, "tmp", name)
	if err := os.WriteFile(tmp, []byte(strings.ReplaceAll(raw, "\r\n", "\n")), 0o666); err != nil {
		d.t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "new", name)); err != nil {
		d.t.Fatal(err)
	}
}

// Host and Port of the server, for an identity's imap settings.
func (d *Dovecot) Host() string { h, _, _ := net.SplitHostPort(d.Addr); return h }
func (d *Dovecot) Port() string { _, p, _ := net.SplitHostPort(d.Addr); return p }
