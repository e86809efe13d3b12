package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/comune-rc/sportello/crmsync"
	"github.com/comune-rc/sportello/desk"
	"github.com/comune-rc/sportello/display"
	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/boltstore"
	"github.com/comune-rc/sportello/hub/httpapi"
	"github.com/comune-rc/sportello/kiosk"
	"github.com/comune-rc/sportello/kpi"
	"github.com/labstack/echo/v4"
)

// serveConfig is the hub's configuration from flags and environment.
type serveConfig struct {
	Addr       string
	Data       string
	SiteFile   string
	Demo       bool
	PublicURL  string
	LogLevel   string
	LogFormat  string
	CzRMURL    string
	CzRMID     string
	CzRMSecret string
	// Sync tunes the CzRM worker: per-attempt timeout, the backoff's
	// ceiling, the breaker's cooldown, how long delivered outbox records
	// are kept. Zero takes crmsync's defaults.
	SyncTimeout    time.Duration
	SyncRetryMax   time.Duration
	SyncCooldown   time.Duration
	SyncOutboxKeep time.Duration
	NoShowAt       int
	MaxWait        time.Duration
	Retention      int
}

func parseServeFlags(args []string, stderr io.Writer, demo bool) (*serveConfig, error) {
	name := "serve"
	if demo {
		name = "demo"
	}
	fs := flag.NewFlagSet("sportello "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &serveConfig{}
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "address to listen on (HOST:PORT)")
	fs.StringVar(&c.Data, "data", "./data", "data directory (created if missing)")
	if !demo {
		fs.StringVar(&c.SiteFile, "site", "", "site file (YAML); default: the built-in CEDIR Sala Piramide site")
		fs.BoolVar(&c.Demo, "demo", false, "seed demo users and device tokens (password demo)")
	}
	fs.StringVar(&c.PublicURL, "public-url", "", "base URL citizens reach the hub at (for ticket QR codes); default http://ADDR")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.CzRMURL, "czrm", os.Getenv("SPORTELLO_CZRM_URL"), "CzRM base URL")
	fs.StringVar(&c.CzRMID, "czrm-client-id", os.Getenv("SPORTELLO_CZRM_CLIENT_ID"), "CzRM OAuth2 client id")
	fs.StringVar(&c.CzRMSecret, "czrm-client-secret", os.Getenv("SPORTELLO_CZRM_CLIENT_SECRET"), "CzRM OAuth2 client secret")
	fs.DurationVar(&c.SyncTimeout, "czrm-timeout", 0, "CzRM: bound of one delivery attempt (default 15s)")
	fs.DurationVar(&c.SyncRetryMax, "czrm-retry-max", 0, "CzRM: longest wait between attempts at one visit (default 5m)")
	fs.DurationVar(&c.SyncCooldown, "czrm-breaker-cooldown", 0, "CzRM: wait before probing a peer whose breaker opened (default 30s)")
	fs.DurationVar(&c.SyncOutboxKeep, "czrm-outbox-keep", 0, "CzRM: how long delivered outbox records are kept (default 1h)")
	fs.IntVar(&c.NoShowAt, "auto-no-show", 3, "recalls after which a further recall marks a no-show (0: never)")
	fs.DurationVar(&c.MaxWait, "max-wait", hub.AdviceWait, "hard bound on anybody's wait: a ticket nearing it is called first (the default is the bound the office-day benchmark measures)")
	fs.IntVar(&c.Retention, "retention-days", 30, "days after which personal data of visits and bookings is purged")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if demo {
		c.Demo = true
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return nil, fmt.Errorf("--addr %q: %v", c.Addr, err)
	}
	if c.Data == "" {
		return nil, errors.New("--data must not be empty")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return nil, fmt.Errorf("--log-format %q: want text or json", c.LogFormat)
	}
	if c.NoShowAt < 0 {
		return nil, fmt.Errorf("--auto-no-show %d: must be 0 or more", c.NoShowAt)
	}
	if c.Retention < 1 || c.Retention > 3650 {
		return nil, fmt.Errorf("--retention-days %d: must be 1-3650", c.Retention)
	}
	if c.MaxWait < time.Minute {
		return nil, fmt.Errorf("--max-wait %s: must be at least 1m", c.MaxWait)
	}
	if c.PublicURL != "" && !strings.HasPrefix(c.PublicURL, "http://") && !strings.HasPrefix(c.PublicURL, "https://") {
		return nil, fmt.Errorf("--public-url %q: must start with http:// or https://", c.PublicURL)
	}
	return c, nil
}

