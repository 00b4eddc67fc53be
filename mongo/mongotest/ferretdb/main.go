// Command ferretdb runs the MongoDB test engine (FerretDB v1.24 on its SQLite handler) as a
// process of its own for mongotest.Start, so that a test binary built with the race detector
// does not instrument the engine too: the engine is the tests' fixture, not the code under
// test, and instrumented it ran about ten times slower. It prints the URI it listens on as
// its first line and stops when its standard input closes: when the test that started it
// ends, or when that test process dies.
//
// It also keeps capped collections within their bounds (enforceCaps), which embedded
// FerretDB does not do by itself. With AGENTDESK_FERRETDB_CPUPROFILE=path set, each engine
// writes a CPU profile of its life to path.<pid> (read it with go tool pprof and the binary
// in ~/.cache/agentdesk): where the engine's time goes is what a slow test or benchmark on
// MongoDB is most often waiting for.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// capEvery is how often enforceCaps trims the capped collections.
const capEvery = 200 * time.Millisecond

func main() {
	dir := flag.String("dir", "", "the folder for the engine's SQLite files")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "ferretdb: -dir is required")
		os.Exit(2)
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Logger:    slog.New(slog.DiscardHandler),
		Handler:   "sqlite",
		SQLiteURL: (&url.URL{Scheme: "file", Path: *dir + "/"}).String(),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb:", err)
		os.Exit(1)
	}
	stopProfile := func() {}
	if path := os.Getenv("AGENTDESK_FERRETDB_CPUPROFILE"); path != "" {
		pf, err := os.Create(fmt.Sprintf("%s.%d", path, os.Getpid()))
		if err == nil && pprof.StartCPUProfile(pf) == nil {
			stopProfile = func() { pprof.StopCPUProfile(); _ = pf.Close() }
		}
	}
	defer stopProfile()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	uri := f.MongoDBURI() // waits for the listener
	go enforceCaps(ctx, uri, *dir)
	fmt.Println(uri)
	if err := <-done; err != nil && ctx.Err() == nil {
		fmt.Fprintln(os.Stderr, "ferretdb:", err)
		stopProfile()
		os.Exit(1)
	}
}

// enforceCaps trims every capped collection to its bounds every capEvery, until ctx ends.
// MongoDB drops a capped collection's oldest documents as new ones arrive; FerretDB does it
// in a background cleanup whose interval the embedded engine leaves at zero (off) with no
// way to set it, so a capped collection grew without end: agentdesk's events collection,
// bounded at 256 documents, held every event ever published, and the bus's readers, which
// the engine answers by decoding the whole collection, cost more with every event. The
// compact command runs the same cleanup on one collection. The databases are the engine's
// files in dir (listDatabases would cost more: it sizes each one).
func enforceCaps(ctx context.Context, uri, dir string) {
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb: capped cleanup:", err)
		return
	}
	defer func() { _ = client.Disconnect(context.Background()) }()
	t := time.NewTicker(capEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*.sqlite"))
		for _, file := range files {
			db := client.Database(strings.TrimSuffix(filepath.Base(file), ".sqlite"))
			specs, err := db.ListCollectionSpecifications(ctx, bson.D{{Key: "options.capped", Value: true}})
			if err != nil {
				continue
			}
			for _, s := range specs {
				_ = db.RunCommand(ctx, bson.D{{Key: "compact", Value: s.Name}}).Err()
			}
		}
	}
}
