package desk_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/comune-rc/sportello/browsertest"
	"github.com/comune-rc/sportello/desk"
	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/hubtest"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"
)

// testClock is the hub's clock in tests that need waits to grow.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *testClock { return &testClock{t: time.Now()} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// startHub runs a real hub with the desk pages mounted on its engine and
// accounts.
func startHub(t *testing.T, clock func() time.Time, cfg desk.Config) *hubtest.Hub {
	t.Helper()
	if cfg.Refresh == 0 {
		cfg.Refresh = time.Second
	}
	return hubtest.Start(t, hubtest.Options{Clock: clock, Pages: func(h *hubtest.Hub) []func(*echo.Echo) {
		c := cfg
		c.Engine, c.Accounts = h.Engine, h.Accounts
		return []func(*echo.Echo){desk.Mount(c)}
	}})
}

func issue(t *testing.T, h *hubtest.Hub, service string, prio hub.Priority) *hub.Ticket {
	t.Helper()
	tk, _, err := h.Engine.Issue(context.Background(), hub.IssueRequest{Service: service, Priority: prio, Channel: hub.ChannelTotem, By: "totem-1"})
	require.NoError(t, err)
	return tk
}

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

// ---- HTTP ---------------------------------------------------------------

// client is a browser-like HTTP client: a cookie jar, no redirects followed.
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

func (r reply) JSON(t *testing.T, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal([]byte(r.Body), v), "body: %s", r.Body)
}

func do(t *testing.T, c *http.Client, method, u, body string, header map[string]string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
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

func postForm(t *testing.T, c *http.Client, u string, form url.Values) reply {
	t.Helper()
	return do(t, c, http.MethodPost, u, form.Encode(), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
}

var (
	loginCSRFRE = regexp.MustCompile(`name="login_csrf" value="([0-9a-f]+)"`)
	metaCSRFRE  = regexp.MustCompile(`<meta name="csrf-token" content="([0-9a-f]*)">`)
	formCSRFRE  = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)
)

func match(t *testing.T, re *regexp.Regexp, body string) string {
	t.Helper()
	m := re.FindStringSubmatch(body)
	require.NotNil(t, m, "no %s in:\n%s", re, body)
	return m[1]
}

// loginForm fetches the login form and returns its login CSRF token.
func loginForm(t *testing.T, h *hubtest.Hub, c *http.Client) string {
	t.Helper()
	r := do(t, c, http.MethodGet, h.URL+"/login", "", nil)
	require.Equal(t, http.StatusOK, r.Status)
	return match(t, loginCSRFRE, r.Body)
}

// pageLogin logs in through the form as a browser does and returns the
// session's CSRF token read from the desk page.
func pageLogin(t *testing.T, h *hubtest.Hub, c *http.Client, user string) string {
	t.Helper()
	tok := loginForm(t, h, c)
	r := postForm(t, c, h.URL+"/login", url.Values{"login_csrf": {tok}, "username": {user}, "password": {"demo"}, "next": {"/desk"}})
	require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
	require.Equal(t, "/desk", r.Header.Get("Location"))
	r = do(t, c, http.MethodGet, h.URL+"/desk", "", nil)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	return match(t, metaCSRFRE, r.Body)
}

// api calls the JSON API as the pages' scripts do: cookie plus CSRF header.
func api(t *testing.T, c *http.Client, csrf, method, u, body string) reply {
	t.Helper()
	hd := map[string]string{"Accept": "application/json"}
	if method != http.MethodGet {
		hd["X-CSRF-Token"] = csrf
	}
	if body != "" {
		hd["Content-Type"] = "application/json"
	}
	return do(t, c, method, u, body, hd)
}

func bearer(t *testing.T, h *hubtest.Hub, user string) string {
	t.Helper()
	tok, _, err := h.Accounts.Login(user, "demo")
	require.NoError(t, err)
	return tok
}

func problemCode(t *testing.T, r reply) string {
	t.Helper()
	var p struct {
		Code string `json:"code"`
	}
	r.JSON(t, &p)
	return p.Code
}

// ---- Chromium -------------------------------------------------------------

const wait = 15 * time.Second

// browser is the one headless Chromium the package's tests share; TestMain
// stops it.
var browser = browsertest.New(browsertest.Options{Name: "desk", Width: 1600, Height: 1100})

// tab opens a new tab, in a fresh browser context (its own cookies), in
// the shared browser. Without Chromium the test is skipped, or fails
// under CI=true.
func tab(t *testing.T) context.Context {
	t.Helper()
	ctx := browser.Tab(t, 60*time.Second)
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(1600, 1100, chromedp.EmulateLandscape)))
	return ctx
}

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

// evalAsync evaluates an expression that returns a promise.
func evalAsync[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	require.NoError(t, err, expr)
	return v
}

// waitFor polls a JavaScript predicate until it is true, or fails the test
// with what the page shows. Evaluation errors (a page navigating away)
// count as false.
func waitFor(t *testing.T, ctx context.Context, what, predicate string) {
	t.Helper()
	deadline := time.Now().Add(wait)
	var last error
	for time.Now().Before(deadline) {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!(`+predicate+`)`))
		if err == nil && ok {
			return
		}
		last = err
		if ctx.Err() != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + '\n' + (document.body ? document.body.innerText : '')`))
	t.Fatalf("waiting for %s (last error %v)\npage:\n%s", what, last, text)
}

func key(t *testing.T, ctx context.Context, keys string) {
	t.Helper()
	run(t, ctx, chromedp.KeyEvent(keys))
}

// choose sets a select's value as a person picking an option does.
func choose(t *testing.T, ctx context.Context, css, value string) {
	t.Helper()
	ok := eval[bool](t, ctx, `(() => { const s = document.querySelector(`+jsString(css)+`);
	  if (!s || !Array.from(s.options).some(o => o.value === `+jsString(value)+`)) return false;
	  s.value = `+jsString(value)+`; s.dispatchEvent(new Event('change', {bubbles: true})); return true; })()`)
	require.True(t, ok, "no option %s in %s", value, css)
}

// browserLogin opens page (e.g. "/desk") without a session, is sent to
// the login form, and logs in there with the keyboard only.
func browserLogin(t *testing.T, ctx context.Context, h *hubtest.Hub, user, page string) {
	t.Helper()
	run(t, ctx, chromedp.Navigate(h.URL+page))
	waitFor(t, ctx, "the login form", `location.pathname === '/login' && !!document.querySelector('#username')`)
	require.Equal(t, page, eval[string](t, ctx, `new URLSearchParams(location.search).get('next')`))
	run(t, ctx,
		chromedp.SendKeys(chromedp.CSS("#username"), user),
		chromedp.SendKeys(chromedp.CSS("#password"), "demo"),
		chromedp.KeyEvent("\r"),
	)
	waitFor(t, ctx, page+" after login", `location.pathname === `+jsString(page)+` && document.body.classList.contains('ready')`)
}

// shot saves a screenshot when DESK_SCREENSHOTS names a directory.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("DESK_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "desk-"+name+".png"), png, 0o644))
}

func chromedpSendKeys(css, v string) chromedp.Action[chromedp.Void] {
	return chromedp.SendKeys(chromedp.CSS(css), v)
}
