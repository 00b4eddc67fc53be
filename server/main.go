// Package server wires agentdesk together: configuration, the store, the domain service,
// the GraphQL handler and the HTTP routes. cmd/agentdesk runs it; tests and benchmarks start
// the real thing through Main.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/agentdesk/agentdesk/blobstore"
	"github.com/agentdesk/agentdesk/channel"
	"github.com/agentdesk/agentdesk/channel/email"
	"github.com/agentdesk/agentdesk/channel/email/emailtest"
	"github.com/agentdesk/agentdesk/channel/twilio"
	"github.com/agentdesk/agentdesk/channel/vonage"
	"github.com/agentdesk/agentdesk/channel/webchat"
	"github.com/agentdesk/agentdesk/channel/whatsapp"
	"github.com/agentdesk/agentdesk/llm"
	"github.com/agentdesk/agentdesk/mongo"
	"github.com/agentdesk/agentdesk/sqlite"
	"github.com/agentdesk/agentdesk/voice"
	"github.com/agentdesk/agentdesk/workspace"
)

// Main is one running agentdesk node.
type Main struct {
	Config Config
	// Clock defaults to the system clock; tests may replace it before Run.
	Clock workspace.Clock
	// Stdout receives the start-up lines.
	Stdout io.Writer

	// Store is opened by Run from the configuration, unless set before Run: then the caller
	// owns it (two nodes in one test share one store) and Close leaves it open.
	Store   workspace.Store
	Service *workspace.Service
	Hub     *workspace.Hub
	// Bus carries events to the other nodes (MongoDB only); nil on the embedded store.
	Bus *mongo.Bus
	// Webchat is the webchat channel of this node's service.
	Webchat *webchat.Channel
	// Providers are the messaging providers identities may use; NewMain fills in every one
	// agentdesk carries, and tests may replace them before Run.
	Providers []channel.Provider

	// Voice is the voice channel (SIP and WebRTC calls); nil when -sip-addr is empty and
	// -demo is off.
	Voice *voice.Bridge

	providers catalog
	// demo is the phone simulator of -demo; nil without it.
	demo *demoPhone
	// demoCaller is -demo's simulated caller; nil without it.
	demoCaller *voice.Caller
	// blobs keeps attachments' bytes (-blob-url); Run opens it.
	blobs    blobstore.Store
	ownStore bool
	// releaseData lets go of the data directory Run took (sqlite.Own).
	releaseData func() error
	listener    net.Listener
	http        *http.Server
	tls         bool
	metrics     *metrics
	// anonymous counts unauthenticated websockets per client address.
	anonymous *anonymousSockets
	// base is every request's context: websockets served on their own goroutine
	// (websocketTransport) end with it too.
	base    context.Context
	stop    context.CancelFunc
	done    chan struct{}
	running sync.WaitGroup

	// smtp is the inbound SMTP listener (-smtp-addr); nil without one.
	smtp         *email.Listener
	smtpListener net.Listener
	smtpDone     chan struct{}
	// demoMail catches the demo email identity's outbound mail (-demo).
	demoMail *emailtest.Sink

	// metricsListener serves /metrics apart from the public listener; nil when switched off.
	metricsListener net.Listener
	metricsHTTP     *http.Server
	metricsDone     chan struct{}
}

// NewMain returns a Main with the given configuration.
func NewMain(c Config) *Main {
	return &Main{Config: c, Clock: workspace.SystemClock{}, Stdout: os.Stdout,
		Providers: []channel.Provider{vonage.New(), twilio.New(), whatsapp.New(), email.New(), voice.Provider{}}}
}

