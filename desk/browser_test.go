package desk_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp/kb"
	"github.com/comune-rc/sportello/desk"
	"github.com/comune-rc/sportello/hub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const curNumber = `(document.querySelector('#cur-number') || {textContent: ''}).textContent`

// A clerk logs in, opens counter 3, calls, starts and finishes with an
// outcome using only the keyboard; the engine shows the ticket done with
// that outcome, and every action is in the audit with the clerk as actor.
func TestBrowserKeyboardOnlyDesk(t *testing.T) {
	h := startHub(t, nil, desk.Config{})
	first := issue(t, h, "certificati", hub.PriorityElderly)
	issue(t, h, "certificati", hub.PriorityNone)
	ctx := tab(t)
	browserLogin(t, ctx, h, "clerk03", "/desk")

	// The place chooser has the focus: "3" picks desk 3, Enter opens it.
	waitFor(t, ctx, "the focus on the place chooser", `document.activeElement && document.activeElement.id === 'counter-select'`)
	key(t, ctx, "3")
	waitFor(t, ctx, "desk 3 chosen", `document.querySelector('#counter-select').value === '3'`)
	key(t, ctx, kb.Enter)
	waitFor(t, ctx, "desk 3 open", `document.querySelector('#state').classList.contains('open') && document.querySelector('#counter-select').disabled`)
	v, err := h.Engine.Counter("3")
	require.NoError(t, err)
	assert.Equal(t, "clerk03", v.Counter.Clerk)
	assert.Equal(t, hub.CounterOpen, v.Counter.State)
	// The waiting list shows both tickets for desk 3.
	waitFor(t, ctx, "the waiting list", `document.querySelectorAll('#waiting tbody tr').length === 2`)

	// N calls the next: A001, with its priority category shown here.
	key(t, ctx, "n")
	waitFor(t, ctx, "A001 called", curNumber+` === 'A001' && document.querySelector('#cur-status').classList.contains('called')`)
	assert.Contains(t, text(t, ctx, "#cur-priority"), "Anziano")
	assert.Contains(t, text(t, ctx, "#cur-service"), "Certificati anagrafici")
	assert.Equal(t, "polite", eval[string](t, ctx, `document.querySelector('#current').getAttribute('aria-live')`))
	// The focus moves when the call's answer arrives, which may be after
	// the live feed has already shown the call: poll for it.
	waitFor(t, ctx, "the focus on the current ticket", `document.activeElement && document.activeElement.id === 'cur-title'`)
	waitFor(t, ctx, "one left waiting", `document.querySelectorAll('#waiting tbody tr').length === 1`)

	// R recalls, S starts.
	key(t, ctx, "r")
	waitFor(t, ctx, "the recall", `document.querySelector('#cur-recalls').textContent === '1'`)
	key(t, ctx, "s")
	waitFor(t, ctx, "A001 served", `document.querySelector('#cur-status').classList.contains('serving')`)
	shot(t, ctx, "desk")

	// F opens the finish form on the outcomes; 3 picks "pratica avviata"; Enter confirms.
	key(t, ctx, "f")
	waitFor(t, ctx, "the finish form", `!document.querySelector('#finish-form').hidden && document.activeElement.name === 'outcome'`)
	assert.True(t, eval[bool](t, ctx, `document.querySelector('#delivered-certificati').checked`))
	key(t, ctx, "3")
	waitFor(t, ctx, "outcome 3 chosen", `document.querySelector('#outcome-pratica_avviata').checked`)
	key(t, ctx, kb.Enter)
	waitFor(t, ctx, "the desk free again", `!document.querySelector('#cur-number') && document.querySelector('#finish-form').hidden && !document.querySelector('#btn-next').disabled`)
	assert.Contains(t, text(t, ctx, "#msg"), "A001 concluso: Pratica avviata")

	got := findTicket(t, h, first.Number)
	assert.Equal(t, hub.StatusDone, got.Status)
	assert.Equal(t, "pratica_avviata", got.Outcome)
	assert.Equal(t, []string{"certificati"}, got.Delivered)
	require.Len(t, got.Steps, 1)
	assert.Equal(t, "clerk03", got.Steps[0].ClerkID)
	assert.Equal(t, 1, got.Steps[0].Recalls)

	// Every action of the test is in the audit, as clerk03.
	c := client(t)
	r := do(t, c, http.MethodGet, h.URL+"/api/v1/audit?actor=clerk03", "", map[string]string{"Authorization": "Bearer " + bearer(t, h, "supervisor")})
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	var entries []hub.AuditEntry
	r.JSON(t, &entries)
	seen := map[string]string{}
	for _, e := range entries {
		assert.Equal(t, "clerk03", e.Actor)
		seen[e.Action] = e.Target
	}
	for _, a := range []string{hub.EventCounterOpened, hub.EventTicketCalled, hub.EventTicketRecalled, hub.EventTicketStarted, hub.EventTicketFinished} {
		require.Contains(t, seen, a, "audit: %v", entries)
	}
	assert.Equal(t, "counter 3", seen[hub.EventCounterOpened])
	for _, a := range []string{hub.EventTicketCalled, hub.EventTicketStarted, hub.EventTicketFinished} {
		assert.Equal(t, "A001", seen[a], a)
	}
}

