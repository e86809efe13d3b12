package kiosk_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/comune-rc/sportello/browsertest"
	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/hubtest"
	"github.com/comune-rc/sportello/kiosk"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startHub runs a real hub with the kiosk pages mounted on its engine.
func startHub(t *testing.T, cfg kiosk.Config) *hubtest.Hub {
	t.Helper()
	opts := pagesOn(cfg)
	h := hubtest.Start(t, opts)
	hubs.Store(h, opts)
	return h
}

// pagesOn mounts the kiosk pages on the running hub's engine, again after
// each Restart.
func pagesOn(cfg kiosk.Config) hubtest.Options {
	return hubtest.Options{Pages: func(h *hubtest.Hub) []func(*echo.Echo) {
		c := cfg
		c.Engine = h.Engine
		return []func(*echo.Echo){kiosk.Mount(c)}
	}}
}

var hubs sync.Map // *hubtest.Hub → its hubtest.Options

// restartHub restarts the hub with the same pages, mounted on the new
// engine.
func restartHub(t *testing.T, h *hubtest.Hub) {
	t.Helper()
	opts, ok := hubs.Load(h)
	require.True(t, ok)
	h.Restart(t, opts.(hubtest.Options))
}

// client is an HTTP client with a cookie jar that does not follow
// redirects.
func client(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type reply struct {
	Status int
	Header http.Header
	Body   string
}

func (r reply) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.Body), &m), "body: %s", r.Body)
	return m
}

func do(t *testing.T, c *http.Client, method, url, body string, header map[string]string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return reply{Status: res.StatusCode, Header: res.Header, Body: string(b)}
}

func login(t *testing.T, h *hubtest.Hub, user string) string {
	t.Helper()
	r := do(t, client(t), "POST", h.URL+"/api/v1/auth/login", `{"username":"`+user+`","password":"demo"}`, map[string]string{"Content-Type": "application/json"})
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	return r.JSON(t)["token"].(string)
}

// ---- Chromium ------------------------------------------------------------

// browser is the one headless Chromium the package's tests share; TestMain
// stops it.
var browser = browsertest.New(browsertest.Options{Name: "kiosk", Width: 1080, Height: 1920})

// tab opens a new tab, in a fresh browser context (its own cookies), in
// the shared browser, with a w×h viewport. Without Chromium the test is
// skipped, or fails under CI=true.
func tab(t *testing.T, w, h int64) context.Context {
	t.Helper()
	ctx := browser.Tab(t, 60*time.Second)
	orient := chromedp.EmulatePortrait
	if w > h {
		orient = chromedp.EmulateLandscape
	}
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(w, h, orient)))
	// Every page records its script errors and CSP violations; the test
	// fails on any when it ends.
	_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: recordProblems})
	require.NoError(t, err)
	t.Cleanup(func() {
		if ctx.Err() != nil {
			return
		}
		problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__problems || []`))
		if err == nil {
			assert.Empty(t, problems, "script errors or CSP violations in the page")
		}
	})
	return ctx
}

const recordProblems = `window.__problems = [];
window.addEventListener('error', e => window.__problems.push('error: ' + e.message + ' ' + (e.filename || '') + ':' + (e.lineno || '')));
window.addEventListener('unhandledrejection', e => window.__problems.push('unhandled rejection: ' + e.reason));
document.addEventListener('securitypolicyviolation', e => window.__problems.push('CSP: ' + e.violatedDirective + ' ' + e.blockedURI));`

// The tests drive the tabs with browsertest's helpers.
var (
	run      = browsertest.Run
	click    = browsertest.Click
	text     = browsertest.Text
	jsString = browsertest.JSString
)

func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	return browsertest.Eval[T](t, ctx, expr)
}

// waitFor polls a JavaScript predicate until it is true, or fails the test
// with what the page shows.
func waitFor(t *testing.T, ctx context.Context, what, predicate string, timeout time.Duration) {
	t.Helper()
	pctx, cancel := context.WithTimeout(ctx, timeout+5*time.Second)
	defer cancel()
	_, err := chromedp.Run(pctx, chromedp.Poll[chromedp.Void](predicate, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(timeout)))
	if err != nil {
		text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
		t.Fatalf("waiting for %s: %v\npage text:\n%s", what, err, text)
	}
}

// visibleScreen is the id of the totem's screen on show.
const visibleScreen = `(Array.from(document.querySelectorAll('.screen')).find(s => !s.hidden) || {}).id`

// smallTargets lists the visible controls smaller than 64×64 CSS px.
const smallTargets = `Array.from(document.querySelectorAll('button, a[href], input, textarea, select, [role=button]'))
  .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden'; })
  .filter(e => { const r = e.getBoundingClientRect(); return r.width < 64 || r.height < 64; })
  .map(e => (e.id || e.className || e.tagName) + ' ' + Math.round(e.getBoundingClientRect().width) + 'x' + Math.round(e.getBoundingClientRect().height))`

// unnamedControls lists the visible controls without an accessible name.
const unnamedControls = `Array.from(document.querySelectorAll('button, input, textarea, select'))
  .filter(e => e.getClientRects().length > 0)
  .filter(e => !((e.getAttribute('aria-label') || '').trim() || (e.innerText || '').trim() || (e.labels && e.labels.length)))
  .map(e => e.id || e.className || e.tagName)`

// duplicateIDs lists the ids used more than once.
const duplicateIDs = `(() => { const seen = {}, dup = []; document.querySelectorAll('[id]').forEach(e => { if (seen[e.id]) dup.push(e.id); seen[e.id] = true; }); return dup; })()`

func checkTargets(t *testing.T, ctx context.Context, where string) {
	t.Helper()
	require.Empty(t, eval[[]string](t, ctx, duplicateIDs), "duplicate ids")
	require.Empty(t, eval[[]string](t, ctx, smallTargets), "controls smaller than 64 px on %s", where)
	require.Empty(t, eval[[]string](t, ctx, unnamedControls), "controls without a name on %s", where)
}

// findTicket returns today's ticket with that number.
func findTicket(t *testing.T, h *hubtest.Hub, number string) *hub.Ticket {
	t.Helper()
	for _, v := range h.Engine.Tickets(hub.TicketFilter{}) {
		if v.Ticket.Number == number {
			return v.Ticket
		}
	}
	t.Fatalf("no ticket %s in the engine", number)
	return nil
}

func isPrintJob(h *hubtest.Hub, totem, id string) bool {
	for _, j := range h.Engine.PrintJobs(totem) {
		if j.ID == id {
			return true
		}
	}
	return false
}
