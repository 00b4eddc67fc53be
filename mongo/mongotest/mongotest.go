// Package mongotest gives tests a MongoDB to talk to: FerretDB (v1.24, SQLite handler), which
// the test starts as a child process on loopback, or the real MongoDB named by MONGODB_URI. Tests in
// any package may import it.
package mongotest

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Start runs a new MongoDB test engine for t, stopped when t ends, and returns a URI naming
// a fresh database on it. The engine (FerretDB v1.24, SQLite handler) runs as a child process
// built from ./ferretdb without the race detector, so that a race-instrumented test binary
// pays for its own code and not the fixture's. The URI sets maxPoolSize=1: FerretDB v1.24
// does not apply a conditional update atomically across connections, so every client must
// use one.
func Start(t testing.TB) (uri string) {
	t.Helper()
	bin, err := engineBinary()
	if err != nil {
		t.Fatalf("mongotest: build the test engine: %v", err)
	}
	cmd := exec.Command(bin, "-dir", t.TempDir())
	stdin, err := cmd.StdinPipe() // closing it stops the engine; so does this process dying
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr // the engine says why it stopped, if it does
	if err := cmd.Start(); err != nil {
		t.Fatalf("mongotest: start the test engine: %v", err)
	}
	t.Cleanup(func() {
		_ = stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	first, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("mongotest: the test engine did not start: %v", err)
	}
	u, err := url.Parse(strings.TrimSpace(first))
	if err != nil {
		t.Fatalf("mongotest: the test engine's URI %q: %v", first, err)
	}
	u.Path = "/" + databaseName()
	u.RawQuery = "maxPoolSize=1"
	uri = u.String()
	waitReady(t, uri)
	return uri
}

var engine struct {
	once sync.Once
	path string
	err  error
}

// engineBinary builds ./ferretdb once per machine and Go toolchain, into the user's cache
// folder under a name that changes with the module's dependencies, and returns its path.
// Test binaries of several packages may build it at once: each writes its own file and
// renames it into place.
func engineBinary() (string, error) {
	engine.once.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			engine.err = err
			return
		}
		sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
		if err != nil {
			engine.err = err
			return
		}
		src, err := os.ReadFile(filepath.Join(root, "mongo", "mongotest", "ferretdb", "main.go"))
		if err != nil {
			engine.err = err
			return
		}
		h := sha256.New()
		for _, part := range [][]byte{[]byte(runtime.Version()), sum, src} {
			h.Write(part)
		}
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		dir := filepath.Join(cache, "agentdesk")
		engine.path = filepath.Join(dir, "ferretdb-"+hex.EncodeToString(h.Sum(nil))[:16])
		if _, err := os.Stat(engine.path); err == nil {
			return
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			engine.err = err
			return
		}
		tmp := fmt.Sprintf("%s.%d.tmp", engine.path, os.Getpid())
		build := exec.Command("go", "build", "-o", tmp, "./mongo/mongotest/ferretdb")
		build.Dir = root
		build.Env = append(os.Environ(), "GOFLAGS=") // never -race, whatever the tests were given
		if out, err := build.CombinedOutput(); err != nil {
			engine.err = fmt.Errorf("go build ./mongo/mongotest/ferretdb: %v\n%s", err, out)
			return
		}
		engine.err = os.Rename(tmp, engine.path)
	})
	return engine.path, engine.err
}

// moduleRoot finds the agentdesk module's folder from the working directory, which go test
// sets to the package's folder.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/agentdesk/agentdesk\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the agentdesk module: the test engine is built from its source")
		}
		dir = parent
	}
}

// URI returns the real MongoDB named by the environment variable MONGODB_URI with a fresh
// database in its path, dropped when t ends, or "" when MONGODB_URI is not set.
func URI(t testing.TB) string {
	t.Helper()
	base := os.Getenv("MONGODB_URI")
	if base == "" {
		return ""
	}
	name := databaseName()
	uri, err := withDatabase(base, name)
	if err != nil {
		t.Fatalf("mongotest: MONGODB_URI: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		client, err := mongo.Connect(options.Client().ApplyURI(uri))
		if err == nil {
			err = client.Database(name).Drop(ctx)
			_ = client.Disconnect(ctx)
		}
		if err != nil {
			t.Errorf("mongotest: drop database %s: %v", name, err)
		}
	})
	return uri
}

// databaseName returns a new database name, unique with overwhelming probability.
func databaseName() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "agentdesk_test_" + hex.EncodeToString(b)
}

// withDatabase returns uri with its database path replaced by name, keeping its options.
func withDatabase(uri, name string) (string, error) {
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return "", fmt.Errorf("%q has no scheme", scheme)
	}
	hosts, path, _ := strings.Cut(rest, "/")
	_, query, _ := strings.Cut(path, "?")
	uri = scheme + "://" + hosts + "/" + name
	if query != "" {
		uri += "?" + query
	}
	return uri, nil
}

// waitReady pings the server at uri until it answers, for at most ten seconds.
func waitReady(t testing.TB, uri string) {
	t.Helper()
	admin(t, uri, bson.D{{Key: "ping", Value: 1}}, nil)
}

// admin runs one command on the admin database of the engine behind uri, within ten seconds,
// over a client of its own, and decodes the answer into out when out is not nil.
func admin(t testing.TB, uri string, command bson.D, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatalf("mongotest: connect: %v", err)
	}
	defer func() { _ = client.Disconnect(context.Background()) }()
	res := client.Database("admin").RunCommand(ctx, command)
	if out == nil {
		err = res.Err()
	} else {
		err = res.Decode(out)
	}
	if err != nil {
		t.Fatalf("mongotest: %s: the engine did not answer: %v", command[0].Key, err)
	}
}

// upkeep are the commands the test engine sends itself (./ferretdb trims capped
// collections) and those a client sends to connect, ask and hang up, which Commands leaves
// out. The engine counts a handshake over the legacy OP_QUERY as "unknown".
var upkeep = map[string]bool{
	"compact": true, "listCollections": true,
	"hello": true, "isMaster": true, "ismaster": true, "unknown": true, "serverStatus": true, "endSessions": true,
}

// Commands returns how many commands of each name the test engine behind uri has answered
// since it started, as its serverStatus counts them, leaving out upkeep. Two calls a while
// apart tell whether anything still talks to the engine.
func Commands(t testing.TB, uri string) map[string]int64 {
	t.Helper()
	var status struct {
		Metrics struct {
			Commands map[string]struct {
				Total int64 `bson:"total"`
			} `bson:"commands"`
		} `bson:"metrics"`
	}
	admin(t, uri, bson.D{{Key: "serverStatus", Value: 1}}, &status)
	out := map[string]int64{}
	for name, c := range status.Metrics.Commands {
		if !upkeep[name] {
			out[name] = c.Total
		}
	}
	return out
}
