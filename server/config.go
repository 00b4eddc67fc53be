package server

import (
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/agentdesk/agentdesk/workspace"
)

// Config is every setting of the server. Each is a flag with an environment fallback; a
// flag given on the command line wins over the environment.
type Config struct {
	Addr     string
	DataDir  string
	MongoURI string
	Demo     bool
	// AllowedOrigins are the browser origins besides the server's own that may use the API
	// (CORS and websockets); none means same-origin only.
	AllowedOrigins []string
	// MetricsAddr is the listen address of /metrics, apart from the public listener; "" has
	// no metrics listener.
	MetricsAddr string
	// TLSCert and TLSKey are PEM files; with both set the server speaks HTTPS itself.
	TLSCert, TLSKey string

	Introspection bool
	MaxBodyBytes  int64
	// MaxAnonymousBodyBytes bounds the bodies of requests without a valid credential.
	MaxAnonymousBodyBytes int64
	MaxDepth              int
	MaxComplexity         int
	MaxAliases            int
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
	// LoginAddrFailures is how many failed sign-ins an IP address has before the login
	// throttle makes it wait; 0 counts per username only.
	LoginAddrFailures int
	// Node names this process in cross-node events (MongoDB only).
	Node string
	// LLMURL and LLMModel name an OpenAI-compatible endpoint Insert Summary asks instead of
	// summarising offline; LLMKey is its bearer token and LLMTimeout bounds one answer.
	LLMURL, LLMModel, LLMKey string
	LLMTimeout               time.Duration

	// SocketPing is how often each websocket is pinged; one whose pong is missing by the
	// next ping is closed.
	SocketPing time.Duration
	// SocketRecheck is how often an open websocket re-authenticates its credential, in case
	// the announcement of its revocation from another node was missed.
	SocketRecheck time.Duration
	// MaxAnonymousSocketsPerIP bounds the websockets one address holds without a credential
	// (including those not yet through connection_init); 0 means no bound.
	MaxAnonymousSocketsPerIP int

	// PublicURL is the base URL providers reach this server at, e.g. https://desk.example.com:
	// Twilio's signatures cover it, and status callback URLs are built on it. "" uses each
	// request's own scheme and host.
	PublicURL string
	// BlobURL is where attachments' bytes go: "" for the data folder's blobs/, a
	// file:///path, or s3://bucket?endpoint=…&region=…&use_path_style=true (several nodes
	// on MongoDB must share one).
	BlobURL string
	// SIPAddr is the UDP address the voice channel takes SIP on (trunks, hardphones); ""
	// leaves voice off, except with -demo, which listens on a free loopback port.
	SIPAddr string
	// MediaIP is the address calls' RTP and WebRTC use; "" is SIPAddr's IP.
	MediaIP string
	// SIPPhones are the agents' hardphone passwords, "username:password,…".
	SIPPhones string
	// ClamdAddr is clamd's TCP address (host:port); "" leaves files UNSCANNED.
	ClamdAddr string
	// MaxUploadBytes is the largest attachment (E4: 25 MB).
	MaxUploadBytes int64
	// MaxWebhookBytes bounds a provider webhook's body.
	MaxWebhookBytes int64
	// SMTPAddr is where the inbound SMTP listener listens for mail to EMAIL identities; ""
	// runs none (issue 15).
	SMTPAddr string
	// SMTPMaxBytes is the largest message the SMTP listener takes (SIZE); larger ones are
	// refused with 552.
	SMTPMaxBytes int64
	// IMAPRescan is how often the IMAP pollers look for added, changed or removed mailboxes
	// (email identities with an imap setting); 0 runs no pollers.
	IMAPRescan time.Duration
	// IMAPBackoff is the wait before an IMAP poller dials again after a failure.
	IMAPBackoff time.Duration
	// IMAPPoll, when set, also checks mailboxes this often besides IDLE.
	IMAPPoll time.Duration
	// OutboxPoll is how often the outbox looks for messages due (besides being woken when one
	// is queued); 0 disables the outbox runner (tests drive it by hand).
	OutboxPoll time.Duration
	// Outbox is the outbox's claim lease, attempts and backoff; tests shorten them.
	Outbox workspace.OutboxPolicy

	// WebhookPoll is how often webhooks look for events to deliver or retry (besides being
	// woken when events are stored); 0 disables the webhook runner (tests drive it by hand).
	WebhookPoll time.Duration
	// Webhooks is the deliveries' timeout, backoff and the URLs allowed (AllowLoopback:
	// -webhooks-allow-loopback; AllowPrivate: -webhooks-allow-private).
	Webhooks workspace.WebhookPolicy

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
	fs.StringVar(&origins, "allowed-origins", env("AGENTDESK_ALLOWED_ORIGINS", ""), "comma-separated browser origins allowed by CORS and websockets besides the server's own, e.g. http://localhost:5173; none: same-origin only (env AGENTDESK_ALLOWED_ORIGINS)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", env("AGENTDESK_METRICS_ADDR", "127.0.0.1:9464"), "listen address of /metrics, apart from -addr; off disables it (env AGENTDESK_METRICS_ADDR)")
	fs.StringVar(&c.TLSCert, "tls-cert", env("AGENTDESK_TLS_CERT", ""), "PEM certificate (chain) file; with -tls-key, serve HTTPS (env AGENTDESK_TLS_CERT)")
	fs.StringVar(&c.TLSKey, "tls-key", env("AGENTDESK_TLS_KEY", ""), "PEM private key file of -tls-cert (env AGENTDESK_TLS_KEY)")
	fs.BoolVar(&c.Introspection, "introspection", envBool("AGENTDESK_INTROSPECTION", true), "allow GraphQL introspection (env AGENTDESK_INTROSPECTION)")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", int64(envInt("AGENTDESK_MAX_BODY_BYTES", 1<<20)), "largest request body accepted on /query (env AGENTDESK_MAX_BODY_BYTES)")
	fs.Int64Var(&c.MaxAnonymousBodyBytes, "max-anonymous-body-bytes", int64(envInt("AGENTDESK_MAX_ANONYMOUS_BODY_BYTES", 64<<10)), "largest request body accepted on /query without a valid credential (env AGENTDESK_MAX_ANONYMOUS_BODY_BYTES)")
	fs.IntVar(&c.MaxDepth, "max-depth", envInt("AGENTDESK_MAX_DEPTH", 20), "deepest selection nesting allowed in one operation (env AGENTDESK_MAX_DEPTH)")
	fs.IntVar(&c.MaxComplexity, "max-complexity", envInt("AGENTDESK_MAX_COMPLEXITY", 5000), "highest complexity allowed in one operation (env AGENTDESK_MAX_COMPLEXITY)")
	fs.IntVar(&c.MaxAliases, "max-aliases", envInt("AGENTDESK_MAX_ALIASES", 30), "most aliases allowed in one operation (env AGENTDESK_MAX_ALIASES)")
	fs.IntVar(&c.MaxTokens, "max-tokens", envInt("AGENTDESK_MAX_TOKENS", 5000), "most lexical tokens in one query text (env AGENTDESK_MAX_TOKENS)")
	fs.IntVar(&c.MaxFields, "max-fields", envInt("AGENTDESK_MAX_FIELDS", 1200), "most fields one query selects, counting each fragment spread as the fields it expands to (env AGENTDESK_MAX_FIELDS)")
	fs.IntVar(&c.MaxFragmentSpreads, "max-fragment-spreads", envInt("AGENTDESK_MAX_FRAGMENT_SPREADS", 250), "most fragment spreads (named or inline) in one query, counted as expanded (env AGENTDESK_MAX_FRAGMENT_SPREADS)")
	fs.DurationVar(&c.SessionTTL, "session-ttl", time.Duration(envInt("AGENTDESK_SESSION_TTL_SECONDS", 12*3600))*time.Second, "lifetime of a login token (env AGENTDESK_SESSION_TTL_SECONDS, in seconds)")
	fs.StringVar(&c.BlobURL, "blob-url", env("AGENTDESK_BLOB_URL", ""), "where attachments are stored: empty for the data folder, file:///path, or s3://bucket?endpoint=URL&region=R&use_path_style=true with AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (env AGENTDESK_BLOB_URL)")
	fs.StringVar(&c.SIPAddr, "sip-addr", env("AGENTDESK_SIP_ADDR", ""), "UDP address the voice channel takes SIP on (trunks' calls, hardphones' REGISTERs), e.g. 0.0.0.0:5060; empty: no voice, except with -demo, which picks a free loopback port (env AGENTDESK_SIP_ADDR)")
	fs.StringVar(&c.MediaIP, "media-ip", env("AGENTDESK_MEDIA_IP", ""), "IP address calls' RTP and WebRTC media use and announce; empty: the -sip-addr IP (env AGENTDESK_MEDIA_IP)")
	c.SIPPhones = env("AGENTDESK_SIP_PHONES", "")
	fs.StringVar(&c.ClamdAddr, "clamd-addr", env("AGENTDESK_CLAMD_ADDR", ""), "clamd TCP address (host:port) to scan attachments with; empty: files are UNSCANNED (env AGENTDESK_CLAMD_ADDR)")
	fs.Int64Var(&c.MaxUploadBytes, "max-upload-bytes", int64(envInt("AGENTDESK_MAX_UPLOAD_BYTES", 25<<20)), "largest attachment accepted, in bytes (env AGENTDESK_MAX_UPLOAD_BYTES)")
	fs.IntVar(&c.MaxMessageChars, "max-message-chars", envInt("AGENTDESK_MAX_MESSAGE_CHARS", 4096), "longest message text accepted, in characters (env AGENTDESK_MAX_MESSAGE_CHARS)")
	fs.DurationVar(&c.Tick, "tick", time.Duration(envInt("AGENTDESK_TICK_MS", 250))*time.Millisecond, "scheduler interval: offer and wrap timers fire at most this late (env AGENTDESK_TICK_MS, in milliseconds)")
	fs.Float64Var(&c.WebchatTokenRate, "webchat-rate-token", envFloat("AGENTDESK_WEBCHAT_RATE_TOKEN", 2), "webchat requests per second allowed per chat, after a burst of 10; 0 disables (env AGENTDESK_WEBCHAT_RATE_TOKEN)")
	fs.Float64Var(&c.WebchatIPRate, "webchat-rate-ip", envFloat("AGENTDESK_WEBCHAT_RATE_IP", 20), "webchat requests per second allowed per IP address, after a burst of 100; 0 disables (env AGENTDESK_WEBCHAT_RATE_IP)")
	fs.DurationVar(&c.SocketPing, "socket-ping", time.Duration(envInt("AGENTDESK_SOCKET_PING_SECONDS", 15))*time.Second, "websocket ping interval: a socket that has not answered by the next ping is closed (env AGENTDESK_SOCKET_PING_SECONDS, in seconds)")
	fs.DurationVar(&c.SocketRecheck, "socket-recheck", time.Duration(envInt("AGENTDESK_SOCKET_RECHECK_SECONDS", 30))*time.Second, "how often an open websocket re-checks its credential, besides closing at once when it is revoked (env AGENTDESK_SOCKET_RECHECK_SECONDS, in seconds)")
	fs.IntVar(&c.MaxAnonymousSocketsPerIP, "max-anonymous-sockets-per-ip", envInt("AGENTDESK_MAX_ANONYMOUS_SOCKETS_PER_IP", 32), "most websockets one IP address may hold without a credential; 0 = no limit (env AGENTDESK_MAX_ANONYMOUS_SOCKETS_PER_IP)")
	fs.IntVar(&c.LoginAddrFailures, "login-ip-failures", envInt("AGENTDESK_LOGIN_IP_FAILURES", 20), "failed sign-ins allowed per IP address before each further one doubles the wait; 0 counts per username only (env AGENTDESK_LOGIN_IP_FAILURES)")
	fs.StringVar(&c.PublicURL, "public-url", env("AGENTDESK_PUBLIC_URL", ""), "base URL providers reach this server at, e.g. https://desk.example.com; Twilio signatures are checked against it (env AGENTDESK_PUBLIC_URL)")
	fs.StringVar(&c.SMTPAddr, "smtp-addr", env("AGENTDESK_SMTP_ADDR", ""), "listen address of the inbound SMTP listener that receives mail for EMAIL identities, e.g. :2525; empty: none (-demo: 127.0.0.1:2525) (env AGENTDESK_SMTP_ADDR)")
	fs.Int64Var(&c.SMTPMaxBytes, "smtp-max-bytes", int64(envInt("AGENTDESK_SMTP_MAX_BYTES", 28<<20)), "largest message the SMTP listener takes; larger ones are refused with 552 (env AGENTDESK_SMTP_MAX_BYTES)")
	fs.DurationVar(&c.IMAPRescan, "imap-rescan", time.Duration(envInt("AGENTDESK_IMAP_RESCAN_SECONDS", 30))*time.Second, "how often IMAP pollers look for added or changed mailboxes (email identities with an imap setting); 0: no IMAP polling (env AGENTDESK_IMAP_RESCAN_SECONDS, in seconds)")
	fs.DurationVar(&c.IMAPBackoff, "imap-backoff", time.Duration(envInt("AGENTDESK_IMAP_BACKOFF_SECONDS", 5))*time.Second, "wait before an IMAP poller dials again after a failure (env AGENTDESK_IMAP_BACKOFF_SECONDS, in seconds)")
	fs.DurationVar(&c.IMAPPoll, "imap-poll", time.Duration(envInt("AGENTDESK_IMAP_POLL_SECONDS", 0))*time.Second, "also check each mailbox this often besides IDLE; 0: IDLE alone (env AGENTDESK_IMAP_POLL_SECONDS, in seconds)")
	fs.Int64Var(&c.MaxWebhookBytes, "max-webhook-bytes", int64(envInt("AGENTDESK_MAX_WEBHOOK_BYTES", 256<<10)), "largest provider webhook body accepted (env AGENTDESK_MAX_WEBHOOK_BYTES)")
	fs.DurationVar(&c.OutboxPoll, "outbox-poll", time.Duration(envInt("AGENTDESK_OUTBOX_POLL_MS", 1000))*time.Millisecond, "how often the outbox looks for messages to send or retry (env AGENTDESK_OUTBOX_POLL_MS, in milliseconds)")
	// The outbox's retry policy: operators rarely change it; tests that run the binary
	// shorten it (docs/operations.md).
	c.Outbox = workspace.DefaultOutboxPolicy()
	fs.DurationVar(&c.Outbox.Lease, "outbox-lease", time.Duration(envInt("AGENTDESK_OUTBOX_LEASE_MS", int(c.Outbox.Lease/time.Millisecond)))*time.Millisecond, "how long one send may take; a message whose node died mid-send is sent again after this (env AGENTDESK_OUTBOX_LEASE_MS, in milliseconds)")
	fs.IntVar(&c.Outbox.MaxAttempts, "outbox-attempts", envInt("AGENTDESK_OUTBOX_ATTEMPTS", c.Outbox.MaxAttempts), "sends a message gets on temporary failures before it is FAILED (env AGENTDESK_OUTBOX_ATTEMPTS)")
	fs.DurationVar(&c.Outbox.FirstBackoff, "outbox-backoff", time.Duration(envInt("AGENTDESK_OUTBOX_BACKOFF_MS", int(c.Outbox.FirstBackoff/time.Millisecond)))*time.Millisecond, "wait after a message's first temporary failure; each further one doubles it (env AGENTDESK_OUTBOX_BACKOFF_MS, in milliseconds)")
	fs.DurationVar(&c.Outbox.MaxBackoff, "outbox-max-backoff", time.Duration(envInt("AGENTDESK_OUTBOX_MAX_BACKOFF_MS", int(c.Outbox.MaxBackoff/time.Millisecond)))*time.Millisecond, "longest wait between two sends of a message (env AGENTDESK_OUTBOX_MAX_BACKOFF_MS, in milliseconds)")
	fs.StringVar(&c.LLMURL, "llm-url", env("AGENTDESK_LLM_URL", ""), "base URL of an OpenAI-compatible API (e.g. http://127.0.0.1:11434/v1 for Ollama) that Insert Summary asks; empty: summaries are written offline (env AGENTDESK_LLM_URL)")
	fs.StringVar(&c.LLMModel, "llm-model", env("AGENTDESK_LLM_MODEL", ""), "model name for -llm-url, e.g. llama3.2 (env AGENTDESK_LLM_MODEL)")
	c.LLMKey = env("AGENTDESK_LLM_KEY", "")
	fs.DurationVar(&c.LLMTimeout, "llm-timeout", time.Duration(envInt("AGENTDESK_LLM_TIMEOUT_SECONDS", 15))*time.Second, "longest wait for -llm-url's answer; after it the offline summary is used (env AGENTDESK_LLM_TIMEOUT_SECONDS, in seconds)")
	c.Webhooks = workspace.DefaultWebhookPolicy()
	fs.BoolVar(&c.Webhooks.AllowLoopback, "webhooks-allow-loopback", envBool("AGENTDESK_WEBHOOKS_ALLOW_LOOPBACK", false), "allow webhook URLs to loopback addresses, also over http://: for development and tests only; -demo does not imply it (env AGENTDESK_WEBHOOKS_ALLOW_LOOPBACK)")
	fs.BoolVar(&c.Webhooks.AllowPrivate, "webhooks-allow-private", envBool("AGENTDESK_WEBHOOKS_ALLOW_PRIVATE", false), "allow https:// webhook URLs to private network addresses (10/8, 172.16/12, 192.168/16, fc00::/7, link-local) (env AGENTDESK_WEBHOOKS_ALLOW_PRIVATE)")
	fs.DurationVar(&c.Webhooks.Timeout, "webhook-timeout", time.Duration(envInt("AGENTDESK_WEBHOOK_TIMEOUT_MS", int(c.Webhooks.Timeout/time.Millisecond)))*time.Millisecond, "longest one webhook delivery may take, connection included (env AGENTDESK_WEBHOOK_TIMEOUT_MS, in milliseconds)")
	fs.DurationVar(&c.Webhooks.FirstBackoff, "webhook-backoff", time.Duration(envInt("AGENTDESK_WEBHOOK_BACKOFF_MS", int(c.Webhooks.FirstBackoff/time.Millisecond)))*time.Millisecond, "wait after a webhook delivery's first failure; each further one doubles it (env AGENTDESK_WEBHOOK_BACKOFF_MS, in milliseconds)")
	fs.DurationVar(&c.Webhooks.MaxBackoff, "webhook-max-backoff", time.Duration(envInt("AGENTDESK_WEBHOOK_MAX_BACKOFF_MS", int(c.Webhooks.MaxBackoff/time.Millisecond)))*time.Millisecond, "longest wait between two attempts at a webhook delivery; attempts go on for 24 hours (env AGENTDESK_WEBHOOK_MAX_BACKOFF_MS, in milliseconds)")
	fs.DurationVar(&c.WebhookPoll, "webhook-poll", time.Duration(envInt("AGENTDESK_WEBHOOK_POLL_MS", 1000))*time.Millisecond, "how often webhooks look for events to deliver or retry, besides being woken when events are stored (env AGENTDESK_WEBHOOK_POLL_MS, in milliseconds)")
	host, _ := os.Hostname()
	fs.StringVar(&c.Node, "node", env("AGENTDESK_NODE", fmt.Sprintf("%s-%d", host, os.Getpid())), "this node's name in cross-node events on MongoDB (env AGENTDESK_NODE)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if (c.LLMURL == "") != (c.LLMModel == "") {
		return c, fmt.Errorf("-llm-url and -llm-model go together")
	}
	if c.LLMURL != "" {
		if u, err := url.Parse(c.LLMURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c, fmt.Errorf("-llm-url %q: want an http(s) URL", c.LLMURL)
		}
	}
	for _, o := range strings.Split(origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			origin, err := parseOrigin(o)
			if err != nil {
				return c, err
			}
			c.AllowedOrigins = append(c.AllowedOrigins, origin)
		}
	}
	if c.MetricsAddr == "off" {
		c.MetricsAddr = ""
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return c, fmt.Errorf("-tls-cert and -tls-key go together")
	}
	c.BcryptCost = 10
	if c.Outbox.Lease <= 0 || c.Outbox.MaxAttempts < 1 || c.Outbox.FirstBackoff <= 0 || c.Outbox.MaxBackoff < c.Outbox.FirstBackoff {
		return c, fmt.Errorf("-outbox-lease and -outbox-backoff must be positive, -outbox-attempts at least 1, -outbox-max-backoff at least -outbox-backoff")
	}
	if c.Webhooks.Timeout <= 0 || c.Webhooks.FirstBackoff <= 0 || c.Webhooks.MaxBackoff < c.Webhooks.FirstBackoff {
		return c, fmt.Errorf("-webhook-timeout and -webhook-backoff must be positive, -webhook-max-backoff at least -webhook-backoff")
	}
	c.Webhooks.Lease = max(c.Webhooks.Lease, 3*c.Webhooks.Timeout)
	c.WebchatTokenBurst, c.WebchatIPBurst = 10, 100
	if c.SocketPing <= 0 || c.SocketRecheck <= 0 {
		return c, fmt.Errorf("-socket-ping and -socket-recheck must be positive")
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return c, fmt.Errorf("-public-url: %q is not a base URL like https://desk.example.com", c.PublicURL)
		}
		c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	}
	if c.MaxWebhookBytes < 1 {
		return c, fmt.Errorf("-max-webhook-bytes must be at least 1")
	}
	if c.MaxMessageChars < 1 {
		return c, fmt.Errorf("-max-message-chars must be at least 1")
	}
	// The parser reads a token limit of 0 as no limit at all.
	if c.MaxTokens < 1 || c.MaxFields < 1 || c.MaxFragmentSpreads < 0 {
		return c, fmt.Errorf("-max-tokens and -max-fields must be at least 1, -max-fragment-spreads at least 0")
	}
	return c, nil
}

// parseOrigin checks that o is a browser origin, scheme://host[:port], and returns it in
// lower case. Origins are matched exactly, so a wildcard or a path would never match and is
// refused rather than silently ignored.
func parseOrigin(o string) (string, error) {
	u, err := url.Parse(strings.TrimRight(o, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(u.Host, "*?\\") {
		return "", fmt.Errorf("-allowed-origins: %q is not an origin like https://crm.example.com or http://localhost:5173", o)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}
