package peer

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// Config configures a Peer. The zero value of every field but Data has a
// sensible default.
type Config struct {
	// Data is the directory of the peer's own bbolt file, czrm.db
	// (created, 0700, if missing). Required.
	Data string
	// Demo adds the OAuth2 client "sportello" (secret "demo"), the staff
	// users "agent" and "svu" (password "demo") and the fault admin
	// endpoint with secret "demo" (unless AdminSecret is set).
	Demo bool
	// Clients are the OAuth2 clients: client_id → client_secret.
	Clients map[string]string
	// Agents are the staff users of the views (contact centre and SVU
	// back office): username → password.
	Agents map[string]string
	// AdminSecret, when set, mounts the fault admin endpoints under
	// /_peer/ (Authorization: Bearer ADMIN_SECRET). Without it they exist
	// only in Demo, with secret "demo".
	AdminSecret string
	// TokenTTL is the lifetime of access tokens (default 2 h, the
	// Salesforce default session timeout).
	TokenTTL time.Duration
	// SessionTTL is the lifetime of a staff session (default 8 h).
	SessionTTL time.Duration
	// Clock gives the time (default time.Now).
	Clock func() time.Time
	// Logger gets one line per call (method, route, status, duration);
	// never a query string, a body or a codice fiscale. Default: discard.
	Logger *slog.Logger
	// Location is the time zone of the answers and the views (default
	// Europe/Rome, or UTC where the zone database is missing).
	Location *time.Location
	// RequestPrefix starts the Open311 service_request_id (default "RC":
	// RC-2026-000123).
	RequestPrefix string
	// OnUpsert, when set, is told about every upsert applied, after it is
	// committed, in the order the store applied them (tests check the
	// order in which a sender's changes arrived). Keep it short.
	OnUpsert func(rec Record, created, changed bool)
	// VersionField is the field of the version guard (default
	// DefaultVersionField, "Sync_Seq__c"; "-" turns the guard off): an
	// upsert whose value of it is lower than the record's is refused with
	// 409 STALE_VERSION and changes nothing; an equal one is applied. An
	// upsert without the field is not guarded. The keyed upsert has no
	// order of its own, so this is what keeps a late call (a timed-out
	// slow one, one of a killed sender) from putting an older state over
	// a newer one.
	VersionField string
}

// Peer is the reference CzRM: a keyed-upsert (Salesforce subset) and
// Open311 GeoReport v2 case store with the staff views.
type Peer struct {
	cfg      Config
	store    *store
	faults   *Faults
	log      *slog.Logger
	loc      *time.Location
	sessions *sessions
	handler  http.Handler
	closeMu  sync.Mutex
	closed   bool
	applyMu  sync.Mutex // orders Config.OnUpsert
	tmpl     *templates
}

// New opens (or creates) the peer's store and prepares its handler.
func New(cfg Config) (*Peer, error) {
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 2 * time.Hour
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 8 * time.Hour
	}
	if cfg.RequestPrefix == "" {
		cfg.RequestPrefix = "RC"
	}
	if cfg.Location == nil {
		if loc, err := time.LoadLocation("Europe/Rome"); err == nil {
			cfg.Location = loc
		} else {
			cfg.Location = time.UTC
		}
	}
	clients := map[string]string{}
	agents := map[string]string{}
	if cfg.Demo {
		clients["sportello"] = "demo"
		agents["agent"] = "demo"
		agents["svu"] = "demo"
		if cfg.AdminSecret == "" {
			cfg.AdminSecret = "demo"
		}
	}
	for id, secret := range cfg.Clients {
		if id == "" || secret == "" {
			return nil, errors.New("peer: an OAuth2 client needs a non-empty client_id and client_secret")
		}
		clients[id] = secret
	}
	for u, pw := range cfg.Agents {
		if u == "" || pw == "" {
			return nil, errors.New("peer: an agent needs a non-empty username and password")
		}
		agents[u] = pw
	}
	cfg.Clients, cfg.Agents = clients, agents
	tm, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	st, err := openStore(cfg.Data)
	if err != nil {
		return nil, err
	}
	p := &Peer{cfg: cfg, store: st, faults: newFaults(), log: cfg.Logger, loc: cfg.Location,
		sessions: newSessions(), tmpl: tm}
	if len(clients) == 0 {
		p.log.Warn("czrm peer: no OAuth2 clients configured: no one can call the APIs")
	}
	p.handler = p.routes()
	return p, nil
}

// Faults returns the fault controller (switches and call counters).
func (p *Peer) Faults() *Faults { return p.faults }

// Handler returns the peer's HTTP handler: APIs, views and admin.
func (p *Peer) Handler() http.Handler { return p.handler }

// Close ends every hanging or slowed call and closes the store. Calls
// still running afterwards fail.
func (p *Peer) Close() error {
	p.closeMu.Lock()
	defer p.closeMu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	p.faults.release()
	return p.store.close()
}

