package desk_test

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/comune-rc/sportello/desk"
	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/hubtest"
	"github.com/comune-rc/sportello/kpi"
	"github.com/stretchr/testify/require"
)

var romeLoc, _ = time.LoadLocation("Europe/Rome")

// Set moves the clock to t.
func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// seedStaffingHistory drives the real engine (bbolt on disk) through two
// past Wednesdays: 20 and 30 certificates issued between 9 and 10 (mean
// 25), 8 information visits between 10 and 11, each served in exactly 5
// minutes at desk 1; then sets the clock to Wednesday 2 December 09:30.
// Forecast: 25 certificates at 9 (2.1 Erlangs: 3 desks for 80 % within
// 15 min), 8 information visits at 10 (1 desk).
func seedStaffingHistory(t *testing.T, h *hubtest.Hub, clk *testClock) {
	t.Helper()
	ctx := context.Background()
	for _, day := range []struct {
		date  time.Time
		certs int
	}{{time.Date(2026, 11, 18, 0, 0, 0, 0, romeLoc), 20}, {time.Date(2026, 11, 25, 0, 0, 0, 0, romeLoc), 30}} {
		set := func(hh, mm int) { clk.Set(day.date.Add(time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute)) }
		for i := 0; i < day.certs; i++ {
			set(9, i*59/day.certs)
			issue(t, h, "certificati", hub.PriorityNone)
		}
		for i := 0; i < 8; i++ {
			set(10, i*7)
			issue(t, h, "informazioni", hub.PriorityNone)
		}
		set(11, 0)
		_, err := h.Engine.OpenCounter(ctx, "1", "clerk01")
		require.NoError(t, err)
		for i := 0; i < day.certs+8; i++ {
			tk, err := h.Engine.CallNext(ctx, "1", "clerk01")
			require.NoError(t, err)
			require.NotNil(t, tk)
			clk.Advance(5 * time.Minute)
			_, err = h.Engine.Finish(ctx, "1", "clerk01", hub.FinishRequest{})
			require.NoError(t, err)
		}
		_, err = h.Engine.CloseCounter(ctx, "1", "clerk01")
		require.NoError(t, err)
	}
	clk.Set(time.Date(2026, 12, 2, 9, 30, 0, 0, romeLoc))
}

// startSeededHub starts a hub with the reports' store, seeds the
// history and opens the given places (desk n by clerk n, rooms by
// clerk07) on Wednesday 2 December 09:30.
func startSeededHub(t *testing.T, open ...string) (*hubtest.Hub, *testClock) {
	t.Helper()
	clk := &testClock{t: time.Date(2026, 11, 18, 8, 0, 0, 0, romeLoc)}
	h := startReportsHub(t, clk.Now)
	seedStaffingHistory(t, h, clk)
	for _, id := range open {
		clerk := "clerk07"
		if n, err := strconv.Atoi(id); err == nil {
			clerk = fmt.Sprintf("clerk%02d", n)
		}
		_, err := h.Engine.OpenCounter(context.Background(), id, clerk)
		require.NoError(t, err)
	}
	return h, clk
}

type staffingJSON struct {
	Day         string
	Basis       string
	HistoryDays []string `json:"history_days"`
	TargetSL    float64  `json:"target_sl"`
	OpenNow     int      `json:"open_now"`
	Check       struct {
		Status, Policy, Error string
		Days, Rounds          int
		Met                   bool
	}
	Groups []struct {
		ID       string
		Services []string
		Counters []string
		Rooms    bool
		OpenNow  int `json:"open_now"`
	}
	Hours []struct {
		Hour    int
		Needed  int
		Checked *int
		Groups  []struct {
			Group    string
			Arrivals float64
			Needed   int
			Short    bool
			Check    *struct {
				ErlangC  int `json:"erlang_c"`
				Advised  int
				SLErlang float64 `json:"sl_erlang"`
				SL       float64
				Tickets  int
				Judged   bool
				Met      bool
			}
		}
	}
}