// A counter sends a citizen to a consultation room: the room's desk page,
// another clerk in another browser, sees the visit arrive in its list
// without reloading, and calls it.
func TestBrowserTransferToRoom(t *testing.T) {
	h := startHub(t, nil, desk.Config{})
	issue(t, h, "tributi", hub.PriorityNone)

	// R3 (consulenza tributaria) opened by clerk13.
	room := tab(t)
	browserLogin(t, room, h, "clerk13", "/desk")
	choose(t, room, "#counter-select", "R3")
	waitFor(t, room, "the open button", `!document.querySelector('#btn-open').disabled`)
	click(t, room, "#btn-open")
	waitFor(t, room, "R3 open", `document.querySelector('#state').classList.contains('open')`)
	waitFor(t, room, "R3's empty list", `!document.querySelector('#waiting-empty').hidden`)
	eval[string](t, room, `window.__sameLoad = 'yes'`)

	// Desk 12 (tributi) calls T001 and sends it to R3.
	d := tab(t)
	browserLogin(t, d, h, "clerk12", "/desk")
	choose(t, d, "#counter-select", "12")
	waitFor(t, d, "the open button", `!document.querySelector('#btn-open').disabled`)
	click(t, d, "#btn-open")
	waitFor(t, d, "desk 12 open", `document.querySelector('#state').classList.contains('open')`)
	waitFor(t, d, "call next enabled", `!document.querySelector('#btn-next').disabled`)
	click(t, d, "#btn-next")
	waitFor(t, d, "T001 called", curNumber+` === 'T001'`)
	waitFor(t, d, "start enabled", `!document.querySelector('#btn-start').disabled`)
	click(t, d, "#btn-start")
	waitFor(t, d, "T001 served", `document.querySelector('#cur-status').classList.contains('serving')`)
	waitFor(t, d, "transfer enabled", `!document.querySelector('#btn-transfer').disabled`)
	click(t, d, "#btn-transfer")
	waitFor(t, d, "the transfer form", `!document.querySelector('#transfer-form').hidden`)
	assert.False(t, eval[bool](t, d, `document.querySelector('#transfer-back').checked`), "keeps the place by default")
	choose(t, d, "#transfer-dest", "counter:R3")
	run(t, d, chromedpSendKeys("#transfer-notes", "Avviso di accertamento IMU 2024"))
	click(t, d, "#transfer-submit")
	waitFor(t, d, "desk 12 free", `!document.querySelector('#cur-number')`)
	assert.Contains(t, text(t, d, "#msg"), "T001 trasferito a postazione R3")

	tk := findTicket(t, h, "T001")
	assert.Equal(t, hub.StatusWaiting, tk.Status)
	assert.Equal(t, "R3", tk.Target)
	assert.Equal(t, "consulenza_tributaria", tk.Service)
	assert.Equal(t, tk.IssuedAt, tk.Arrival, "the transfer keeps the citizen's place")

	// R3 sees it arrive, with where it came from and the notes.
	waitFor(t, room, "T001 in R3's list", `!!document.querySelector('#waiting tbody tr[data-number="T001"]')`)
	assert.Equal(t, "yes", eval[string](t, room, `window.__sameLoad`), "no reload")
	row := text(t, room, `#waiting tbody tr[data-number="T001"]`)
	assert.Contains(t, row, "da 12")
	assert.Contains(t, row, "Avviso di accertamento IMU 2024")
	assert.Contains(t, row, "Consulenza tributaria")

	// The room calls it from its list.
	click(t, room, `#waiting tbody tr[data-number="T001"] button.call`)
	waitFor(t, room, "T001 called to R3", curNumber+` === 'T001'`)
	assert.Contains(t, text(t, room, "#cur-notes"), "Avviso di accertamento IMU 2024")
	tk = findTicket(t, h, "T001")
	assert.Equal(t, hub.StatusCalled, tk.Status)
	assert.Equal(t, "R3", tk.Counter)
	shot(t, room, "room")

	// The room's clerk cannot act on desk 12 through the page's API calls.
	res := evalAsync[map[string]any](t, room, `Sportello.api('POST', '/api/v1/counters/12/call-next').then(
	  () => ({status: 200}), e => ({status: e.status, code: e.code}))`)
	assert.Equal(t, float64(http.StatusForbidden), res["status"])
	assert.Equal(t, "not_at_counter", res["code"])
}

