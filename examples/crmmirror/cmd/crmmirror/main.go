// Command crmmirror keeps a copy of agentdesk's interactions: it syncs them all, then
// listens for webhook deliveries, and reconciles every -reconcile. It prints the copy's size
// after each reconciliation.
//
//	crmmirror -api http://localhost:8080/query -key demo-crm-key -secret whsec_… -listen 127.0.0.1:3000
//
// Register http://127.0.0.1:3000/ as a webhook (the server needs -webhooks-allow-loopback).
package main

import (
	"context"
	"flag"
	"log"
	"net/http"
	"time"

	"github.com/agentdesk/agentdesk/examples/crmmirror"
)

func main() {
	api := flag.String("api", "http://localhost:8080/query", "agentdesk's GraphQL endpoint")
	key := flag.String("key", "demo-crm-key", "a CRM API key")
	secret := flag.String("secret", "", "the webhook's secret")
	listen := flag.String("listen", "127.0.0.1:3000", "where webhook deliveries arrive")
	every := flag.Duration("reconcile", time.Hour, "how often to reconcile by updatedAfter")
	flag.Parse()
	m := crmmirror.New(*api, *key, *secret)
	ctx := context.Background()
	started := time.Now()
	if err := m.Sync(ctx, nil); err != nil {
		log.Fatal(err)
	}
	go func() {
		for range time.Tick(*every) {
			next := time.Now()
			from := started.Add(-time.Minute) // overlap: clocks and writes in flight
			if err := m.Sync(ctx, &from); err != nil {
				log.Print(err)
				continue
			}
			started = next
			log.Printf("%d interactions mirrored", len(m.Copy()))
		}
	}()
	log.Fatal(http.ListenAndServe(*listen, m))
}