// TestStaffingAPI: GET /api/v1/staffing for supervisors, from the seeded
// history; clerks may not, and a day without history says so.
func TestStaffingAPI(t *testing.T) {
	h, _ := startSeededHub(t, "1", "2", "R1")

	sc := client(t)
	pageLogin(t, h, sc, "supervisor")
	r := do(t, sc, http.MethodGet, h.URL+"/api/v1/staffing", "", nil)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	var s staffingJSON
	r.JSON(t, &s)
	require.Equal(t, "2026-12-02", s.Day)
	require.Equal(t, "same_weekday", s.Basis)
	require.Equal(t, []string{"2026-11-18", "2026-11-25"}, s.HistoryDays)
	require.Equal(t, 0.8, s.TargetSL)
	require.Len(t, s.Groups, 2)
	require.Equal(t, "g1", s.Groups[0].ID)
	require.False(t, s.Groups[0].Rooms)
	require.Len(t, s.Groups[0].Counters, 18)
	require.Equal(t, 2, s.Groups[0].OpenNow)
	require.True(t, s.Groups[1].Rooms)
	require.Equal(t, []string{"R1", "R2", "R3", "R4", "R5"}, s.Groups[1].Counters)
	require.Equal(t, 1, s.Groups[1].OpenNow)
	require.Equal(t, 3, s.OpenNow)
	require.Len(t, s.Hours, 2)
	require.Equal(t, 9, s.Hours[0].Hour)
	require.InDelta(t, 25, s.Hours[0].Groups[0].Arrivals, 1e-9)
	require.Equal(t, 3, s.Hours[0].Groups[0].Needed)
	require.Equal(t, 0, s.Hours[0].Groups[1].Needed)
	require.Equal(t, 3, s.Hours[0].Needed)
	require.Equal(t, 10, s.Hours[1].Hour)
	require.InDelta(t, 8, s.Hours[1].Groups[0].Arrivals, 1e-9)
	require.Equal(t, 1, s.Hours[1].Needed)
	// The first answer is Erlang C's alone: the check by simulation has
	// just started in the background.
	require.Equal(t, "pending", s.Check.Status)
	require.Nil(t, s.Hours[0].Checked)
	require.Nil(t, s.Hours[0].Groups[0].Check)
	checked := pollStaffing(t, sc, h.URL+"/api/v1/staffing")
	require.Equal(t, "checked", checked.Check.Status, checked.Check.Error)
	require.Equal(t, "P", checked.Check.Policy)
	require.Equal(t, 8, checked.Check.Days)
	require.Equal(t, s.Hours[0].Needed, checked.Hours[0].Needed, "Erlang C's advice stays beside the check")
	// The seeded Wednesdays are steady (5-minute services spread over
	// the hour): Erlang C's desks meet the target in simulation and stay.
	require.True(t, checked.Check.Met)
	for i, hr := range checked.Hours {
		g := hr.Groups[0].Check
		require.NotNil(t, g, "hour %d", hr.Hour)
		require.Equal(t, hr.Groups[0].Needed, g.ErlangC, "hour %d: %+v", hr.Hour, g)
		require.Equal(t, hr.Groups[0].Needed, g.Advised, "hour %d: %+v", hr.Hour, g)
		require.True(t, g.Judged && g.Met, "hour %d: %+v", hr.Hour, g)
		require.Greater(t, g.Tickets, 8*5, "eight simulated days of the hour's visits")
		require.GreaterOrEqual(t, g.SLErlang, 0.8)
		require.Equal(t, g.SLErlang, g.SL)
		require.Nil(t, hr.Groups[1].Check, "rooms are not simulated")
		require.NotNil(t, hr.Checked)
		require.Equal(t, g.Advised+hr.Groups[1].Needed, *hr.Checked, "hour %d", i)
	}

	// Once the days are kept in the store's daily aggregates (bbolt
	// kpi_days), the forecast reads them there: next Wednesday's advice
	// has the same hours.
	n, err := kpi.Keep(h.Store, h.Store, h.Engine.Site(), h.Engine.Now())
	require.NoError(t, err)
	require.Positive(t, n)
	stored, err := h.Store.Aggregates("2026-11-18", "2026-11-25")
	require.NoError(t, err)
	require.Contains(t, string(stored["2026-11-25"]), `"arrivals":{"certificati":{"9":30},"informazioni":{"10":8}}`)
	r = do(t, sc, http.MethodGet, h.URL+"/api/v1/staffing?day=2026-12-09", "", nil)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	var next staffingJSON
	r.JSON(t, &next)
	require.Equal(t, []string{"2026-11-18", "2026-11-25"}, next.HistoryDays)
	require.Equal(t, s.Hours, next.Hours)

	// The first Wednesday had no history before it.
	r = do(t, sc, http.MethodGet, h.URL+"/api/v1/staffing?day=2026-11-18", "", nil)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	r.JSON(t, &s)
	require.Equal(t, "none", s.Basis)
	require.Empty(t, s.Hours)
	r = do(t, sc, http.MethodGet, h.URL+"/api/v1/staffing?day=tomorrow", "", nil)
	require.Equal(t, http.StatusBadRequest, r.Status)
	require.Contains(t, r.Body, `"invalid_day"`)

	cc := client(t)
	pageLogin(t, h, cc, "clerk03")
	require.Equal(t, http.StatusForbidden, do(t, cc, http.MethodGet, h.URL+"/api/v1/staffing", "", nil).Status)
	require.Equal(t, http.StatusUnauthorized, do(t, client(t), http.MethodGet, h.URL+"/api/v1/staffing", "", nil).Status)

	// The supervisor page renders the panel on the server.
	r = do(t, sc, http.MethodGet, h.URL+"/supervisor", "", nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Contains(t, r.Body, `Personale consigliato <span class="en" lang="en">Staffing advice</span>`)
	require.Contains(t, r.Body, `<tr data-hour="9" class="sf-now" aria-current="time">`)
	require.Contains(t, r.Body, `<td data-group="g1">3</td>`)
	require.Contains(t, r.Body, `role="img" aria-labelledby="staffing-chart-t staffing-chart-d"`)
	// Today's check is done: the page carries it from the server.
	require.Contains(t, r.Body, `role="status" aria-live="polite" data-status="checked" data-day="2026-12-02">Verificato con simulazione: 8 giorni (politica P). <span class="en" lang="en">Checked by simulation: 8 days (policy P).</span></p>`)
	require.Contains(t, r.Body, `<td class="sf-checked" data-group="g1"><span class="sf-n">3</span> <span class="sf-sl">100 %</span></td>`)
}

// pollStaffing asks for url until the check by simulation is no longer
// pending, for at most a minute.
func pollStaffing(t *testing.T, c *http.Client, url string) staffingJSON {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		r := do(t, c, http.MethodGet, url, "", nil)
		require.Equal(t, http.StatusOK, r.Status, r.Body)
		var s staffingJSON
		r.JSON(t, &s)
		if s.Check.Status != "pending" {
			return s
		}
		require.True(t, time.Now().Before(deadline), "the check by simulation did not finish: %s", r.Body)
		runtime.Gosched()
	}
}