// The supervisor console: the breach alert appears when a ticket waits
// beyond its service's target, and the hard-bound alert near MaxWait;
// notice, live profile change and end of day work from the console.
func TestBrowserSupervisorAlerts(t *testing.T) {
	clk := newClock()
	h := startHub(t, clk.Now, desk.Config{MaxWait: 60 * time.Minute, Refresh: 500 * time.Millisecond})
	ctxb := context.Background()
	issue(t, h, "certificati", hub.PriorityNone) // A001, called at once
	issue(t, h, "certificati", hub.PriorityNone) // A002, left waiting
	issue(t, h, "cie", hub.PriorityNone)         // C001, target 25 min
	_, err := h.Engine.OpenCounter(ctxb, "1", "clerk01")
	require.NoError(t, err)
	called, err := h.Engine.CallNext(ctxb, "1", "clerk01")
	require.NoError(t, err)
	require.Equal(t, "A001", called.Number)

	ctx := tab(t)
	browserLogin(t, ctx, h, "supervisor", "/supervisor")
	waitFor(t, ctx, "the certificati queue", `document.querySelector('#queues tr[data-service="certificati"] .n').textContent === '1'`)
	assert.True(t, eval[bool](t, ctx, `!document.querySelector('#alerts li')`), "no alert yet: %s", text(t, ctx, "#alerts"))
	assert.Equal(t, "100 %", text(t, ctx, "#kpi-sl"))
	assert.Contains(t, text(t, ctx, `#counters tr[data-counter="1"]`), "clerk01")
	assert.Contains(t, text(t, ctx, `#counters tr[data-counter="1"]`), "A001")
	assert.Equal(t, 3, eval[int](t, ctx, `document.querySelectorAll('#totems tbody tr').length`))
	assert.Equal(t, 4, eval[int](t, ctx, `document.querySelectorAll('#displays tbody tr').length`))

	// 16 minutes later A002 is past the 15 min target of certificati;
	// C001 (25 min) is not.
	clk.Advance(16 * time.Minute)
	waitFor(t, ctx, "the breach alert", `!!document.querySelector('#alerts li[data-kind="breach"][data-service="certificati"]')`)
	alert := text(t, ctx, `#alerts li[data-service="certificati"]`)
	assert.Contains(t, alert, "Certificati anagrafici")
	assert.Contains(t, alert, "A002")
	assert.Contains(t, alert, "16 min")
	assert.False(t, eval[bool](t, ctx, `!!document.querySelector('#alerts li[data-service="cie"]')`))
	assert.False(t, eval[bool](t, ctx, `!!document.querySelector('#alerts li[data-kind="bound"]')`))
	assert.True(t, eval[bool](t, ctx, `document.querySelector('#queues tr[data-service="certificati"]').classList.contains('breach')`))

	// At 49 minutes both near the 60 min bound (80 % = 48 min).
	clk.Advance(33 * time.Minute)
	waitFor(t, ctx, "the hard-bound alerts", `document.querySelectorAll('#alerts li[data-kind="bound"]').length === 2`)
	assert.Contains(t, text(t, ctx, "#alerts"), "vicino al limite massimo di 60 min")
	waitFor(t, ctx, "the cie breach", `!!document.querySelector('#alerts li[data-service="cie"]')`)
	shot(t, ctx, "supervisor")

	// A message to the displays.
	run(t, ctx, chromedpSendKeys("#notice-it", "Sportello 5 chiuso per manutenzione"))
	click(t, ctx, "#notice-submit")
	waitFor(t, ctx, "the notice published", `document.querySelector('#msg').innerText.includes('Messaggio pubblicato')`)
	assert.Equal(t, "Sportello 5 chiuso per manutenzione", h.Engine.Notice().IT)

	// Desk 4 takes cie too, live.
	click(t, ctx, "#profile-4")
	waitFor(t, ctx, "the profile dialog", `document.querySelector('#profile-dialog').open`)
	assert.True(t, eval[bool](t, ctx, `document.querySelector('#profile-svc-certificati').checked`))
	assert.False(t, eval[bool](t, ctx, `!!document.querySelector('#profile-svc-servizi_sociali')`), "no room services for a desk")
	click(t, ctx, "#profile-svc-cie")
	click(t, ctx, "#profile-save")
	waitFor(t, ctx, "the dialog closed", `!document.querySelector('#profile-dialog').open`)
	v, err := h.Engine.Counter("4")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"certificati", "elettorale", "cie"}, v.Counter.Services)
	waitFor(t, ctx, "the new profile shown", `document.querySelector('#counters tr[data-counter="4"]').textContent.includes("Carta d'identità")`)

	// End of day, after a confirmation.
	click(t, ctx, "#eod-submit")
	waitFor(t, ctx, "the confirmation", `document.querySelector('#eod-dialog').open`)
	assert.Contains(t, text(t, ctx, "#eod-dialog"), "3 ticket")
	click(t, ctx, "#eod-cancel")
	waitFor(t, ctx, "the dialog closed", `!document.querySelector('#eod-dialog').open`)
	assert.Equal(t, hub.StatusWaiting, findTicket(t, h, "A002").Status, "cancel closes nothing")
	click(t, ctx, "#eod-submit")
	waitFor(t, ctx, "the confirmation", `document.querySelector('#eod-dialog').open`)
	click(t, ctx, "#eod-confirm")
	waitFor(t, ctx, "the day closed", `document.querySelector('#msg').innerText.includes('Giornata chiusa: 3')`)
	for _, n := range []string{"A001", "A002", "C001"} {
		assert.Equal(t, hub.StatusCancelled, findTicket(t, h, n).Status, n)
	}
	waitFor(t, ctx, "no alerts left", `!document.querySelector('#alerts li') && !document.querySelector('#alerts-empty').hidden`)
	// The supervisor's own actions are in the recent actions.
	waitFor(t, ctx, "the audit panel", `!!document.querySelector('#audit tr[data-action="day.closed"][data-actor="supervisor"]')`)
}

