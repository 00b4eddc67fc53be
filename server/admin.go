package server

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/agentdesk/agentdesk/workspace"
)

// AdminCommands lists the operator's subcommands of the agentdesk binary.
var AdminCommands = map[string]string{
	"add-agent":   "create an agent or supervisor; the password is read from the first line of stdin",
	"add-api-key": "create a read-only API key for a CRM integration and print it (shown once)",
}

// Admin runs one operator subcommand against the configured store. args[0] names the
// command; the rest are its flags plus the store flags (-data, -mongodb-uri).
func Admin(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd, rest := args[0], args[1:]
	fs := flag.NewFlagSet("agentdesk "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", envOr(getenv, "AGENTDESK_DATA", "./data"), "data folder of the embedded store")
	mongoURI := fs.String("mongodb-uri", getenv("MONGODB_URI"), "MongoDB URI")
	var run func(*workspace.Service) error
	switch cmd {
	case "add-agent":
		username := fs.String("username", "", "the name the agent signs in with (required)")
		name := fs.String("name", "", "display name (default: the username)")
		supervisor := fs.Bool("supervisor", false, "make the agent a supervisor")
		autoAccept := fs.Bool("auto-accept", false, "accept offers at once")
		run = func(s *workspace.Service) error {
			password, err := bufio.NewReader(stdin).ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return err
			}
			role := workspace.RoleAgent
			if *supervisor {
				role = workspace.RoleSupervisor
			}
			plans, err := s.Store.Plans(ctx)
			if err != nil {
				return err
			}
			var planIDs []string
			for _, p := range plans {
				planIDs = append(planIDs, p.ID)
			}
			a, err := s.CreateAgent(ctx, workspace.NewAgent{Username: *username, Name: *name, Role: role,
				Password: strings.TrimRight(password, "\r\n"), AutoAccept: *autoAccept, PlanIDs: planIDs})
			if err != nil {
				return err
			}
			s.AuditCommandLine(ctx, a, nil)
			fmt.Fprintf(stdout, "created %s %s (%s), member of %d plans\n", strings.ToLower(string(a.Role)), a.Username, a.ID, len(planIDs))
			return nil
		}
	case "add-api-key":
		name := fs.String("name", "", "what the key is for, e.g. the CRM's name (required)")
		run = func(s *workspace.Service) error {
			if strings.TrimSpace(*name) == "" {
				return errors.New("-name is required")
			}
			key, err := s.NewAPIKey(ctx, *name, workspace.ScopeRead)
			if err != nil {
				return err
			}
			if k, err := s.Store.APIKey(ctx, workspace.HashToken(key)); err == nil {
				s.AuditCommandLine(ctx, nil, k)
			}
			fmt.Fprintf(stdout, "%s\n", key)
			fmt.Fprintf(stderr, "read-only API key for %q created; it is shown only now\n", *name)
			return nil
		}
	default:
		return fmt.Errorf("unknown command %q", cmd)
	}
	if err := fs.Parse(rest); err != nil {
		return err
	}
	store, _, err := OpenStore(ctx, Config{DataDir: *data, MongoURI: *mongoURI})
	if err != nil {
		return err
	}
	defer store.Close()
	if err := run(workspace.NewService(store, nil, workspace.SystemClock{})); err != nil {
		return errors.New(workspace.ErrorMessage(err))
	}
	return nil
}

func envOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}
