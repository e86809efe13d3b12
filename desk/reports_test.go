package desk_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/comune-rc/sportello/desk"
	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/hubtest"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"
)

func startReportsHub(t *testing.T, clock func() time.Time) *hubtest.Hub {
	t.Helper()
	return hubtest.Start(t, hubtest.Options{Clock: clock, Pages: func(h *hubtest.Hub) []func(*echo.Echo) {
		return []func(*echo.Echo){desk.Mount(desk.Config{Engine: h.Engine, Accounts: h.Accounts, Reports: h.Store, Refresh: time.Second})}
	}})
}

func TestReportsPages(t *testing.T) {
	clk := newClock()
	h := startReportsHub(t, clk.Now)
	ctx := context.Background()
	// Two visits today at counter 1: one served in 6 minutes after a
	// 4-minute wait and rated 4, one still waiting.
	a := issue(t, h, "certificati", hub.PriorityNone)
	issue(t, h, "informazioni", hub.PriorityNone)
	_, err := h.Engine.OpenCounter(ctx, "1", "clerk01")
	require.NoError(t, err)
	clk.Advance(4 * time.Minute)
	_, err = h.Engine.CallTicket(ctx, "1", "clerk01", a.ID)
	require.NoError(t, err)
	_, err = h.Engine.Start(ctx, "1", "clerk01")
	require.NoError(t, err)
	clk.Advance(6 * time.Minute)
	_, err = h.Engine.Finish(ctx, "1", "clerk01", hub.FinishRequest{})
	require.NoError(t, err)
	_, err = h.Engine.Rate(ctx, hub.RateRequest{TicketID: a.ID, Score: 4})
	require.NoError(t, err)

	// Clerks may not see the reports (they name clerks); supervisors may.
	cc := client(t)
	pageLogin(t, h, cc, "clerk01")
	r := do(t, cc, http.MethodGet, h.URL+"/reports", "", nil)
	require.Equal(t, http.StatusForbidden, r.Status)
	require.NotContains(t, r.Body, "clerk01</th>")
	r = do(t, cc, http.MethodGet, h.URL+"/reports/export.csv", "", nil)
	require.Equal(t, http.StatusForbidden, r.Status)
	anon := client(t)
	r = do(t, anon, http.MethodGet, h.URL+"/reports", "", nil)
	require.Equal(t, http.StatusSeeOther, r.Status)
	require.Contains(t, r.Header.Get("Location"), "/login?next=%2Freports")

	sc := client(t)
	pageLogin(t, h, sc, "supervisor")
	r = do(t, sc, http.MethodGet, h.URL+"/reports", "", nil)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	for _, want := range []string{
		`<dd id="s-visits">2</dd>`, `<dd id="s-wait">4,0</dd>`, `<dd id="s-svc">6,0</dd>`, `<dd id="s-sat">4,0</dd>`, `<dd id="s-ratings">1</dd>`,
		`role="img" aria-labelledby="waits-by-hour-t waits-by-hour-d"`, `<table class="list compact" id="service-level-table">`,
		`<tr data-key="clerk01">`, `id="by-service"`, `href="/reports/export.csv?from=`, `<a href="/reports" aria-current="page">`,
	} {
		require.Contains(t, r.Body, want)
	}
	r = do(t, sc, http.MethodGet, h.URL+"/reports?month=2026-13", "", nil)
	require.Equal(t, http.StatusBadRequest, r.Status)
	require.Contains(t, r.Body, "month must be YYYY-MM")
	r = do(t, sc, http.MethodGet, h.URL+"/reports?from=2026-11-05&to=2026-11-01", "", nil)
	require.Equal(t, http.StatusBadRequest, r.Status)
	// An empty month renders without figures.
	r = do(t, sc, http.MethodGet, h.URL+"/reports?month=2020-02", "", nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Contains(t, r.Body, `<dd id="s-visits">0</dd>`)
	require.Contains(t, r.Body, `<dd id="s-wait">—</dd>`)

	r = do(t, sc, http.MethodGet, h.URL+"/reports/export.csv", "", nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, "text/csv; charset=utf-8", r.Header.Get("Content-Type"))
	lines := strings.Split(r.Body, "\n")
	require.True(t, strings.HasPrefix(lines[0], "dimension,key,name,visits"))
	require.Contains(t, r.Body, "\nclerk,clerk01,clerk01,1,1,4.00,4.00,100.00,,1,6.00,6.00,0,0,0,0,0,,1,4.00,100.00\n")
	r = do(t, sc, http.MethodGet, h.URL+"/reports/monthly.pdf?month="+clk.Now().Format("2006-01"), "", nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, "application/pdf", r.Header.Get("Content-Type"))
	require.True(t, strings.HasPrefix(r.Body, "%PDF-"))
}

// TestBrowserReports: the reports page in Chromium, under its CSP, with
// the charts drawn and named for screen readers.
func TestBrowserReports(t *testing.T) {
	clk := newClock()
	h := startReportsHub(t, clk.Now)
	ctx := context.Background()
	a := issue(t, h, "certificati", hub.PriorityNone)
	_, err := h.Engine.OpenCounter(ctx, "1", "clerk01")
	require.NoError(t, err)
	clk.Advance(3 * time.Minute)
	_, err = h.Engine.CallTicket(ctx, "1", "clerk01", a.ID)
	require.NoError(t, err)
	_, err = h.Engine.Finish(ctx, "1", "clerk01", hub.FinishRequest{})
	require.NoError(t, err)

	// Inline styles in the SVG would be CSP violations.
	bctx := supervisorTab(t, h, "/reports", "#s-visits")
	require.Empty(t, eval[[]string](t, bctx, `window.__problems`), "script errors or CSP violations")
	require.Equal(t, "1", text(t, bctx, "#s-visits"))
	require.Equal(t, 3, eval[int](t, bctx, `document.querySelectorAll('svg.chart[role=img]').length`))
	require.Equal(t, 3, eval[int](t, bctx, `Array.from(document.querySelectorAll('svg.chart')).filter(s => s.querySelector('title').textContent.length > 10 && s.querySelector('desc')).length`))
	// The bars are styled by the page's stylesheet (no inline styles).
	require.Equal(t, "rgb(31, 94, 160)", eval[string](t, bctx, `getComputedStyle(document.querySelector('svg.chart .bar')).fill`))
	require.Equal(t, "Sportello 1", eval[string](t, bctx, `document.querySelector('#by-counter tbody th .it').textContent`))
	// The month picker reloads the page for another month.
	run(t, bctx, chromedp.SetValue(chromedp.CSS("#month"), "2020-02"), chromedp.Submit(chromedp.CSS("form.period")))
	waitFor(t, bctx, "February 2020", `document.querySelector('#r-from') && document.querySelector('#r-from').textContent === '2020-02-01'`)
	require.Equal(t, "0", text(t, bctx, "#s-visits"))
}