// The admin page: users, device enrolment with the token shown once,
// the login audit and the action audit.
func TestBrowserAdmin(t *testing.T) {
	h := startHub(t, nil, desk.Config{})
	ctx := tab(t)
	browserLogin(t, ctx, h, "admin", "/admin")
	waitFor(t, ctx, "the users", `!!document.querySelector('#users tr[data-user="clerk18"]')`)
	assert.Equal(t, 13, eval[int](t, ctx, `document.querySelectorAll('#services tbody tr').length`))
	assert.Contains(t, text(t, ctx, ".services-card"), "file del sito")
	waitFor(t, ctx, "the places", `document.querySelectorAll('#counters tbody tr').length === 23`)

	// A new clerk.
	run(t, ctx, chromedpSendKeys("#user-name", "clerk19"), chromedpSendKeys("#user-password", "sportello-19"))
	click(t, ctx, "#user-submit")
	waitFor(t, ctx, "clerk19 listed", `!!document.querySelector('#users tr[data-user="clerk19"]')`)
	_, ses, err := h.Accounts.Login("clerk19", "sportello-19")
	require.NoError(t, err)
	assert.Equal(t, hub.RoleClerk, ses.Role)

	// Enrol totem-2: the token once, and the URL to point it at.
	click(t, ctx, `button.enrol[data-id="totem-2"]`)
	waitFor(t, ctx, "the token", `!document.querySelector('#enrolled').hidden && document.querySelector('#enrolled-token').textContent.length > 10`)
	token := text(t, ctx, "#enrolled-token")
	assert.Equal(t, h.URL+"/kiosk/totem-2?token="+token, text(t, ctx, "#enrolled-url"))
	p, err := h.Accounts.Authenticate(token)
	require.NoError(t, err)
	assert.Equal(t, hub.Principal{ID: "totem-2", Device: hub.DeviceTotem}, p)
	_, err = h.Accounts.Authenticate("demo-totem-2")
	assert.Error(t, err, "the old token no longer works")
	click(t, ctx, `button.enrol[data-id="3"][data-kind="display"]`)
	waitFor(t, ctx, "the display token", `document.querySelector('#enrolled-url').textContent.includes('/display/3?token=')`)

	// The login audit shows this login; the action audit the profile change.
	waitFor(t, ctx, "the login audit", `Array.from(document.querySelectorAll('#logins tr[data-action="login"]')).some(r => r.innerText.includes('admin'))`)
	click(t, ctx, "#profile-R5")
	waitFor(t, ctx, "the profile dialog", `document.querySelector('#profile-dialog').open`)
	assert.False(t, eval[bool](t, ctx, `!!document.querySelector('#profile-svc-certificati')`), "no desk services for a room")
	click(t, ctx, "#profile-svc-consulenza_tributaria")
	click(t, ctx, "#profile-save")
	waitFor(t, ctx, "the dialog closed", `!document.querySelector('#profile-dialog').open`)
	v, err := h.Engine.Counter("R5")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"suap", "servizi_sociali", "consulenza_tributaria"}, v.Counter.Services)
	waitFor(t, ctx, "the action audit", `!!document.querySelector('#audit tr[data-action="counter.updated"][data-actor="admin"]')`)
	waitFor(t, ctx, "the catalogue's places", `document.querySelector('#services tr[data-service="consulenza_tributaria"] td.places').textContent === 'R3, R4, R5'`)
	shot(t, ctx, "admin")
	assert.True(t, strings.HasPrefix(token, "dev-"))
}