func newLogger(c *serveConfig, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer, demo bool) int {
	cfg, err := parseServeFlags(args, stderr, demo)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "sportello:", err)
		return 2
	}
	log := newLogger(cfg, stderr)
	var czrmDone <-chan error
	if demo && cfg.CzRMURL == "" {
		url, done, err := startDemoCzRM(ctx, filepath.Join(cfg.Data, "czrm"), log)
		if err != nil {
			fmt.Fprintln(stderr, "sportello:", err)
			return 1
		}
		cfg.CzRMURL, cfg.CzRMID, cfg.CzRMSecret, czrmDone = url, "sportello", "demo", done
	}
	h, err := startHub(ctx, cfg, log)
	if err != nil {
		fmt.Fprintln(stderr, "sportello:", err)
		return 1
	}
	fmt.Fprintf(stdout, "Sportello %s listening on %s\n", version, h.url)
	var agents sync.WaitGroup
	if demo {
		if err := startDemoTotems(ctx, h, cfg.Data, stdout, log, &agents); err != nil {
			fmt.Fprintln(stderr, "sportello:", err)
			h.Close()
			return 1
		}
	}
	if cfg.Demo {
		printLinks(stdout, h)
	}
	if czrmDone != nil {
		fmt.Fprintf(stdout, "\nCzRM (reference peer)\n  %-28s %s/czrm/login (agent / demo)\n", "Viste condivise / Shared views", cfg.CzRMURL)
	}
	<-ctx.Done()
	agents.Wait()
	log.Info("shutting down", "component", "main")
	if err := h.Close(); err != nil {
		fmt.Fprintln(stderr, "sportello:", err)
		return 1
	}
	if czrmDone != nil {
		<-czrmDone
	}
	return 0
}

func printLinks(w io.Writer, h *runningHub) {
	for _, g := range httpapi.DemoLinks(h.engine.Site(), h.url, true) {
		fmt.Fprintf(w, "\n%s\n", g.Title)
		for _, l := range g.Links {
			fmt.Fprintf(w, "  %-28s %s\n", l.Title, l.URL)
		}
	}
	fmt.Fprintln(w, "\nUsers: clerk01…clerk18, supervisor, admin — password: demo")
}

// runningHub is a started hub: store, engine, HTTP server.
type runningHub struct {
	url    string
	store  *boltstore.Store
	engine *hub.Engine
	api    *httpapi.Server
	http   *http.Server
	admin  *http.Server
	sock   string
	log    *slog.Logger
	// sync is the CzRM worker, when --czrm is set; stopSync ends it and
	// syncDone is closed when it has.
	sync     *crmsync.Worker
	stopSync context.CancelFunc
	syncDone chan struct{}
}

func loadSite(path string) (*hub.Site, error) {
	if path == "" {
		return hub.BuiltinSite(), nil
	}
	return hub.LoadSite(path)
}