// Run opens the store, seeds demo data when asked, and starts serving. It returns once the
// listener is open; Close stops everything.
func (m *Main) Run(ctx context.Context) error {
	tuneGC()
	// A bad certificate fails before anything else happens.
	var tlsConfig *tls.Config
	if m.Config.TLSCert != "" || m.Config.TLSKey != "" {
		cert, err := tls.LoadX509KeyPair(m.Config.TLSCert, m.Config.TLSKey)
		if err != nil {
			return fmt.Errorf("tls: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	store, where := m.Store, "given store"
	if store == nil {
		if m.Config.MongoURI == "" { // the embedded store serves one process (sqlite.Own)
			if err := os.MkdirAll(m.Config.DataDir, 0o750); err != nil {
				return err
			}
			release, err := sqlite.Own(m.Config.DataDir)
			if err != nil {
				return err
			}
			m.releaseData = release
		}
		var err error
		if store, where, err = OpenStore(ctx, m.Config); err != nil {
			m.closeStore()
			return err
		}
		m.Store, m.ownStore = store, true
	}
	m.metrics = newMetrics(store)
	m.anonymous = &anonymousSockets{limit: m.Config.MaxAnonymousSocketsPerIP, byIP: map[string]int{}}
	if m.Config.SocketPing <= 0 {
		m.Config.SocketPing = 15 * time.Second
	}
	if m.Config.SocketRecheck <= 0 {
		m.Config.SocketRecheck = 30 * time.Second
	}
	m.Hub = workspace.NewHub(64)
	m.Service = workspace.NewService(store, m.Hub, m.Clock)
	m.Service.Bus = m.metrics.countEvents(m.Hub)
	m.Service.SessionTTL = m.Config.SessionTTL
	m.Service.MaxMessageChars = m.Config.MaxMessageChars
	m.Service.LoginThrottle.FreePerAddr = m.Config.LoginAddrFailures
	if m.Config.LLMURL != "" {
		m.Service.Summariser = llm.New(m.Config.LLMURL, m.Config.LLMModel, m.Config.LLMKey, m.Config.LLMTimeout)
	}
	if ms, ok := store.(*mongo.Store); ok {
		bus, err := mongo.NewBus(ctx, ms, m.Hub, m.Config.Node)
		if err != nil {
			m.closeStore()
			return err
		}
		m.Bus, m.Service.Bus = bus, m.metrics.countEvents(bus)
	}
	m.Webchat = webchat.New(m.Service)
	m.providers = catalog{}
	for _, p := range m.Providers {
		m.providers[p.Name()] = p
	}
	m.Service.Providers, m.Service.Senders = m.providers, m.senders(m.providers)
	if m.Config.Outbox.Lease > 0 {
		m.Service.Outbox = m.Config.Outbox
	}
	if m.Config.Webhooks.Timeout > 0 {
		m.Service.WebhookPolicy = m.Config.Webhooks
	}
	m.Service.Poster = countedPoster{newWebhookPoster(m.Service.WebhookPolicy), m.metrics}
	m.Service.Resolver = net.DefaultResolver
	if m.Config.BcryptCost != 0 {
		m.Service.BcryptCost = m.Config.BcryptCost
	}
	if err := m.openAttachments(ctx); err != nil {
		m.closeStore()
		return err
	}
	if err := m.startVoice(ctx); err != nil {
		m.closeStore()
		return err
	}
	if m.Config.Demo {
		if err := m.Service.SeedDemo(ctx); err != nil {
			m.closeStore()
			return fmt.Errorf("demo data: %w", err)
		}
	}
	var err error
	m.listener, err = net.Listen("tcp", m.Config.Addr)
	if err != nil {
		m.closeStore()
		return err
	}
	if m.Config.MetricsAddr != "" {
		if m.metricsListener, err = net.Listen("tcp", m.Config.MetricsAddr); err != nil {
			m.listener.Close()
			m.closeStore()
			return fmt.Errorf("metrics listener: %w", err)
		}
	}
	if m.Config.SMTPAddr != "" {
		if m.smtpListener, err = net.Listen("tcp", m.Config.SMTPAddr); err != nil {
			m.listener.Close()
			if m.metricsListener != nil {
				m.metricsListener.Close()
			}
			m.closeStore()
			return fmt.Errorf("smtp listener: %w", err)
		}
	} else if m.Config.Demo {
		m.smtpListener = demoSMTPListener()
	}
	if m.smtpListener != nil {
		m.smtp = &email.Listener{Receiver: m.Service, MaxMessageBytes: m.Config.SMTPMaxBytes, Domain: "agentdesk"}
		m.smtpDone = make(chan struct{})
		go func() {
			defer close(m.smtpDone)
			if err := m.smtp.Serve(m.smtpListener); err != nil {
				slog.Error("smtp listener stopped", "err", err)
			}
		}()
	}
	if m.Config.Demo {
		if m.demoMail, err = m.startDemoMail(ctx); err != nil {
			m.listener.Close()
			m.closeStore()
			return fmt.Errorf("demo mail: %w", err)
		}
		if m.demo, err = m.startDemoPhone(ctx); err != nil {
			m.listener.Close()
			m.closeStore()
			return fmt.Errorf("demo phone: %w", err)
		}
		if m.Voice != nil {
			if err := m.startDemoCaller(ctx); err != nil {
				m.demo.sim.Close()
				m.listener.Close()
				m.closeStore()
				return fmt.Errorf("demo caller: %w", err)
			}
		}
	}
	// Every request context derives from bg, so Close ends open subscriptions (SSE streams,
	// websockets) at once; Shutdown alone would wait for them until its timeout.
	bg, stop := context.WithCancel(context.Background())
	m.base, m.stop, m.done = bg, stop, make(chan struct{})
	m.http = &http.Server{
		Handler:           m.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return bg },
		TLSConfig:         tlsConfig,
	}
	m.tls = tlsConfig != nil
	go m.metrics.sampleStore(bg, 10*time.Second)
	if m.Config.Tick > 0 {
		sched := &workspace.Scheduler{Service: m.Service, Interval: m.Config.Tick, SweepEvery: max(1, int(2*time.Second/m.Config.Tick)),
			OnError: func(err error) {
				m.metrics.timerErrors.Inc()
				slog.Warn("scheduler", "err", err)
			}}
		m.running.Add(1)
		go func() { defer m.running.Done(); sched.Run(bg) }()
	}
	if m.Config.OutboxPoll > 0 {
		m.running.Add(1)
		go func() { defer m.running.Done(); m.runOutbox(bg) }()
	}
	if m.Config.IMAPRescan > 0 {
		m.running.Add(1)
		go func() { defer m.running.Done(); m.runIMAP(bg) }()
	}
	if m.Config.WebhookPoll > 0 {
		m.running.Add(1)
		go func() { defer m.running.Done(); m.runWebhooks(bg) }()
	}
	go func() {
		defer close(m.done)
		serve := m.http.Serve
		if m.tls {
			// The certificate is in TLSConfig already; ServeTLS adds HTTP/2 to it.
			serve = func(l net.Listener) error { return m.http.ServeTLS(l, "", "") }
		}
		if err := serve(m.listener); !errors.Is(err, http.ErrServerClosed) {
			slog.Error("http server stopped", "err", err)
		}
	}()
	if m.metricsListener != nil {
		m.metricsHTTP = &http.Server{Handler: m.metricsRoutes(), ReadHeaderTimeout: 10 * time.Second}
		m.metricsDone = make(chan struct{})
		go func() {
			defer close(m.metricsDone)
			if err := m.metricsHTTP.Serve(m.metricsListener); !errors.Is(err, http.ErrServerClosed) {
				slog.Error("metrics server stopped", "err", err)
			}
		}()
	}
	fmt.Fprintf(m.Stdout, "agentdesk listening on %s (store: %s)\n", m.displayURL(), where)
	if m.metricsListener != nil {
		fmt.Fprintf(m.Stdout, "metrics on %s\n", m.MetricsURL())
	}
	if m.smtpListener != nil {
		fmt.Fprintf(m.Stdout, "smtp listener on %s\n", displayAddr(m.smtpListener.Addr()))
	}
	if m.Config.Demo {
		fmt.Fprintf(m.Stdout, "demo data: agents alice, bob, carol and supervisor admin (password %q), CRM key %q\n",
			workspace.DemoPassword, workspace.DemoAPIKey)
		if m.smtpListener != nil {
			fmt.Fprintf(m.Stdout, "demo email: swaks --server %s --to %s --from you@example.com --header 'Subject: Hello' --body 'Where is my order?'\n",
				m.smtpListener.Addr(), DemoEmailAddress)
		}
	}
	return nil
}

// SMTPAddr is the address of the inbound SMTP listener, once Run has returned; "" when
// there is none.
func (m *Main) SMTPAddr() string {
	if m.smtpListener == nil {
		return ""
	}
	return m.smtpListener.Addr().String()
}

// Addr is the address the server listens on, once Run has returned.
func (m *Main) Addr() string { return m.listener.Addr().String() }

// URL is the server's base URL, once Run has returned: https:// when it serves TLS.
func (m *Main) URL() string { return m.scheme() + m.Addr() }

func (m *Main) scheme() string {
	if m.tls {
		return "https://"
	}
	return "http://"
}

// displayURL is URL with localhost for an unspecified address, for the start-up line.
func (m *Main) displayURL() string { return m.scheme() + displayAddr(m.listener.Addr()) }

// MetricsAddr is the address of the metrics listener, once Run has returned; "" when there
// is none.
func (m *Main) MetricsAddr() string {
	if m.metricsListener == nil {
		return ""
	}
	return m.metricsListener.Addr().String()
}

// MetricsURL is the URL of /metrics on the metrics listener, "" when there is none.
func (m *Main) MetricsURL() string {
	if m.metricsListener == nil {
		return ""
	}
	return "http://" + displayAddr(m.metricsListener.Addr()) + "/metrics"
}

// Close stops accepting requests on both listeners, ends open websockets and closes the
// store.
func (m *Main) Close() error {
	if m.http == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m.stop()
	err := m.http.Shutdown(ctx)
	// Shutdown does not wait for hijacked connections (websockets): close them.
	m.http.Close()
	<-m.done
	if m.metricsHTTP != nil {
		err = errors.Join(err, m.metricsHTTP.Shutdown(ctx))
		<-m.metricsDone
	}
	if m.smtp != nil {
		err = errors.Join(err, m.smtp.Close())
		<-m.smtpDone
	}
	m.running.Wait()
	if m.demo != nil {
		m.demo.sim.Close()
	}
	if m.demoMail != nil {
		m.demoMail.Close()
	}
	if m.demoCaller != nil {
		m.demoCaller.Close()
	}
	return errors.Join(err, m.closeStore())
}

// startVoice starts the voice channel when -sip-addr is set, or -demo asks for it, and ends
// every call a previous run left live: its media died with that process.
func (m *Main) startVoice(ctx context.Context) error {
	addr := m.Config.SIPAddr
	if addr == "" && m.Config.Demo {
		addr = "127.0.0.1:0"
	}
	if addr == "" {
		return nil
	}
	cfg := voice.Config{SIPAddr: addr, Hardphones: hardphones(m.Config.SIPPhones)}
	if m.Config.MediaIP != "" {
		if cfg.MediaIP = net.ParseIP(m.Config.MediaIP); cfg.MediaIP == nil {
			return fmt.Errorf("-media-ip: not an IP address: %q", m.Config.MediaIP)
		}
	}
	b, err := voice.New(m.Service, cfg)
	if err != nil {
		return err
	}
	m.Voice, m.Service.Calls = b, b
	if n, err := m.Service.EndDeadCalls(ctx); err != nil {
		b.Close()
		return fmt.Errorf("ending calls a previous run left: %w", err)
	} else if n > 0 {
		slog.Info("voice: ended calls a previous run left live", "calls", n)
	}
	return nil
}

// hardphones reads "username:password,…" (AGENTDESK_SIP_PHONES).
func hardphones(list string) func(string) (string, bool) {
	phones := map[string]string{}
	for _, item := range strings.Split(list, ",") {
		if u, p, ok := strings.Cut(strings.TrimSpace(item), ":"); ok && u != "" && p != "" {
			phones[u] = p
		}
	}
	return func(u string) (string, bool) { p, ok := phones[u]; return p, ok }
}

// closeStore closes the bus, the blob store and, if Run opened it, the store.
func (m *Main) closeStore() error {
	var err error
	if m.Voice != nil {
		err = m.Voice.Close()
	}
	if m.Bus != nil {
		err = m.Bus.Close()
	}
	if m.blobs != nil {
		err = errors.Join(err, m.blobs.Close())
	}
	if m.ownStore {
		err = errors.Join(err, m.Store.Close())
	}
	if m.releaseData != nil {
		err = errors.Join(err, m.releaseData())
		m.releaseData = nil
	}
	return err
}

// OpenStore opens the store the configuration names: MongoDB when MongoURI is set, else the
// embedded SQLite store in DataDir. It also returns a description for the start-up line.
func OpenStore(ctx context.Context, c Config) (workspace.Store, string, error) {
	if c.MongoURI != "" {
		s, err := mongo.Open(ctx, c.MongoURI)
		if err != nil {
			return nil, "", fmt.Errorf("mongodb: %w", err)
		}
		return s, "mongodb " + redactURI(c.MongoURI), nil
	}
	if err := os.MkdirAll(c.DataDir, 0o750); err != nil {
		return nil, "", err
	}
	s, err := sqlite.Open(ctx, c.DataDir)
	if err != nil {
		return nil, "", err
	}
	abs, _ := filepath.Abs(filepath.Join(c.DataDir, "agentdesk.db"))
	return s, "embedded sqlite " + abs, nil
}

// redactURI hides the password of a connection string before it is printed.
func redactURI(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return "(unparseable URI)"
	}
	return u.Redacted()
}

func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if ok && tcp.IP.IsUnspecified() {
		return fmt.Sprintf("localhost:%d", tcp.Port)
	}
	return a.String()
}

// defaultGCPercent is the garbage collector's target when GOGC does not name one: the heap
// grows to three times what is live before a collection instead of Go's twice. The server's
// live heap is small beside a machine's memory (a connected agent costs under 50 KiB, most of
// it goroutine stacks, which GOGC does not scale), and a webchat cycle collects a fifth less
// often: +5 % cycles per second in issue 14's benchmark, with the same RSS per idle agent
// socket. GOGC, and GOMEMLIMIT for a hard ceiling, still decide when set.
const defaultGCPercent = 200

// tuneGC applies defaultGCPercent unless GOGC is set.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
}
