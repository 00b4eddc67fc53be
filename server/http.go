package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/pprof"
	"path"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/agentdesk/agentdesk/channel/webchat"
	"github.com/agentdesk/agentdesk/frontend"
	"github.com/agentdesk/agentdesk/graph"
	"github.com/agentdesk/agentdesk/workspace"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/cors"
)

// routes is the whole public HTTP surface of a node; /metrics is on its own listener
// (metricsRoutes).
func (m *Main) routes() http.Handler {
	mux := http.NewServeMux()
	gql := m.graphqlHandler()
	mux.Handle("/query", withClientIP(m.trackWebsockets(m.authenticate(m.limitUpload(limitBody(m.Config.MaxBodyBytes, m.Config.MaxAnonymousBodyBytes, codeTransportErrors(gql)))))))
	mux.Handle("GET /attachments/{id}", withClientIP(m.authenticate(http.HandlerFunc(m.download))))
	// Provider webhooks carry their own signatures: no bearer token, no CORS, own body limit.
	mux.HandleFunc("POST /webhooks/{provider}/{identity}/{route}", m.webhook)
	mux.HandleFunc("GET /webhooks/{provider}/{identity}", m.webhook)
	mux.HandleFunc("POST /webhooks/{provider}/{identity}", m.webhook)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, map[string]string{"status": "ok"}) })
	mux.HandleFunc("GET /readyz", m.ready)
	// Not the SPA's index.html either: a scraper pointed at the public address must fail.
	mux.Handle("/metrics", http.NotFoundHandler())
	assets := frontend.Dist()
	mux.HandleFunc("GET /playground", func(w http.ResponseWriter, r *http.Request) { serveFile(w, r, assets, "playground.html") })
	webchat.Routes(mux, assets, serveFile)
	mux.HandleFunc("GET /demo/phone", func(w http.ResponseWriter, r *http.Request) { serveFile(w, r, assets, "phone.html") })
	mux.Handle("/", spa(assets))
	if m.demoCaller != nil {
		m.demoCallRoutes(mux)
	}
	if m.demo != nil {
		m.demo.routes(mux)
	}

	// Origins are allowed exactly as configured, and none means same-origin only: rs/cors
	// treats an empty AllowedOrigins as "*", so the check is a function.
	allowed := make(map[string]bool, len(m.Config.AllowedOrigins))
	for _, o := range m.Config.AllowedOrigins {
		allowed[strings.ToLower(o)] = true
	}
	c := cors.New(cors.Options{
		AllowOriginFunc:  func(origin string) bool { return allowed[strings.ToLower(origin)] },
		AllowedMethods:   []string{http.MethodGet, http.MethodPost, http.MethodOptions},
		AllowedHeaders:   []string{"Authorization", "Content-Type", "Accept", preflightHeader},
		AllowCredentials: false, // bearer tokens, not cookies
		MaxAge:           600,
	})
	return securityHeaders(assets, c.Handler(mux))
}

// metricsRoutes is the metrics listener's surface: only GET /metrics.
func (m *Main) metricsRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.metrics.registry, promhttp.HandlerOpts{}))
	// Go's profiles, for operators: where the CPU and memory go (go tool pprof
	// http://127.0.0.1:9464/debug/pprof/profile). The listener is the operators' own, on
	// loopback unless -metrics-addr says otherwise.
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return securityHeaders(frontend.Dist(), mux)
}

// authenticate resolves the principal once per HTTP request from the Authorization header.
// A credential that does not authenticate leaves the caller anonymous but marked Rejected,
// so public operations (login) still work and private ones say the token is bad. Websocket
// upgrades authenticate in connection_init instead.
func (m *Main) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := r.Header.Get("Authorization"); h != "" && !isWebsocket(r) {
			p, err := m.Service.Authenticate(r.Context(), bearer(h))
			if err != nil && workspace.ErrorCode(err) != workspace.EUNAUTHENTICATED {
				writeJSON(w, http.StatusServiceUnavailable, errorBody("the database did not answer; retry shortly", workspace.EINTERNAL))
				return
			}
			r = r.WithContext(workspace.WithPrincipal(r.Context(), p))
		}
		next.ServeHTTP(w, r)
	})
}

func isWebsocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// limitBody refuses request bodies larger than limit with 413 before GraphQL reads them.
// Callers without a credential get anonymousLimit: what they may do (login, startWebchat)
// fits in a few kilobytes, and decoding a megabyte of JSON variables costs a tenth of a
// second of CPU that nobody would answer for.
func limitBody(limit, anonymousLimit int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Method == http.MethodGet || isWebsocket(r) || isMultipart(r) {
			next.ServeHTTP(w, r)
			return
		}
		allowed, who := limit, ""
		if anonymousLimit > 0 && workspace.PrincipalFrom(r.Context()).Kind == workspace.Anonymous {
			allowed, who = min(limit, anonymousLimit), " without a valid credential"
		}
		tooLarge := func() {
			writeJSON(w, http.StatusRequestEntityTooLarge,
				errorBody("the request body is larger than the limit of "+strconv.FormatInt(allowed, 10)+" bytes"+who, workspace.EINVALID))
		}
		if r.ContentLength > allowed {
			tooLarge()
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, allowed+1))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, errorBody("could not read the request body", workspace.EINVALID))
			return
		}
		if int64(len(body)) > allowed {
			tooLarge()
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// codeTransportErrors adds extensions.code to errors that gqlgen's HTTP transports write
// themselves (an undecodable body, a GET mutation), which never reach the error presenter,
// cuts every error message to an excerpt, and gives requests that fail before execution
// the status GraphQL over HTTP asks for. Streaming responses (websocket, SSE) pass through
// untouched.
func codeTransportErrors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isWebsocket(r) || strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
			next.ServeHTTP(w, r)
			return
		}
		exec := &execution{}
		cw := &codingWriter{ResponseWriter: w, exec: exec}
		next.ServeHTTP(cw, r.WithContext(context.WithValue(r.Context(), executionKey{}, exec)))
		cw.finish()
	})
}

