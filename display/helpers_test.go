package display_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/comune-rc/sportello/display"
	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/hubtest"
	"github.com/labstack/echo/v4"
)

// env is a real hub (bbolt, engine, API) on loopback with the display
// pages mounted on its engine. The tests find the engine through an
// atomic pointer, so that Restart can replace it without a data race.
type env struct {
	h   *hubtest.Hub
	eng atomic.Pointer[hub.Engine]
}

func startHub(t testing.TB, cfg display.Config) *env {
	t.Helper()
	e := &env{}
	e.h = hubtest.Start(t, pagesOn(cfg))
	e.eng.Store(e.h.Engine)
	return e
}

// pagesOn mounts the display pages, with cfg, on the running hub's
// engine, again after each Restart.
func pagesOn(cfg display.Config) hubtest.Options {
	return hubtest.Options{Pages: func(h *hubtest.Hub) []func(*echo.Echo) {
		c := cfg
		c.Engine = h.Engine
		return []func(*echo.Echo){display.Mount(c)}
	}}
}

// restart kills and restarts the hub on the same URL and data (cutting
// every connection), with cfg for the new display pages.
func (e *env) restart(t testing.TB, cfg display.Config) {
	t.Helper()
	e.h.Restart(t, pagesOn(cfg))
	e.eng.Store(e.h.Engine)
}

func (e *env) engine() *hub.Engine { return e.eng.Load() }

// open opens a counter for its clerk ("5" → clerk05, rooms R1-R5 →
// clerk14-18 is not needed: any clerk may take any counter).
func (e *env) open(t testing.TB, counter, clerk string) {
	t.Helper()
	if _, err := e.engine().OpenCounter(context.Background(), counter, clerk); err != nil {
		t.Fatalf("open %s: %v", counter, err)
	}
}

func (e *env) issue(t testing.TB, service string, prio hub.Priority) string {
	t.Helper()
	tk, _, err := e.engine().Issue(context.Background(), hub.IssueRequest{Service: service, Priority: prio, By: "test"})
	if err != nil {
		t.Fatalf("issue %s: %v", service, err)
	}
	return tk.Number
}

func (e *env) callNext(t testing.TB, counter, clerk string) string {
	t.Helper()
	tk, err := e.engine().CallNext(context.Background(), counter, clerk)
	if err != nil {
		t.Fatalf("call-next at %s: %v", counter, err)
	}
	if tk == nil {
		t.Fatalf("call-next at %s: nothing to call", counter)
	}
	return tk.Number
}

func (e *env) finish(t testing.TB, counter, clerk string) {
	t.Helper()
	if _, err := e.engine().Finish(context.Background(), counter, clerk, hub.FinishRequest{}); err != nil {
		t.Fatalf("finish at %s: %v", counter, err)
	}
}

// login returns a session token.
func (e *env) login(t testing.TB, user string) string {
	t.Helper()
	body := `{"username":"` + user + `","password":"demo"}`
	resp, err := http.Post(e.h.URL+"/api/v1/auth/login", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 || out.Token == "" {
		t.Fatalf("login %s: %d %v", user, resp.StatusCode, err)
	}
	return out.Token
}

type reply struct {
	status int
	header http.Header
	body   string
	cookie []*http.Cookie
}

// get fetches path with an optional session or device cookie.
func (e *env) get(t testing.TB, path string, cookies ...*http.Cookie) reply {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	req, _ := http.NewRequest(http.MethodGet, e.h.URL+path, nil)
	for _, ck := range cookies {
		req.AddCookie(ck)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: string(b), cookie: resp.Cookies()}
}

// health is GET /api/v1/displays as a supervisor.
func (e *env) health(t testing.TB, token string) []map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.h.URL+"/api/v1/displays", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func (e *env) putNotice(t testing.TB, token, it, en string) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"it": it, "en": en})
	req, _ := http.NewRequest(http.MethodPut, e.h.URL+"/api/v1/notice", bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("PUT notice: %d", resp.StatusCode)
	}
}

// forbiddenWords must never reach a public screen.
var forbiddenWords = []string{"disability", "disabilità", "disabilita", "pregnancy", "gravidanza", "elderly", "anziani", "priority", "priorità", "priorita", "l.104"}

func checkNoPriority(t testing.TB, where, html string) {
	t.Helper()
	low := strings.ToLower(html)
	for _, w := range forbiddenWords {
		if strings.Contains(low, w) {
			i := strings.Index(low, w)
			t.Errorf("%s contains %q: …%s…", where, w, html[max(0, i-80):min(len(html), i+80)])
		}
	}
}