// An expired session on an open desk page goes back to the login form at
// the page's next call, and back to the desk after logging in again.
func TestBrowserExpiredSessionGoesToLogin(t *testing.T) {
	clk := newClock()
	h := startHub(t, clk.Now, desk.Config{Refresh: 500 * time.Millisecond})
	ctx := tab(t)
	browserLogin(t, ctx, h, "clerk09", "/desk")
	clk.Advance(13 * time.Hour)
	waitFor(t, ctx, "the login form", `location.pathname === '/login' && !!document.querySelector('#login-info')`)
	assert.Contains(t, text(t, ctx, "#login-info"), "La sessione è scaduta")
	assert.Equal(t, "/desk", eval[string](t, ctx, `new URLSearchParams(location.search).get('next')`))
	run(t, ctx, chromedpSendKeys("#username", "clerk09"), chromedpSendKeys("#password", "demo\r"))
	waitFor(t, ctx, "the desk again", `location.pathname === '/desk' && document.body.classList.contains('ready')`)
}

// Add a service to the visit, park it, no-show the next one, call the
// parked one back from the list and finish with both services; pause and
// resume — keyboard first.
func TestBrowserParkAddServiceNoShowPause(t *testing.T) {
	h := startHub(t, nil, desk.Config{})
	issue(t, h, "informazioni", hub.PriorityNone) // I001
	issue(t, h, "certificati", hub.PriorityNone)  // A001
	ctx := tab(t)
	browserLogin(t, ctx, h, "clerk01", "/desk")
	key(t, ctx, "1")
	waitFor(t, ctx, "desk 1 chosen", `document.querySelector('#counter-select').value === '1'`)
	key(t, ctx, kb.Enter)
	waitFor(t, ctx, "desk 1 open", `document.querySelector('#state').classList.contains('open')`)
	key(t, ctx, "n")
	waitFor(t, ctx, "I001 called", curNumber+` === 'I001'`)

	// A: add "certificati" to the visit.
	key(t, ctx, "a")
	waitFor(t, ctx, "the add form", `!document.querySelector('#add-form').hidden && document.activeElement.id === 'add-service'`)
	assert.False(t, eval[bool](t, ctx, `Array.from(document.querySelector('#add-service').options).some(o => o.value === 'informazioni')`), "not the visit's own service")
	choose(t, ctx, "#add-service", "certificati")
	key(t, ctx, kb.Enter)
	waitFor(t, ctx, "two services", `document.querySelector('#cur-services').textContent.includes('Certificati')`)
	assert.Equal(t, []string{"certificati"}, findTicket(t, h, "I001").Requested)

	// P: park it with a note; it shows among the parked. The form is ready
	// (shown, empty, focused, marked data-ready) before the first keystroke,
	// and the page no longer busy with the previous action, whose answer
	// must not take the focus away.
	waitFor(t, ctx, "the page idle", `!document.body.classList.contains('busy')`)
	key(t, ctx, "p")
	waitFor(t, ctx, "the park form ready", `!document.querySelector('#park-form').hidden && document.querySelector('#park-form').dataset.ready === 'true' && document.activeElement.id === 'park-notes' && document.querySelector('#park-notes').value === ''`)
	key(t, ctx, "Va a prendere la fototessera")
	waitFor(t, ctx, "the note typed", `document.querySelector('#park-notes').value === 'Va a prendere la fototessera' && document.activeElement.id === 'park-notes'`)
	click(t, ctx, "#park-submit")
	waitFor(t, ctx, "I001 parked", `!!document.querySelector('#parked tbody tr[data-number="I001"]') && !document.querySelector('#cur-number')`)
	assert.Contains(t, text(t, ctx, `#parked tbody tr[data-number="I001"]`), "Va a prendere la fototessera")
	assert.True(t, findTicket(t, h, "I001").Parked)

	// N then X: A001 does not show up.
	key(t, ctx, "n")
	waitFor(t, ctx, "A001 called", curNumber+` === 'A001'`)
	key(t, ctx, "x")
	waitFor(t, ctx, "A001 gone", `!document.querySelector('#cur-number')`)
	assert.Equal(t, hub.StatusNoShow, findTicket(t, h, "A001").Status)

	// L goes to the list: the parked ticket's call button; Enter calls it back.
	key(t, ctx, "l")
	waitFor(t, ctx, "the focus on the call button", `document.activeElement.classList.contains('call')`)
	key(t, ctx, kb.Enter)
	waitFor(t, ctx, "I001 back", curNumber+` === 'I001'`)
	waitFor(t, ctx, "the parked list empty", `!document.querySelector('#parked-empty').hidden`)
	key(t, ctx, "f")
	waitFor(t, ctx, "the finish form", `!document.querySelector('#finish-form').hidden`)
	waitFor(t, ctx, "both services ticked", `document.querySelector('#delivered-informazioni').checked && document.querySelector('#delivered-certificati').checked`)
	waitFor(t, ctx, "the focus in the finish form", `document.querySelector('#finish-form').contains(document.activeElement)`)
	// Enter without an outcome asks for one.
	key(t, ctx, kb.Enter)
	waitFor(t, ctx, "the outcome asked", `document.querySelector('#err').innerText.includes('Scegli un esito')`)
	key(t, ctx, "1")
	key(t, ctx, kb.Enter)
	waitFor(t, ctx, "I001 finished", `!document.querySelector('#cur-number')`)
	got := findTicket(t, h, "I001")
	assert.Equal(t, hub.StatusDone, got.Status)
	assert.Equal(t, "rilasciato", got.Outcome)
	assert.ElementsMatch(t, []string{"informazioni", "certificati"}, got.Delivered)

	// B pauses for a break, O resumes, C closes.
	key(t, ctx, "b")
	waitFor(t, ctx, "paused", `document.querySelector('#state').classList.contains('paused') && document.querySelector('#state').innerText.includes('Pausa')`)
	v, err := h.Engine.Counter("1")
	require.NoError(t, err)
	assert.Equal(t, hub.CounterPaused, v.Counter.State)
	assert.Equal(t, "pausa", v.Counter.Reason)
	key(t, ctx, "n")
	waitFor(t, ctx, "the refusal", `document.querySelector('#msg').innerText.includes('non disponibile')`)
	key(t, ctx, "o")
	waitFor(t, ctx, "open again", `document.querySelector('#state').classList.contains('open')`)
	key(t, ctx, "c")
	waitFor(t, ctx, "closed", `document.querySelector('#state').classList.contains('closed') && !document.querySelector('#counter-select').disabled`)
	v, err = h.Engine.Counter("1")
	require.NoError(t, err)
	assert.Equal(t, hub.CounterClosed, v.Counter.State)
}