func startHub(ctx context.Context, cfg *serveConfig, log *slog.Logger) (*runningHub, error) {
	site, err := loadSite(cfg.SiteFile)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Data, 0o750); err != nil {
		return nil, fmt.Errorf("--data %s: %w", cfg.Data, err)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("--addr %s: %w", cfg.Addr, err)
	}
	url := "http://" + ln.Addr().String()
	public := cfg.PublicURL
	if public == "" {
		public = url
	}
	public = strings.TrimRight(public, "/")
	store, err := boltstore.Open(filepath.Join(cfg.Data, "sportello.db"), boltstore.Options{Logger: log})
	if err != nil {
		ln.Close()
		return nil, err
	}
	h := &runningHub{url: url, store: store, log: log}
	fail := func(err error) (*runningHub, error) {
		ln.Close()
		store.Close()
		return nil, err
	}
	acc := hub.NewAccounts(hub.AccountsConfig{Store: store})
	if err := seedAccounts(acc, store, site, cfg.Demo, log); err != nil {
		return fail(err)
	}
	key, err := hashKey(cfg.Data)
	if err != nil {
		return fail(err)
	}
	var worker *crmsync.Worker
	var eng *hub.Engine
	var history desk.HistoryFunc
	if cfg.CzRMURL != "" {
		up, o311, err := crmsync.NewCzRMBindings(cfg.CzRMURL, cfg.CzRMID, cfg.CzRMSecret, crmsync.Mapping{}, nil)
		if err != nil {
			return fail(fmt.Errorf("--czrm: %w", err))
		}
		history = up.CitizenHistory
		worker, err = crmsync.New(crmsync.Config{Store: store, Upsert: up, Open311: o311, Location: site.Location(), Logger: log,
			AttemptTimeout: cfg.SyncTimeout, BackoffCap: cfg.SyncRetryMax, BreakerCooldown: cfg.SyncCooldown, OutboxRetention: cfg.SyncOutboxKeep,
			OnReportDelivered: func(protocol, id string) error {
				_, err := eng.ReportDelivered(context.Background(), protocol, id)
				return err
			},
			Reduce: func(ctx context.Context, id string) error { return eng.ReduceCitizen(ctx, id) }})
		if err != nil {
			return fail(fmt.Errorf("crmsync: %w", err))
		}
	}
	eng, err = hub.New(hub.Config{
		OnCommit: func([]hub.Event) {
			if worker != nil {
				worker.Notify()
			}
		},
		HashKey: key,
		Site:    site,
		Store:   store,
		// Rebuilt from the admin catalogue: edited targets order the queue.
		PolicyFor: func(s *hub.Site) hub.Policy {
			return hub.FairPolicyFor(s, hub.FairPolicyConfig{MaxWait: cfg.MaxWait})
		},
		// The projection off the writer: a call-next never waits for it.
		AsyncEstimates:    true,
		AutoNoShowRecalls: cfg.NoShowAt,
		PublicURL:         public,
		Version:           version,
		Logger:            log,
	})
	if err != nil {
		return fail(err)
	}
	h.engine = eng
	pages := []func(*echo.Echo){}
	if worker != nil {
		pages = append(pages, crmsync.Mount(worker))
		sctx, stop := context.WithCancel(context.Background())
		h.sync, h.stopSync, h.syncDone = worker, stop, make(chan struct{})
		go func() {
			defer close(h.syncDone)
			if err := worker.Run(sctx); err != nil && sctx.Err() == nil {
				log.Error("crmsync stopped", "component", "crmsync", "err", err)
			}
		}()
		log.Info("CzRM sync on", "component", "crmsync", "url", cfg.CzRMURL)
	}
	pages = append(pages,
		kiosk.Mount(kiosk.Config{Engine: eng, PublicURL: public}),
		display.Mount(display.Config{Engine: eng, Version: version}),
		desk.Mount(desk.Config{Engine: eng, Accounts: acc, MaxWait: cfg.MaxWait, Secure: strings.HasPrefix(public, "https://"), Reports: store, History: history}),
	)
	apiCfg := httpapi.Config{Engine: eng, Accounts: acc, Backup: store.WriteBackup, PublicURL: public, Version: version, Demo: cfg.Demo, Logger: log, Mount: pages}
	if worker != nil {
		apiCfg.CzRM = czrmHealth(worker)
	}
	h.api = httpapi.New(apiCfg)
	h.http = &http.Server{Handler: h.api.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := h.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server", "component", "main", "err", err)
		}
	}()
	// A local socket in the data directory lets `sportello backup` copy
	// the store of a running hub: the file itself is locked.
	h.sock = filepath.Join(cfg.Data, "hub.sock")
	_ = os.Remove(h.sock)
	if sl, err := net.Listen("unix", h.sock); err == nil {
		_ = os.Chmod(h.sock, 0o600)
		mux := http.NewServeMux()
		mux.HandleFunc("GET /backup", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/octet-stream")
			if _, err := store.WriteBackup(w); err != nil {
				log.Error("backup over socket", "component", "backup", "err", err)
			}
		})
		h.admin = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = h.admin.Serve(sl) }()
	} else {
		log.Warn("no backup socket; sportello backup works only on a stopped hub", "component", "main", "err", err)
	}
	go retention(ctx, eng, store, time.Duration(cfg.Retention)*24*time.Hour, log)
	log.Info("hub started", "component", "main", "addr", ln.Addr().String(), "data", cfg.Data, "site", site.ID, "demo", cfg.Demo)
	return h, nil
}

