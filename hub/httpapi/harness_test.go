package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/boltstore"
	"github.com/comune-rc/sportello/hub/httpapi"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

// testHub is a real hub (bbolt on disk in t.TempDir, the engine, the Echo
// API) behind a real HTTP server on a loopback port.
type testHub struct {
	t      *testing.T
	URL    string
	Engine *hub.Engine
	Store  *boltstore.Store
	Acc    *hub.Accounts
	srv    *httptest.Server
	mu     sync.Mutex
	tokens map[string]string
	// Check, when set, sees every request and response (OpenAPI checks).
	Check func(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte)
}

// hubOption tunes the engine or the API of a test hub.
type hubOption struct {
	engine func(*hub.Config)
	api    func(*httpapi.Config)
	// mounts adds routes built on the running hub (its store, engine).
	mounts func(*testHub) []func(*echo.Echo)
}

func withAPI(f func(*httpapi.Config)) hubOption { return hubOption{api: f} }

// newTestHub starts a hub with demo users (password "demo") clerk01…clerk18,
// supervisor, admin and devices demo-totem-1…3, demo-display-1…4.
func newTestHub(t *testing.T, opts ...hubOption) *testHub {
	t.Helper()
	dir := t.TempDir()
	store, err := boltstore.Open(filepath.Join(dir, "sportello.db"), boltstore.Options{Logger: quiet})
	require.NoError(t, err)
	site := hub.BuiltinSite()
	acc := hub.NewAccounts(hub.AccountsConfig{Store: store, BcryptCost: bcrypt.MinCost})
	h, err := acc.HashPassword("demo")
	require.NoError(t, err)
	for _, u := range []struct {
		name string
		role hub.Role
	}{{"supervisor", hub.RoleSupervisor}, {"admin", hub.RoleAdmin}} {
		require.NoError(t, acc.EnsureUser(u.name, u.role, h))
	}
	for i := 1; i <= 18; i++ {
		require.NoError(t, acc.EnsureUser(clerkName(i), hub.RoleClerk, h))
	}
	for i, tt := range site.Totems {
		_, err := acc.EnrollDevice(tt.ID, hub.DeviceTotem, "demo-totem-"+itoa(i+1))
		require.NoError(t, err)
	}
	for i, d := range site.Displays {
		_, err := acc.EnrollDevice(d.ID, hub.DeviceDisplay, "demo-display-"+itoa(i+1))
		require.NoError(t, err)
	}
	// As `sportello serve` runs it: the estimates off the writer.
	cfg := hub.Config{Site: site, Store: store, AsyncEstimates: true, AutoNoShowRecalls: 3, Version: "test", Logger: quiet}
	for _, o := range opts {
		if o.engine != nil {
			o.engine(&cfg)
		}
	}
	eng, err := hub.New(cfg)
	require.NoError(t, err)
	th := &testHub{t: t, Engine: eng, Store: store, Acc: acc, tokens: map[string]string{}}
	th.srv = httptest.NewUnstartedServer(nil)
	th.srv.Start()
	th.URL = th.srv.URL
	apiCfg := httpapi.Config{Engine: eng, Accounts: acc, Backup: store.WriteBackup, PublicURL: th.URL, Version: "test", Demo: true, PingInterval: time.Second, Logger: quiet}
	for _, o := range opts {
		if o.api != nil {
			o.api(&apiCfg)
		}
		if o.mounts != nil {
			apiCfg.Mount = append(apiCfg.Mount, o.mounts(th)...)
		}
	}
	api := httpapi.New(apiCfg)
	th.srv.Config.Handler = api.Handler()
	t.Cleanup(func() {
		th.srv.CloseClientConnections()
		th.srv.Close()
		eng.Close()
		store.Close()
	})
	return th
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func clerkName(i int) string { return "clerk" + string(rune('0'+i/10)) + string(rune('0'+i%10)) }

func itoa(i int) string { return string(rune('0' + i)) }

// token logs user in (once) and returns the bearer token.
func (h *testHub) token(user string) string {
	h.t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if tok, ok := h.tokens[user]; ok {
		return tok
	}
	status, body := h.rawDo(http.MethodPost, "/api/v1/auth/login", "", nil, []byte(`{"username":"`+user+`","password":"demo"}`))
	require.Equal(h.t, http.StatusOK, status, string(body))
	var r struct{ Token string }
	require.NoError(h.t, json.Unmarshal(body, &r))
	h.tokens[user] = r.Token
	return r.Token
}

// do sends a request with a JSON body (nil: none) as token ("" for
// anonymous) and returns the status and body.
func (h *testHub) do(method, path, token string, body any) (int, []byte) {
	h.t.Helper()
	var data []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		data = b
	case string:
		data = []byte(b)
	default:
		var err error
		data, err = json.Marshal(b)
		require.NoError(h.t, err)
	}
	return h.rawDo(method, path, token, nil, data)
}

func (h *testHub) rawDo(method, path, token string, header http.Header, data []byte) (int, []byte) {
	h.t.Helper()
	var rd io.Reader
	if data != nil {
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, h.URL+path, rd)
	require.NoError(h.t, err)
	if data != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(h.t, err)
	if h.Check != nil {
		req2, _ := http.NewRequest(method, h.URL+path, bytes.NewReader(data))
		req2.Header = req.Header.Clone()
		h.Check(req2, data, resp, out)
	}
	return resp.StatusCode, out
}

// as logs in user and returns a client bound to that token.
func (h *testHub) as(user string) *client { return &client{h: h, tok: h.token(user)} }

// device returns a client with a device token.
func (h *testHub) device(token string) *client { return &client{h: h, tok: token} }

type client struct {
	h   *testHub
	tok string
}

func (c *client) do(method, path string, body any) (int, []byte) {
	c.h.t.Helper()
	return c.h.do(method, path, c.tok, body)
}

// ticket decodes a Ticket answer.
type ticket struct {
	ID       string  `json:"id"`
	Number   string  `json:"number"`
	Service  string  `json:"service"`
	Status   string  `json:"status"`
	Priority string  `json:"priority"`
	Channel  string  `json:"channel"`
	Counter  *string `json:"counter"`
	Position int     `json:"position"`
	EWTMin   int     `json:"ewt_min"`
	TrackURL string  `json:"track_url"`
}

func decode[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(body, &v), string(body))
	return v
}

type problemDoc struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
	Field  string `json:"field"`
}
