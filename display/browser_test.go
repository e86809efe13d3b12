package display_test

// Tests in a real headless Chromium (chromedp) against a real hub. One
// browser is started for the whole package and each test gets its own tab
// in its own browser context (cookies apart). Without Chromium the tests
// are skipped, except under CI=true where they fail.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/comune-rc/sportello/browsertest"
)

// browser is the one headless Chromium the package's tests share, with
// chromedp's default flags and sound allowed without a gesture (the
// chime); DISPLAY_CDP_DEBUG logs the protocol.
var browser = browsertest.New(browsertest.Options{
	Name: "display",
	Flags: append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
	),
	Width: 1920, Height: 1080,
	ContextOptions: cdpDebug(),
})

func cdpDebug() []chromedp.ContextOption {
	if os.Getenv("DISPLAY_CDP_DEBUG") == "" {
		return nil
	}
	return []chromedp.ContextOption{chromedp.WithDebugf(func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) })}
}

func TestMain(m *testing.M) {
	code := m.Run()
	browser.Close()
	os.Exit(code)
}

// tab is one browser tab, in a browser context of its own.
type tab struct {
	t   testing.TB
	ctx context.Context
}

func newTab(t testing.TB, width, height int64) *tab {
	t.Helper()
	tb := &tab{t: t, ctx: browser.Tab(t, 0)}
	tb.do(chromedp.EmulateViewport(width, height))
	return tb
}

func (tb *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.t.Fatalf("chromedp: %v", err)
	}
}

func (tb *tab) navigate(url string) {
	tb.t.Helper()
	tb.do(chromedp.Navigate(url))
}

// eval evaluates js and decodes its JSON result into v.
func (tb *tab) eval(js string, v any) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](js))
	if err != nil {
		tb.t.Fatalf("eval %s: %v", js, err)
	}
	if v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			tb.t.Fatalf("eval %s: %v (%s)", js, err, raw)
		}
	}
}

func (tb *tab) str(js string) string {
	tb.t.Helper()
	var s string
	tb.eval(js, &s)
	return s
}

// wait polls js in the page until it is truthy. A navigation (reload)
// while polling restarts the poll in the new document.
func (tb *tab) wait(what, js string, timeout time.Duration) {
	tb.t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		ctx, cancel := context.WithTimeout(tb.ctx, left+5*time.Second)
		_, err = chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(left)))
		cancel()
		if err == nil {
			return
		}
		if msg := err.Error(); !strings.Contains(msg, "navigated or closed") && !strings.Contains(msg, "context") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	var state any
	tb.eval(`({hero: (document.getElementById('hero')||{}).outerHTML, announced: (window.__sportello||{}).announced, connections: (window.__sportello||{}).connections, errors: (window.__sportello||{}).errors, audio: (window.__sportello||{}).audio, statuses: Array.from(document.querySelectorAll('[role=status]')).map(function(e){return e.id + ': ' + e.textContent})})`, &state)
	b, _ := json.MarshalIndent(state, "", " ")
	tb.t.Fatalf("waiting for %s (%s): %v\npage state: %s", what, js, err, b)
}

// online waits until the display page is following the live feed.
func (tb *tab) online() {
	tb.t.Helper()
	tb.wait("the live feed", `window.__sportello && window.__sportello.online === true`, 15*time.Second)
}

type shownCall struct {
	Number  string `json:"number"`
	Counter string `json:"counter"`
	Dest    string `json:"dest"`
}

// calls is what the screen shows, newest first: the latest call, then the
// list.
func (tb *tab) calls() []shownCall {
	tb.t.Helper()
	var out []shownCall
	tb.eval(`(function(){
	  var out = [];
	  var h = document.getElementById('hero');
	  if (h.getAttribute('data-number')) out.push({number: h.getAttribute('data-number'), counter: h.getAttribute('data-counter'), dest: h.querySelector('.dest').innerText});
	  document.querySelectorAll('#calls li').forEach(function(li){ out.push({number: li.getAttribute('data-number'), counter: li.getAttribute('data-counter'), dest: li.querySelector('.dest').innerText}); });
	  return out;
	})()`, &out)
	return out
}

type announcement struct {
	Number    string   `json:"number"`
	Counter   string   `json:"counter"`
	Kind      string   `json:"kind"`
	Recall    int      `json:"recall"`
	Seq       uint64   `json:"seq"`
	StartedAt float64  `json:"startedAt"`
	EndedAt   float64  `json:"endedAt"`
	Duration  float64  `json:"durationMs"`
	Audio     bool     `json:"audio"`
	Clips     []string `json:"clips"`
	Error     string   `json:"error"`
}

func (tb *tab) announced() []announcement {
	tb.t.Helper()
	var out []announcement
	tb.eval(`window.__sportello.announced`, &out)
	return out
}

func deviceURL(e *env, id string, extra string) string {
	return e.h.URL + "/display/" + id + "?token=demo-display-" + id + extra
}

// setSession logs the tab in as user (the session cookie of the pages).
func (tb *tab) setSession(e *env, user string) {
	tb.t.Helper()
	tok := e.login(tb.t, user)
	tb.navigate(e.h.URL + "/healthz")
	tb.eval(`document.cookie = "sportello_session=`+tok+`; path=/; SameSite=Strict"; true`, nil)
}

func joinNumbers(cs []shownCall) string {
	var s []string
	for _, c := range cs {
		s = append(s, c.Number+"@"+c.Counter)
	}
	return strings.Join(s, " ")
}
