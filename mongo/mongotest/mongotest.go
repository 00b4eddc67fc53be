// Package mongotest gives tests a MongoDB to talk to: an embedded FerretDB (v1.24, SQLite
// handler) started in the test process, or the real MongoDB named by MONGODB_URI. Tests in
// any package may import it.
package mongotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// newMu serialises ferretdb.New, which writes package-level state (its version info).
var newMu sync.Mutex

// Start runs a new embedded FerretDB for t, stopped when t ends, and returns a URI naming
// a fresh database on it. The URI sets maxPoolSize=1: FerretDB v1.24 does not apply a
// conditional update atomically across connections, so every client must use one.
func Start(t testing.TB) (uri string) {
	t.Helper()
	dir := t.TempDir()
	newMu.Lock()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Logger:    slog.New(slog.DiscardHandler),
		Handler:   "sqlite",
		SQLiteURL: (&url.URL{Scheme: "file", Path: dir + "/"}).String(),
	})
	newMu.Unlock()
	if err != nil {
		t.Fatalf("mongotest: start FerretDB: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})

	u, err := url.Parse(f.MongoDBURI())
	if err != nil {
		t.Fatalf("mongotest: FerretDB URI: %v", err)
	}
	u.Path = "/" + databaseName()
	u.RawQuery = "maxPoolSize=1"
	uri = u.String()
	waitReady(t, uri)
	return uri
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
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatalf("mongotest: connect: %v", err)
	}
	defer func() { _ = client.Disconnect(context.Background()) }()
	if err := client.Database("admin").RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err(); err != nil {
		t.Fatalf("mongotest: FerretDB does not answer: %v", err)
	}
}
