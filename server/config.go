package server

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is every setting of the server. Each is a flag with an environment fallback; a
// flag given on the command line wins over the environment.
type Config struct {
	Addr           string
	DataDir        string
	MongoURI       string
	Demo           bool
	AllowedOrigins []string

	Introspection bool
	MaxBodyBytes  int64
	MaxDepth      int
	MaxComplexity int
	MaxAliases    int
	// MaxTokens, MaxFields and MaxFragmentSpreads bound what a query costs to parse and
	// validate; fields and spreads count as expanded through fragments.
	MaxTokens          int
	MaxFields          int
	MaxFragmentSpreads int
	SessionTTL         time.Duration

	// MaxMessageChars is the longest message text accepted.
	MaxMessageChars int
	// Tick is the scheduler's interval: timers fire at most this late. 0 disables the
	// scheduler (tests drive it by hand).
	Tick time.Duration
	// Webchat flood limits: requests per second and burst, per contact token and per IP.
	WebchatTokenRate  float64
	WebchatTokenBurst int
	WebchatIPRate     float64
	WebchatIPBurst    int
	// Node names this process in cross-node events (MongoDB only).
	Node string

	// BcryptCost is lowered by tests only; production keeps the default.
	BcryptCost int
}

// ParseConfig reads flags from args with fallbacks from getenv.
func ParseConfig(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("agentdesk", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	envBool := func(name string, def bool) bool {
		v, err := strconv.ParseBool(env(name, strconv.FormatBool(def)))
		if err != nil {
			return def
		}
		return v
	}
	envFloat := func(name string, def float64) float64 {
		v, err := strconv.ParseFloat(env(name, ""), 64)
		if err != nil {
			return def
		}
		return v
	}
	envInt := func(name string, def int) int {
		v, err := strconv.Atoi(env(name, strconv.Itoa(def)))
		if err != nil {
			return def
		}
		return v
	}
	var origins string
	fs.StringVar(&c.Addr, "addr", env("AGENTDESK_ADDR", ":8080"), "listen address (env AGENTDESK_ADDR)")
	fs.StringVar(&c.DataDir, "data", env("AGENTDESK_DATA", "./data"), "data folder of the embedded store (env AGENTDESK_DATA)")
	fs.StringVar(&c.MongoURI, "mongodb-uri", env("MONGODB_URI", ""), "MongoDB URI; when set, MongoDB replaces the embedded store (env MONGODB_URI)")
	fs.BoolVar(&c.Demo, "demo", envBool("AGENTDESK_DEMO", false), "create demo agents, plans and CRM key if missing (env AGENTDESK_DEMO)")
	fs.StringVar(&origins, "allowed-origins", env("AGENTDESK_ALLOWED_ORIGINS", ""), "comma-separated browser origins allowed by CORS and websockets besides the server's own, e.g. http://localhost:5173 (env AGENTDESK_ALLOWED_ORIGINS)")
	fs.BoolVar(&c.Introspection, "introspection", envBool("AGENTDESK_INTROSPECTION", true), "allow GraphQL introspection (env AGENTDESK_INTROSPECTION)")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", int64(envInt("AGENTDESK_MAX_BODY_BYTES", 1<<20)), "largest request body accepted on /query (env AGENTDESK_MAX_BODY_BYTES)")
	fs.IntVar(&c.MaxDepth, "max-depth", envInt("AGENTDESK_MAX_DEPTH", 20), "deepest selection nesting allowed in one operation (env AGENTDESK_MAX_DEPTH)")
	fs.IntVar(&c.MaxComplexity, "max-complexity", envInt("AGENTDESK_MAX_COMPLEXITY", 5000), "highest complexity allowed in one operation (env AGENTDESK_MAX_COMPLEXITY)")
	fs.IntVar(&c.MaxAliases, "max-aliases", envInt("AGENTDESK_MAX_ALIASES", 30), "most aliases allowed in one operation (env AGENTDESK_MAX_ALIASES)")
	fs.IntVar(&c.MaxTokens, "max-tokens", envInt("AGENTDESK_MAX_TOKENS", 5000), "most lexical tokens in one query text (env AGENTDESK_MAX_TOKENS)")
	fs.IntVar(&c.MaxFields, "max-fields", envInt("AGENTDESK_MAX_FIELDS", 800), "most fields one query selects, counting each fragment spread as the fields it expands to (env AGENTDESK_MAX_FIELDS)")
	fs.IntVar(&c.MaxFragmentSpreads, "max-fragment-spreads", envInt("AGENTDESK_MAX_FRAGMENT_SPREADS", 250), "most fragment spreads (named or inline) in one query, counted as expanded (env AGENTDESK_MAX_FRAGMENT_SPREADS)")
	fs.DurationVar(&c.SessionTTL, "session-ttl", time.Duration(envInt("AGENTDESK_SESSION_TTL_SECONDS", 12*3600))*time.Second, "lifetime of a login token (env AGENTDESK_SESSION_TTL_SECONDS, in seconds)")
	fs.IntVar(&c.MaxMessageChars, "max-message-chars", envInt("AGENTDESK_MAX_MESSAGE_CHARS", 4096), "longest message text accepted, in characters (env AGENTDESK_MAX_MESSAGE_CHARS)")
	fs.DurationVar(&c.Tick, "tick", time.Duration(envInt("AGENTDESK_TICK_MS", 250))*time.Millisecond, "scheduler interval: offer and wrap timers fire at most this late (env AGENTDESK_TICK_MS, in milliseconds)")
	fs.Float64Var(&c.WebchatTokenRate, "webchat-rate-token", envFloat("AGENTDESK_WEBCHAT_RATE_TOKEN", 2), "webchat requests per second allowed per chat, after a burst of 10; 0 disables (env AGENTDESK_WEBCHAT_RATE_TOKEN)")
	fs.Float64Var(&c.WebchatIPRate, "webchat-rate-ip", envFloat("AGENTDESK_WEBCHAT_RATE_IP", 20), "webchat requests per second allowed per IP address, after a burst of 100; 0 disables (env AGENTDESK_WEBCHAT_RATE_IP)")
	host, _ := os.Hostname()
	fs.StringVar(&c.Node, "node", env("AGENTDESK_NODE", fmt.Sprintf("%s-%d", host, os.Getpid())), "this node's name in cross-node events on MongoDB (env AGENTDESK_NODE)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	for _, o := range strings.Split(origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.AllowedOrigins = append(c.AllowedOrigins, strings.TrimRight(o, "/"))
		}
	}
	c.BcryptCost = 10
	c.WebchatTokenBurst, c.WebchatIPBurst = 10, 100
	if c.MaxMessageChars < 1 {
		return c, fmt.Errorf("-max-message-chars must be at least 1")
	}
	// The parser reads a token limit of 0 as no limit at all.
	if c.MaxTokens < 1 || c.MaxFields < 1 || c.MaxFragmentSpreads < 0 {
		return c, fmt.Errorf("-max-tokens and -max-fields must be at least 1, -max-fragment-spreads at least 0")
	}
	return c, nil
}