// Close shuts the hub down in order: stop taking requests, let the writer
// finish what it accepted, close the store.
func (h *runningHub) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h.engine.Feed().Close()
	err := h.http.Shutdown(ctx)
	if h.admin != nil {
		_ = h.admin.Shutdown(ctx)
		_ = os.Remove(h.sock)
	}
	if h.stopSync != nil {
		h.stopSync()
		<-h.syncDone
	}
	h.engine.Close()
	if cerr := h.store.Close(); err == nil {
		err = cerr
	}
	return err
}

// seedAccounts creates the demo users and devices, or the first admin from
// SPORTELLO_ADMIN_PASSWORD. Without --demo there are no default passwords.
func seedAccounts(acc *hub.Accounts, store *boltstore.Store, site *hub.Site, demo bool, log *slog.Logger) error {
	if demo {
		// One hash serves every demo user: they share the password, and
		// the demo starts in a blink instead of twenty bcrypt rounds.
		h, err := acc.HashPassword("demo")
		if err != nil {
			return err
		}
		for i := 1; i <= 18; i++ {
			if err := acc.EnsureUser(fmt.Sprintf("clerk%02d", i), hub.RoleClerk, h); err != nil {
				return err
			}
		}
		if err := acc.EnsureUser("supervisor", hub.RoleSupervisor, h); err != nil {
			return err
		}
		if err := acc.EnsureUser("admin", hub.RoleAdmin, h); err != nil {
			return err
		}
		for i, t := range site.Totems {
			if _, err := acc.EnrollDevice(t.ID, hub.DeviceTotem, fmt.Sprintf("demo-totem-%d", i+1)); err != nil {
				return err
			}
		}
		for i, d := range site.Displays {
			if _, err := acc.EnrollDevice(d.ID, hub.DeviceDisplay, fmt.Sprintf("demo-display-%d", i+1)); err != nil {
				return err
			}
		}
		return nil
	}
	users, err := store.Users()
	if err != nil {
		return err
	}
	for _, u := range users {
		if u.Role == hub.RoleAdmin {
			return nil
		}
	}
	pw := os.Getenv("SPORTELLO_ADMIN_PASSWORD")
	if pw == "" {
		log.Warn("no admin user yet: set SPORTELLO_ADMIN_PASSWORD and restart to create user admin", "component", "main")
		return nil
	}
	if len(pw) < 8 {
		return errors.New("SPORTELLO_ADMIN_PASSWORD must be at least 8 characters")
	}
	log.Info("creating the first admin user", "component", "main", "username", "admin")
	return acc.SetUser("admin", hub.RoleAdmin, pw)
}

// hashKey is the installation's secret for hashing fiscal codes, made at
// first start and kept beside the store (a backup of the store alone
// cannot reverse the hashes).
func hashKey(data string) ([]byte, error) {
	path := filepath.Join(data, "hash.key")
	b, err := os.ReadFile(path)
	if err == nil && len(b) >= 32 {
		return b, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("hash key %s: %w", path, err)
	}
	b = make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("hash key %s: %w", path, err)
	}
	return b, nil
}

// retention keeps the daily KPI aggregates of the finished days, then
// purges personal data older than keep, at start and daily: the reports
// outlive the data behind them.
func retention(ctx context.Context, eng *hub.Engine, store *boltstore.Store, keep time.Duration, log *slog.Logger) {
	t := time.NewTicker(24 * time.Hour)
	defer t.Stop()
	for {
		if n, err := kpi.Keep(store, store, eng.Site(), eng.Now()); err != nil {
			log.Error("keeping the daily aggregates", "component", "retention", "err", err)
		} else if n > 0 {
			log.Info("daily aggregates kept", "component", "retention", "days", n)
		}
		if n, err := eng.PurgePersonal(ctx, keep); err != nil {
			if ctx.Err() == nil {
				log.Error("retention", "component", "retention", "err", err)
			}
		} else if n > 0 {
			log.Info("personal data purged", "component", "retention", "records", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// czrmHealth reads the CzRM worker's status for /metrics.
func czrmHealth(w *crmsync.Worker) func() httpapi.CzRMHealth {
	return func() httpapi.CzRMHealth {
		st := w.Status()
		h := httpapi.CzRMHealth{Backlog: st.Backlog, DeadLetters: st.DeadLetters, BreakerOpen: st.BreakerState == crmsync.BreakerOpen}
		if st.OldestPendingAt != nil {
			h.OldestPending = time.Since(*st.OldestPendingAt)
		}
		return h
	}
}