// RevokeTokens invalidates every access token issued so far: the next API
// call with one gets 401, as after a session expiry on the real CzRM.
func (p *Peer) RevokeTokens() error { return p.store.revokeTokens() }

// Record returns the record upserted under (object, extIDField, value),
// or ErrNotFound.
func (p *Peer) Record(object, extIDField, value string) (*Record, error) {
	return p.store.record(object, extIDField, value)
}

// Records returns the upserted records held under an external id (any
// object, any external id field).
func (p *Peer) Records(externalID string) ([]Record, error) {
	recs, _, err := p.store.byExternalID(externalID)
	return recs, err
}

// ServiceRequest returns an Open311 request by service_request_id, or
// ErrNotFound.
func (p *Peer) ServiceRequest(id string) (*ServiceRequest, error) { return p.store.request(id) }

// ServiceRequestsByExternalID returns the Open311 requests filed with
// attribute[external_id]=externalID (more than one means duplicates).
func (p *Peer) ServiceRequestsByExternalID(externalID string) ([]ServiceRequest, error) {
	_, reqs, err := p.store.byExternalID(externalID)
	return reqs, err
}

func (p *Peer) now() time.Time { return p.cfg.Clock() }

// Run serves a Peer on addr (":0" picks a free port) until ctx ends, then
// shuts down gracefully: hanging fault calls are released, running calls
// get up to 5 s, and the store is closed. ready, if not nil, is called
// with the base URL (http://HOST:PORT) once the socket listens.
func Run(ctx context.Context, addr string, cfg Config, ready func(url string)) error {
	p, err := New(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		_ = p.Close()
		return fmt.Errorf("peer: listen %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           p.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(p.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if ready != nil {
		ready(baseURLOf(ln.Addr()))
	}
	select {
	case err = <-errc:
		_ = p.Close()
		return fmt.Errorf("peer: serve: %w", err)
	case <-ctx.Done():
	}
	p.faults.release()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	if err != nil {
		_ = srv.Close()
	}
	<-errc
	if cerr := p.Close(); err == nil {
		err = cerr
	}
	return err
}

// baseURLOf turns a listening address into a URL a local client can use
// (an unspecified host becomes 127.0.0.1).
func baseURLOf(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "http://" + a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// routes builds the handler. Go 1.22 patterns: method, path, wildcards.
func (p *Peer) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", p.handleIndex)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})

	mux.HandleFunc("POST /services/oauth2/token", p.guard(KindToken, p.handleToken))
	const sobj = "/services/data/{version}/sobjects/{object}/{field}/{value}"
	mux.HandleFunc("PATCH "+sobj, p.guard(KindUpsert, p.handleUpsert))
	mux.HandleFunc("GET "+sobj, p.guard(KindUpsert, p.handleGetRecord))

	mux.HandleFunc("GET /open311/v2/discovery.json", p.guard(KindOpen311, p.handleDiscovery))
	mux.HandleFunc("GET /open311/v2/services.json", p.guard(KindOpen311, p.handleServices))
	mux.HandleFunc("GET /open311/v2/services/{file}", p.guard(KindOpen311, p.handleServiceDefinition))
	mux.HandleFunc("POST /open311/v2/requests.json", p.guard(KindOpen311, p.handlePostRequest))
	mux.HandleFunc("GET /open311/v2/requests.json", p.guard(KindOpen311, p.handleSearchRequests))
	mux.HandleFunc("GET /open311/v2/requests/{file}", p.guard(KindOpen311, p.handleGetRequest))

	mux.HandleFunc("GET /api/v1/records", p.guard(KindRecords, p.handleRecords))
	mux.HandleFunc("POST /api/v1/citizens/timeline", p.guard(KindRecords, p.handleTimeline))

	p.viewRoutes(mux)

	if p.cfg.AdminSecret != "" {
		mux.HandleFunc("GET /_peer/faults", p.admin(p.handleGetFaults))
		mux.HandleFunc("PUT /_peer/faults/{kind}", p.admin(p.handleSetFault))
		mux.HandleFunc("DELETE /_peer/faults/{kind}", p.admin(p.handleClearFault))
		mux.HandleFunc("DELETE /_peer/faults", p.admin(p.handleClearFault))
		mux.HandleFunc("GET /_peer/stats", p.admin(p.handleStats))
		mux.HandleFunc("DELETE /_peer/stats", p.admin(p.handleResetStats))
		mux.HandleFunc("POST /_peer/revoke-tokens", p.admin(p.handleRevokeTokens))
	}
	return p.logged(mux)
}

// ---- logging -----------------------------------------------------------------

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (hijack).
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// logged logs one line per call with the matched route pattern, not the
// path: paths of the views and of the APIs may carry case ids, and the
// peer logs no identifier of a citizen's case.
func (p *Peer) logged(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			route := r.Pattern
			if route == "" {
				route = "(unmatched)"
			}
			status := sw.status
			if status == 0 {
				status = -1 // dropped or hijacked: no answer
			}
			p.log.Info("czrm call", "method", r.Method, "route", route, "status", status,
				"ms", time.Since(start).Milliseconds())
		}()
		next.ServeHTTP(sw, r)
	})
}