// TestStaffingNoHistory: a hub with no past says so plainly.
func TestStaffingNoHistory(t *testing.T) {
	h := startReportsHub(t, newClock().Now)
	sc := client(t)
	pageLogin(t, h, sc, "supervisor")
	r := do(t, sc, http.MethodGet, h.URL+"/supervisor", "", nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Contains(t, r.Body, `id="sf-none"`)
	require.Contains(t, r.Body, "No history yet")
	// Without the store the panel says the advice is unavailable.
	h2 := startHub(t, newClock().Now, desk.Config{})
	c2 := client(t)
	pageLogin(t, h2, c2, "supervisor")
	r = do(t, c2, http.MethodGet, h2.URL+"/supervisor", "", nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Contains(t, r.Body, `id="sf-error"`)
	r = do(t, c2, http.MethodGet, h2.URL+"/api/v1/staffing", "", nil)
	require.Equal(t, http.StatusServiceUnavailable, r.Status, r.Body)
}

// supervisorTab opens path in a new tab, logs in as the supervisor
// through the form it is sent to, and waits for the element sel; it
// records script errors and CSP violations in window.__problems.
func supervisorTab(t *testing.T, h *hubtest.Hub, path, sel string) context.Context {
	t.Helper()
	bctx := tab(t)
	_, err := chromedp.Call(bctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `window.__problems = [];
window.addEventListener('error', e => window.__problems.push('error: ' + e.message));
document.addEventListener('securitypolicyviolation', e => window.__problems.push('CSP: ' + e.violatedDirective + ' ' + e.blockedURI));`})
	require.NoError(t, err)
	run(t, bctx, chromedp.Navigate(h.URL+path))
	waitFor(t, bctx, "the login form", `location.pathname === '/login' && !!document.querySelector('#username')`)
	run(t, bctx, chromedp.SendKeys(chromedp.CSS("#username"), "supervisor"), chromedp.SendKeys(chromedp.CSS("#password"), "demo"), chromedp.KeyEvent("\r"))
	waitFor(t, bctx, path+" after login", `location.pathname === `+jsString(path)+` && !!document.querySelector(`+jsString(sel)+`)`)
	return bctx
}

// TestBrowserStaffingPanel: the panel in Chromium under the page's CSP,
// with the advice of the seeded history and the "open now" row following
// the counters live.
func TestBrowserStaffingPanel(t *testing.T) {
	h, clk := startSeededHub(t, "4")
	ctx := context.Background()

	bctx := supervisorTab(t, h, "/supervisor", "#staffing")
	require.Equal(t, "Personale consigliato Staffing advice", eval[string](t, bctx, `document.querySelector('#sf-title').textContent`))
	require.Equal(t, "3", text(t, bctx, `#staffing tr[data-hour="9"] td[data-group="g1"]`))
	require.Equal(t, "1", text(t, bctx, `#staffing tr[data-hour="10"] td[data-group="g1"]`))
	require.Equal(t, "25,0", eval[string](t, bctx, `document.querySelector('#staffing tr[data-hour="9"] td').textContent`))
	require.Equal(t, "time", eval[string](t, bctx, `document.querySelector('#staffing tr.sf-now').getAttribute('aria-current')`))
	require.Equal(t, "9", eval[string](t, bctx, `document.querySelector('#staffing tr.sf-now').dataset.hour`))
	// Accessible table: a caption, column and row headers.
	require.True(t, eval[bool](t, bctx, `document.querySelector('#staffing caption').textContent.includes('Places needed')`))
	require.Equal(t, 9, eval[int](t, bctx, `document.querySelectorAll('#staffing thead th[scope=col]').length`))
	require.Equal(t, 3, eval[int](t, bctx, `document.querySelectorAll('#staffing th[scope=row]').length`))
	require.Equal(t, 2, eval[int](t, bctx, `document.querySelectorAll('#staffing-card svg.chart rect.bar').length`))
	// The bars are drawn to scale (the queues' bar style does not reach
	// the chart's): 3 desks at 9 stand three times as high as 1 at 10.
	require.InDelta(t, 3, eval[float64](t, bctx, `(() => { const b = document.querySelectorAll('#staffing-card svg.chart rect.bar');
	  return b[0].getBoundingClientRect().height / b[1].getBoundingClientRect().height; })()`), 0.05)
	// The check by simulation finishes in the background; the page asks
	// again and shows it, in the live region, with the simulated levels.
	require.Equal(t, "polite", eval[string](t, bctx, `document.querySelector('#sf-check').getAttribute('aria-live')`))
	waitFor(t, bctx, "the checked status", `document.querySelector('#sf-check').dataset.status === 'checked'`)
	require.Equal(t, "Verificato con simulazione: 8 giorni (politica P). Checked by simulation: 8 days (policy P).", text(t, bctx, `#sf-check`))
	require.Equal(t, "3 100 %", text(t, bctx, `#staffing tr[data-hour="9"] td.sf-checked[data-group="g1"]`))
	require.Equal(t, "3", text(t, bctx, `#staffing tr[data-hour="9"] td.sf-checked-total`))
	require.Contains(t, text(t, bctx, `#staffing tr[data-hour="9"] td.sf-checked[data-group="g2"]`), "Erlang C only")
	waitFor(t, bctx, "one desk open now", `document.querySelector('td.sf-open[data-group="g1"]').textContent === '1 / 18'`)

	// A second desk opens: the live feed refreshes the row.
	_, err := h.Engine.OpenCounter(ctx, "5", "clerk05")
	require.NoError(t, err)
	waitFor(t, bctx, "two desks open now", `document.querySelector('td.sf-open[data-group="g1"]').textContent === '2 / 18' && document.querySelector('#sf-open-total').textContent === '2'`)

	// The hour turns: the current row follows the hub's clock.
	clk.Set(time.Date(2026, 12, 2, 10, 5, 0, 0, romeLoc))
	waitFor(t, bctx, "10:00 as the current hour", `document.querySelector('#staffing tr.sf-now') && document.querySelector('#staffing tr.sf-now').dataset.hour === '10' && document.querySelectorAll('#staffing [aria-current]').length === 1`)
	require.Empty(t, eval[[]string](t, bctx, `window.__problems`), "script errors or CSP violations")
}
