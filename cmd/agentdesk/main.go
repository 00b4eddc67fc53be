// Command agentdesk runs the agent workspace server. See README.md for the flags.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/agentdesk/agentdesk/server"
)

func main() {
	cfg, err := server.ParseConfig(os.Args[1:], os.Getenv, os.Stderr)
	if err != nil {
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := server.NewMain(cfg)
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "agentdesk:", err)
		os.Exit(1)
	}
	<-ctx.Done()
	fmt.Println("agentdesk: shutting down")
	if err := m.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "agentdesk: shutdown:", err)
		os.Exit(1)
	}
}