// An admin adds a service and puts it in desk 7's profile through the
// page, with no file edited; a refused edit shows why and changes nothing.
// The new service can then be issued through the API, the supervisor sees
// its queue, and clerk07 at desk 7 sees and calls its ticket. Both
// changes are in the action audit with the admin as actor.
func TestBrowserAdminCatalogue(t *testing.T) {
	h := startHub(t, nil, desk.Config{})
	ctx := tab(t)
	browserLogin(t, ctx, h, "admin", "/admin")
	waitFor(t, ctx, "the catalogue", `document.querySelectorAll('#services tbody tr button[data-edit-service]').length === 13`)

	// A new service, typed into the form.
	run(t, ctx,
		chromedpSendKeys("#svc-id", "passaporti"),
		chromedpSendKeys("#svc-prefix", "PS"),
		chromedpSendKeys("#svc-name-it", "Passaporti"),
		chromedpSendKeys("#svc-name-en", "Passports"),
		chromedpSendKeys("#svc-target", "12"),
		chromedpSendKeys("#svc-time", "9"),
	)
	choose(t, ctx, "#svc-category", "dispositivo")
	click(t, ctx, "#svc-submit")
	waitFor(t, ctx, "the new service listed", `!!document.querySelector('#services tr[data-service="passaporti"]')`)
	row := text(t, ctx, `#services tr[data-service="passaporti"]`)
	assert.Contains(t, row, "Passaporti")
	assert.Contains(t, row, "PS")
	assert.Contains(t, row, "12 min")
	sv, ok := h.Engine.Site().Service("passaporti")
	require.True(t, ok)
	assert.Equal(t, hub.Text{IT: "Passaporti", EN: "Passports"}, sv.Name)
	assert.Equal(t, 12*time.Minute, sv.TargetWait)
	assert.Equal(t, 9*time.Minute, sv.ServiceTime)
	assert.Equal(t, hub.Dispositivo, sv.Category)
	assert.False(t, sv.Inactive)

	// A refused edit: the prefix of another service. The form says so and
	// nothing changes.
	seq := h.Engine.LastSeq()
	click(t, ctx, "#edit-service-passaporti")
	waitFor(t, ctx, "the form on passaporti", `document.querySelector('#svc-id').value === 'passaporti' && document.querySelector('#svc-id').readOnly && document.activeElement.id === 'svc-prefix'`)
	require.True(t, eval[bool](t, ctx, `(document.querySelector('#svc-prefix').value = '') === ''`))
	run(t, ctx, chromedpSendKeys("#svc-prefix", "A"))
	click(t, ctx, "#svc-submit")
	waitFor(t, ctx, "the refusal", `!document.querySelector('#svc-error').hidden && document.querySelector('#svc-error').innerText.includes('prefisso')`)
	assert.Equal(t, seq, h.Engine.LastSeq(), "a refused edit commits nothing")
	sv, _ = h.Engine.Site().Service("passaporti")
	assert.Equal(t, "PS", sv.Prefix)
	click(t, ctx, "#svc-new")
	waitFor(t, ctx, "the form empty again", `document.querySelector('#svc-id').value === '' && !document.querySelector('#svc-id').readOnly`)

	// Desk 7's name and profile, edited in the place form: the new service
	// is offered at once (no reload).
	waitFor(t, ctx, "the places", `!!document.querySelector('#edit-counter-7')`)
	click(t, ctx, "#edit-counter-7")
	waitFor(t, ctx, "the place form on desk 7", `document.querySelector('#ctr-id').value === '7' && document.querySelector('#ctr-kind').disabled && !!document.querySelector('#ctr-svc-passaporti')`)
	assert.True(t, eval[bool](t, ctx, `document.querySelector('#ctr-svc-cie').checked && document.querySelector('#ctr-svc-residenza').checked`), "the current profile is ticked")
	assert.False(t, eval[bool](t, ctx, `!!document.querySelector('#ctr-svc-suap')`), "no room services for a desk")
	click(t, ctx, "#ctr-svc-passaporti")
	click(t, ctx, "#ctr-svc-residenza")
	click(t, ctx, "#ctr-submit")
	waitFor(t, ctx, "desk 7's new profile listed", `document.querySelector('#counters tr[data-counter="7"]').innerText.includes('Passaporti') && document.querySelector('#services tr[data-service="passaporti"] td.places').textContent === '7'`)
	v, err := h.Engine.Counter("7")
	require.NoError(t, err)
	assert.Equal(t, []string{"cie", "passaporti"}, v.Counter.Services)
	def, _ := h.Engine.Site().Counter("7")
	assert.Equal(t, []string{"cie", "passaporti"}, def.Services, "the stored default follows")
	waitFor(t, ctx, "the audit", `!!document.querySelector('#audit tr[data-action="service.created"][data-actor="admin"]') && !!document.querySelector('#audit tr[data-action="counter.updated"][data-actor="admin"]')`)
	assert.Contains(t, text(t, ctx, `#audit tr[data-action="service.created"]`), "service passaporti")
	shot(t, ctx, "admin-catalogue")

	// Issued through the API by a totem.
	r := do(t, http.DefaultClient, http.MethodPost, h.URL+"/api/v1/tickets", `{"service":"passaporti"}`,
		map[string]string{"Authorization": "Bearer demo-totem-1", "Content-Type": "application/json"})
	require.Equal(t, http.StatusCreated, r.Status, r.Body)
	var tk struct{ Number, Service string }
	r.JSON(t, &tk)
	assert.Equal(t, "PS001", tk.Number)

	// The supervisor's queues have the new service, with its ticket.
	sup := tab(t)
	browserLogin(t, sup, h, "supervisor", "/supervisor")
	waitFor(t, sup, "the passaporti queue", `(() => { const r = document.querySelector('#queues tr[data-service="passaporti"]'); return r && r.innerText.includes('Passaporti') && r.innerText.includes('1'); })()`)

	// Clerk07 at desk 7 sees it waiting and calls it.
	cl := tab(t)
	browserLogin(t, cl, h, "clerk07", "/desk")
	choose(t, cl, "#counter-select", "7")
	key(t, cl, kb.Enter)
	waitFor(t, cl, "desk 7 open", `document.querySelector('#state').classList.contains('open')`)
	waitFor(t, cl, "PS001 waiting", `!!document.querySelector('#waiting tbody tr[data-number="PS001"]')`)
	assert.Contains(t, text(t, cl, `#waiting tbody tr[data-number="PS001"]`), "Passaporti")
	key(t, cl, "n")
	waitFor(t, cl, "PS001 called", curNumber+` === 'PS001'`)
	assert.Contains(t, text(t, cl, "#cur-service"), "Passaporti")
}