// execution records whether gqlgen began executing the request's operation. gqlgen's own
// status depends on the error code it recognises (unknown codes get 200 with "data": null),
// so the writer decides from this instead: any response written before execution is a
// request error, whatever produced it.
type execution struct{ started atomic.Bool }

type executionKey struct{}

// markExecution is an operation middleware: gqlgen calls it only for an operation that
// parsed, validated and passed every limit.
func markExecution(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if e, ok := ctx.Value(executionKey{}).(*execution); ok {
		e.started.Store(true)
	}
	return next(ctx)
}

// codingWriter buffers error responses (status ≥ 400) and responses to requests that never
// reached execution, so codes, excerpts and statuses can be fixed in them.
type codingWriter struct {
	http.ResponseWriter
	exec   *execution
	status int
	buf    *bytes.Buffer
}

func (c *codingWriter) WriteHeader(status int) {
	if c.status != 0 {
		return
	}
	c.status = status
	if status >= 400 || !c.exec.started.Load() {
		c.buf = &bytes.Buffer{}
		return
	}
	c.ResponseWriter.WriteHeader(status)
}

func (c *codingWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.WriteHeader(http.StatusOK)
	}
	if c.buf != nil {
		return c.buf.Write(b)
	}
	return c.ResponseWriter.Write(b)
}

func (c *codingWriter) finish() {
	if c.buf == nil {
		return
	}
	body, status := c.buf.Bytes(), c.status
	var resp map[string]any
	if json.Unmarshal(body, &resp) == nil {
		if errs, ok := resp["errors"].([]any); ok {
			if !c.exec.started.Load() {
				// A request that failed before execution has no data entry, and its status
				// follows GraphQL over HTTP: 200 under application/json, 400 under the newer
				// application/graphql-response+json. gqlgen answers 422 or 200 depending on
				// the error; other 4xx (an undecodable body) stay as they are.
				delete(resp, "data")
				if status == http.StatusOK || status == http.StatusUnprocessableEntity {
					status = http.StatusOK
					if strings.HasPrefix(c.Header().Get("Content-Type"), "application/graphql-response+json") {
						status = http.StatusBadRequest
					}
				}
			}
			code := workspace.EINVALID
			if status >= 500 {
				code = workspace.EINTERNAL
			}
			for _, e := range errs {
				if em, ok := e.(map[string]any); ok {
					if msg, ok := em["message"].(string); ok {
						em["message"] = graph.Excerpt(msg)
					}
					ext, _ := em["extensions"].(map[string]any)
					if ext == nil {
						ext = map[string]any{}
						em["extensions"] = ext
					}
					if _, has := ext["code"]; !has {
						ext["code"] = code
					}
				}
			}
			if b, err := json.Marshal(resp); err == nil {
				body = b
			}
		}
	}
	c.ResponseWriter.Header().Del("Content-Length")
	c.ResponseWriter.WriteHeader(status)
	_, _ = c.ResponseWriter.Write(body)
}

// ready answers 200 when the database answers within two seconds.
func (m *Main) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	start := time.Now()
	if err := m.Store.Ping(ctx); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": "database: " + err.Error()})
		return
	}
	m.metrics.storeRoundTrip.Observe(time.Since(start).Seconds())
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// spa serves the built single-page app: files as they are, and index.html for any other
// path so client-side routes survive a reload.
func spa(assets fs.FS) http.Handler {
	files := http.FileServerFS(assets)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if name != "" {
			if st, err := fs.Stat(assets, name); err == nil && !st.IsDir() {
				if strings.HasPrefix(name, "assets/") {
					// Vite puts a content hash in every asset name.
					w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
				}
				files.ServeHTTP(w, r)
				return
			}
		}
		if strings.HasPrefix(name, "assets/") {
			// A stale tab asking for an asset of an older build must get a 404, not HTML.
			http.NotFound(w, r)
			return
		}
		serveFile(w, r, assets, "index.html")
	})
}

func serveFile(w http.ResponseWriter, r *http.Request, assets fs.FS, name string) {
	b, err := fs.ReadFile(assets, name)
	if errors.Is(err, fs.ErrNotExist) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, "The web app is not built into this binary. Run `make run` (or `npm run build` in frontend/ and rebuild).\nThe GraphQL API is at /query.\n")
		return
	}
	ctype := "text/html; charset=utf-8"
	if strings.HasSuffix(name, ".js") {
		ctype = "text/javascript; charset=utf-8"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func errorBody(message, code string) map[string]any {
	return map[string]any{"errors": []map[string]any{{"message": message, "extensions": map[string]string{"code": code}}}}
}