// ---- answers -----------------------------------------------------------------

const maxBody = 1 << 20

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":"encoding"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// problem is an RFC 9457 problem document, as the hub's API answers.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail,omitempty"`
}

func writeProblem(w http.ResponseWriter, status int, code, detail string) {
	b, _ := json.Marshal(problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Code: code, Detail: detail})
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// ---- credentials ---------------------------------------------------------------

// equalSecret compares in constant time (over the hashes, so lengths leak
// nothing either).
func equalSecret(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// checkClient reports whether id/secret is a configured client.
func (p *Peer) checkClient(id, secret string) bool {
	want, ok := p.cfg.Clients[id]
	if !ok {
		want = "\x00no such client"
	}
	return equalSecret(secret, want) && ok
}

// clientBySecret returns the client whose secret is key (the Open311
// api_key).
func (p *Peer) clientBySecret(key string) (string, bool) {
	if key == "" {
		return "", false
	}
	ids := make([]string, 0, len(p.cfg.Clients))
	for id := range p.cfg.Clients {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	found := ""
	for _, id := range ids {
		if equalSecret(key, p.cfg.Clients[id]) && found == "" {
			found = id
		}
	}
	return found, found != ""
}

// bearer returns the client of the request's access token
// (Authorization: Bearer TOKEN, or the Salesforce "OAuth TOKEN").
func (p *Peer) bearer(r *http.Request) (string, bool) {
	tok := bearerToken(r)
	if tok == "" {
		return "", false
	}
	return p.store.token(tok, p.now())
}

func bearerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !(strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "OAuth")) {
		return ""
	}
	return strings.TrimSpace(tok)
}

// ---- admin (fault switches over HTTP) ---------------------------------------

func (p *Peer) admin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if tok := bearerToken(r); tok == "" || !equalSecret(tok, p.cfg.AdminSecret) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="czrm-admin"`)
			writeProblem(w, http.StatusUnauthorized, "invalid_admin_secret", "Authorization: Bearer ADMIN_SECRET required")
			return
		}
		h(w, r)
	}
}

// faultWire is a Fault as the admin endpoint reads and writes it.
type faultWire struct {
	Mode       Mode `json:"mode"`
	Count      int  `json:"count,omitempty"`
	Status     int  `json:"status,omitempty"`
	RetryAfter int  `json:"retry_after_s,omitempty"`
	DelayMS    int  `json:"delay_ms,omitempty"`
}

func (p *Peer) handleGetFaults(w http.ResponseWriter, r *http.Request) {
	out := map[Kind]faultWire{}
	for k, f := range p.faults.Active() {
		out[k] = faultWire{Mode: f.Mode, Count: f.Count, Status: f.Status, RetryAfter: f.RetryAfter, DelayMS: int(f.Delay / time.Millisecond)}
	}
	writeJSON(w, http.StatusOK, out)
}

func (p *Peer) handleSetFault(w http.ResponseWriter, r *http.Request) {
	kind := Kind(r.PathValue("kind"))
	if !kind.valid() {
		writeProblem(w, http.StatusNotFound, "unknown_kind", "kind must be token, upsert, open311, records or all")
		return
	}
	var fw faultWire
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fw); err != nil {
		writeProblem(w, http.StatusBadRequest, "invalid_body", err.Error())
		return
	}
	f := Fault{Mode: fw.Mode, Count: fw.Count, Status: fw.Status, RetryAfter: fw.RetryAfter, Delay: time.Duration(fw.DelayMS) * time.Millisecond}
	if err := p.faults.Set(kind, f); err != nil {
		writeProblem(w, http.StatusBadRequest, "invalid_fault", err.Error())
		return
	}
	p.handleGetFaults(w, r)
}

func (p *Peer) handleClearFault(w http.ResponseWriter, r *http.Request) {
	if k := r.PathValue("kind"); k != "" {
		if !Kind(k).valid() {
			writeProblem(w, http.StatusNotFound, "unknown_kind", "kind must be token, upsert, open311, records or all")
			return
		}
		p.faults.Clear(Kind(k))
	} else {
		p.faults.ClearAll()
	}
	p.handleGetFaults(w, r)
}

func (p *Peer) handleStats(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, p.faults.AllStats())
}

func (p *Peer) handleResetStats(w http.ResponseWriter, r *http.Request) {
	p.faults.ResetStats()
	w.WriteHeader(http.StatusNoContent)
}

func (p *Peer) handleRevokeTokens(w http.ResponseWriter, r *http.Request) {
	if err := p.RevokeTokens(); err != nil {
		writeProblem(w, http.StatusInternalServerError, "store_error", "could not revoke tokens")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
