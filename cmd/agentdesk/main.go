// Command agentdesk runs the agent workspace server. See README.md for the flags.
//
//	agentdesk [flags]                   serve
//	agentdesk add-agent -username NAME  create an agent (password on stdin)
//	agentdesk add-api-key -name NAME    create a read-only CRM API key
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) > 1 {
		if _, ok := server.AdminCommands[os.Args[1]]; ok {
			if err := server.Admin(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
				fmt.Fprintln(os.Stderr, "agentdesk:", err)
				os.Exit(1)
			}
			return
		}
	}
	cfg, err := server.ParseConfig(os.Args[1:], os.Getenv, os.Stderr)
	if err != nil {
		os.Exit(2)
	}
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