// An admin adds a service while the supervisor console is open: the page
// (whose list of services came with it) offers a reload instead of
// reloading by itself, and after the reload the service has its row.
func TestBrowserCatalogueChangeOffersReload(t *testing.T) {
	h := startHub(t, nil, desk.Config{})
	ctx := tab(t)
	browserLogin(t, ctx, h, "supervisor", "/supervisor")
	waitFor(t, ctx, "the queues", `!!document.querySelector('#queues tr[data-service="certificati"]')`)
	assert.False(t, eval[bool](t, ctx, `!!document.querySelector('#catalogue-banner')`), "no banner before a change")
	_, _, err := h.Engine.SaveService(context.Background(), "admin", hub.ServiceChange{ID: "passaporti", Prefix: "PS",
		Name: hub.Text{IT: "Passaporti", EN: "Passports"}, Category: hub.Dispositivo, TargetWait: 20 * time.Minute, ServiceTime: 10 * time.Minute})
	require.NoError(t, err)
	waitFor(t, ctx, "the reload offer", `!!document.querySelector('#catalogue-banner[role="status"] #catalogue-reload')`)
	assert.Contains(t, text(t, ctx, "#catalogue-banner"), "modificato servizi")
	assert.False(t, eval[bool](t, ctx, `!!document.querySelector('#queues tr[data-service="passaporti"]')`), "not before the reload")
	click(t, ctx, "#catalogue-reload")
	waitFor(t, ctx, "the new service's row", `!!document.querySelector('#queues tr[data-service="passaporti"]') && !document.querySelector('#catalogue-banner')`)
}
