// Package hubtest starts a real hub for tests of the packages built on it
// (pages, agents): bbolt on disk in a temp dir, the engine, the Echo API
// with the given page mounts, on a real loopback HTTP server. Demo users
// (password "demo") and demo device tokens are seeded as `--demo` does.
package hubtest

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/boltstore"
	"github.com/comune-rc/sportello/hub/httpapi"
	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"
)

// Options tune the hub under test.
type Options struct {
	Clock  func() time.Time
	Mounts []func(e *echo.Echo)
	// Pages, when set, gives mounts built with the running hub (its engine
	// and accounts); it is called again after each Restart.
	Pages func(h *Hub) []func(e *echo.Echo)
	Dir   string // data directory; default t.TempDir()
}

// Hub is a running hub.
type Hub struct {
	URL      string
	Engine   *hub.Engine
	Store    *boltstore.Store
	Accounts *hub.Accounts
	Dir      string
	srv      *httptest.Server
	handler  atomic.Pointer[http.Handler]
	closed   bool
}

// Quiet is a logger that writes nothing.
var Quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// Start starts a hub and stops it when the test ends.
func Start(t testing.TB, o Options) *Hub {
	t.Helper()
	h := &Hub{Dir: o.Dir}
	if h.Dir == "" {
		h.Dir = t.TempDir()
	}
	// The server stays up across Restart; the handler behind it changes.
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*h.handler.Load()).ServeHTTP(w, r)
	}))
	srv.Start()
	h.srv, h.URL = srv, srv.URL
	if err := h.open(o); err != nil {
		srv.Close()
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

func (h *Hub) open(o Options) error {
	store, err := boltstore.Open(filepath.Join(h.Dir, "sportello.db"), boltstore.Options{Logger: Quiet})
	if err != nil {
		return err
	}
	site := hub.BuiltinSite()
	acc := hub.NewAccounts(hub.AccountsConfig{Store: store, BcryptCost: bcrypt.MinCost, Clock: o.Clock})
	if err := Seed(acc, site); err != nil {
		store.Close()
		return err
	}
	eng, err := hub.New(hub.Config{Site: site, Store: store, Clock: o.Clock, AsyncEstimates: true, AutoNoShowRecalls: 3, PublicURL: h.URL, Version: "test", Logger: Quiet})
	if err != nil {
		store.Close()
		return err
	}
	h.Engine, h.Store, h.Accounts = eng, store, acc
	mounts := append([]func(*echo.Echo){}, o.Mounts...)
	if o.Pages != nil {
		mounts = append(mounts, o.Pages(h)...)
	}
	api := httpapi.New(httpapi.Config{Engine: eng, Accounts: acc, Backup: store.WriteBackup, PublicURL: h.URL, Version: "test", Demo: true,
		PingInterval: time.Second, Logger: Quiet, Mount: mounts})
	handler := api.Handler()
	h.handler.Store(&handler)
	return nil
}

// Seed creates the demo users and devices.
func Seed(acc *hub.Accounts, site *hub.Site) error {
	pw, err := acc.HashPassword("demo")
	if err != nil {
		return err
	}
	users := map[string]hub.Role{"supervisor": hub.RoleSupervisor, "admin": hub.RoleAdmin}
	for i := 1; i <= 18; i++ {
		users[fmt.Sprintf("clerk%02d", i)] = hub.RoleClerk
	}
	for u, r := range users {
		if err := acc.EnsureUser(u, r, pw); err != nil {
			return err
		}
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

// Restart stops the engine and store and starts them again on the same
// directory and URL, as a hub restart does (connections are cut).
func (h *Hub) Restart(t testing.TB, o Options) {
	t.Helper()
	h.srv.CloseClientConnections()
	h.Engine.Close()
	h.Store.Close()
	if err := h.open(o); err != nil {
		t.Fatal(err)
	}
}

// Close stops everything.
func (h *Hub) Close() {
	if h.closed {
		return
	}
	h.closed = true
	h.srv.CloseClientConnections()
	h.srv.Close()
	h.Engine.Close()
	h.Store.Close()
}
