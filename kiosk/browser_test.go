package kiosk_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/hubtest"
	"github.com/comune-rc/sportello/kiosk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	portraitW, portraitH   = 1080, 1920
	landscapeW, landscapeH = 1920, 1080
	wait                   = 10 * time.Second
)

// openKiosk points a new tab at the totem page with its device token, as
// the totem's kiosk browser is, and waits for the start screen.
func openKiosk(t *testing.T, h *hubtest.Hub, totem, token string, w, hgt int64) context.Context {
	t.Helper()
	ctx := tab(t, w, hgt)
	run(t, ctx, chromedp.Navigate(h.URL+"/kiosk/"+totem+"?token="+token))
	waitFor(t, ctx, "the start screen", `document.body.classList.contains('ready') && `+visibleScreen+` === 's-start'`, wait)
	return ctx
}

func onScreen(t *testing.T, ctx context.Context, id string) {
	t.Helper()
	waitFor(t, ctx, "screen "+id, visibleScreen+` === `+jsString(id), wait)
}

// takeTicket walks the totem's ticket flow and returns the number shown.
func takeTicket(t *testing.T, ctx context.Context, group, service, priority string) string {
	t.Helper()
	click(t, ctx, "#go-ticket")
	onScreen(t, ctx, "s-groups")
	checkTargets(t, ctx, "the groups screen")
	click(t, ctx, `#s-groups [data-group="`+group+`"]`)
	onScreen(t, ctx, "s-group-"+group)
	checkTargets(t, ctx, "the services screen")
	click(t, ctx, `#s-group-`+group+` [data-service="`+service+`"]`)
	onScreen(t, ctx, "s-priority")
	checkTargets(t, ctx, "the priority screen")
	click(t, ctx, `#s-priority [data-priority="`+priority+`"]`)
	onScreen(t, ctx, "s-ticket")
	waitFor(t, ctx, "the ticket number", `/^[A-Z]\d{3}$/.test(document.querySelector('#t-number').textContent)`, wait)
	return text(t, ctx, "#t-number")
}

func TestBrowserTicketItalianThenEnglish(t *testing.T) {
	h := startHub(t, kiosk.Config{})
	ctx := openKiosk(t, h, "totem-1", "demo-totem-1", portraitW, portraitH)
	assert.Equal(t, "it", eval[string](t, ctx, `document.documentElement.lang`))
	checkTargets(t, ctx, "the start screen")

	number := takeTicket(t, ctx, "documenti", "certificati", "none")
	assert.Equal(t, "A001", number)
	ticket := text(t, ctx, "#s-ticket")
	for _, s := range []string{"Il tuo numero", "Certificati anagrafici", "Posizione in coda", "Attesa stimata", "Inquadra il codice QR", "Fine"} {
		assert.Contains(t, ticket, s)
	}
	assert.Equal(t, "1", text(t, ctx, "#t-position"))
	// The QR code is the ticket's tracking link, and it is loaded.
	waitFor(t, ctx, "the QR image", `(() => { const i = document.querySelector('#t-qr'); return i.complete && i.naturalWidth > 100; })()`, wait)
	got := findTicket(t, h, number)
	src := eval[string](t, ctx, `document.querySelector('#t-qr').getAttribute('src')`)
	assert.Equal(t, "/qr.png?data="+strings.ReplaceAll(strings.ReplaceAll(h.URL, ":", "%3A"), "/", "%2F")+"%2Ft%2F"+got.TrackToken, src)
	assert.Contains(t, eval[string](t, ctx, `document.querySelector('#t-qr').alt`), "Codice QR")
	checkTargets(t, ctx, "the ticket screen")

	// In the engine: a totem ticket without priority, a print job of totem-1.
	assert.Equal(t, hub.ChannelTotem, got.Channel)
	assert.Equal(t, hub.PriorityNone, got.Prio)
	assert.Equal(t, "certificati", got.Service)
	assert.True(t, isPrintJob(h, "totem-1", got.ID), "the ticket is a print job of totem-1")
	waitFor(t, ctx, "the printing message", `document.querySelector('#t-print').textContent.includes('Stampa')`, wait)

	// The English switch turns every text on the screen to English.
	click(t, ctx, "#lang")
	waitFor(t, ctx, "English", `document.documentElement.lang === 'en'`, wait)
	ticket = text(t, ctx, "#s-ticket")
	for _, s := range []string{"Your number", "Registry certificates", "Position in queue", "Estimated wait", "Scan the QR code", "Done"} {
		assert.Contains(t, ticket, s)
	}
	for _, s := range []string{"Il tuo numero", "Posizione", "Attesa stimata", "Inquadra"} {
		assert.NotContains(t, ticket, s)
	}
	assert.Equal(t, "Italiano", text(t, ctx, "#lang"))
	assert.Contains(t, eval[string](t, ctx, `document.querySelector('#t-qr').alt`), "QR code to follow")
	assert.Contains(t, text(t, ctx, "#help"), "Help")

	// Fine goes back to the start, in Italian.
	click(t, ctx, "#t-done")
	onScreen(t, ctx, "s-start")
	assert.Equal(t, "it", eval[string](t, ctx, `document.documentElement.lang`))
	assert.Contains(t, text(t, ctx, "#s-start"), "Prendi il numero")

	// A second ticket in English from the start.
	click(t, ctx, "#lang")
	number = takeTicket(t, ctx, "acqua", "idrico", "none")
	assert.Equal(t, "H001", number)
	ticket = text(t, ctx, "#s-ticket")
	assert.Contains(t, ticket, "Your number")
	assert.Contains(t, ticket, "Water service")
	assert.Contains(t, ticket, "Position in queue")
}

// The print status: printed, or still pending after the print timeout.
func TestBrowserPrintStatus(t *testing.T) {
	h := startHub(t, kiosk.Config{PrintTimeout: time.Second})
	ctx := openKiosk(t, h, "totem-2", "demo-totem-2", portraitW, portraitH)
	number := takeTicket(t, ctx, "tasse", "tributi", "none")
	got := findTicket(t, h, number)
	require.True(t, isPrintJob(h, "totem-2", got.ID))
	_, err := h.Engine.PrintResult(context.Background(), "totem-2", got.ID, true, "")
	require.NoError(t, err)
	waitFor(t, ctx, "the printed message", `document.querySelector('#t-print').textContent === 'Ritira il biglietto stampato.'`, wait)

	// No agent prints the next one: after the timeout the QR is the way.
	click(t, ctx, "#t-done")
	onScreen(t, ctx, "s-start")
	takeTicket(t, ctx, "tasse", "tributi", "none")
	waitFor(t, ctx, "the print failure message", `document.querySelector('#t-print').textContent.startsWith('La stampa non è riuscita: fotografa o scansiona il QR qui sopra, oppure chiedi all')`, wait)
	click(t, ctx, "#lang")
	assert.Contains(t, text(t, ctx, "#t-print"), "Printing failed")

	// A failure reported by the agent says the same at once.
	click(t, ctx, "#t-done")
	onScreen(t, ctx, "s-start")
	n3 := takeTicket(t, ctx, "tasse", "tributi", "none")
	_, err = h.Engine.PrintResult(context.Background(), "totem-2", findTicket(t, h, n3).ID, false, "paper out")
	require.NoError(t, err)
	waitFor(t, ctx, "the failure message", `document.querySelector('#t-print').textContent.startsWith('La stampa non è riuscita')`, wait)
}

// Priority categories are asked, sent and kept by the engine, but never
// shown on the ticket screen or the tracking page.
func TestBrowserPriorityNotShown(t *testing.T) {
	h := startHub(t, kiosk.Config{})
	ctx := openKiosk(t, h, "totem-1", "demo-totem-1", portraitW, portraitH)
	click(t, ctx, "#go-ticket")
	click(t, ctx, `[data-group="famiglia"]`)
	click(t, ctx, `[data-service="residenza"]`)
	onScreen(t, ctx, "s-priority")
	prio := text(t, ctx, "#s-priority")
	assert.Contains(t, prio, "Hai diritto alla precedenza?")
	assert.Contains(t, prio, "Disabilità (L. 104/1992)")
	assert.Contains(t, prio, "verificherà")
	assert.True(t, eval[bool](t, ctx, `document.activeElement === document.querySelector('#prio-no')`), "No is the default")
	click(t, ctx, `[data-priority="disability"]`)
	onScreen(t, ctx, "s-ticket")
	waitFor(t, ctx, "the number", `/^R\d{3}$/.test(document.querySelector('#t-number').textContent)`, wait)
	number := text(t, ctx, "#t-number")
	got := findTicket(t, h, number)
	assert.Equal(t, hub.PriorityDisability, got.Prio)

	for _, l := range []string{"it", "en"} {
		if l == "en" {
			click(t, ctx, "#lang")
		}
		assertNoPriority(t, eval[string](t, ctx, `document.querySelector('#s-ticket').outerHTML`))
		assertNoPriority(t, eval[string](t, ctx, `document.body.innerText`))
	}

	// The tracking page of the same ticket.
	tctx := tab(t, 390, 844)
	run(t, tctx, chromedp.Navigate(h.URL+"/t/"+got.TrackToken))
	waitFor(t, tctx, "the tracking page", `document.querySelector('#tk-conn').textContent.includes('Aggiornato')`, wait)
	assert.Contains(t, text(t, tctx, "#tk-number"), number)
	assertNoPriority(t, eval[string](t, tctx, `document.documentElement.outerHTML`))
	click(t, tctx, "#lang")
	assertNoPriority(t, eval[string](t, tctx, `document.documentElement.outerHTML`))
}

// The whole ticket flow works from a keyboard, with a visible focus.
func TestBrowserKeyboardOnly(t *testing.T) {
	h := startHub(t, kiosk.Config{})
	ctx := openKiosk(t, h, "totem-1", "demo-totem-1", landscapeW, landscapeH)
	focused := `document.activeElement && document.activeElement.id`
	tabTo := func(id string) {
		t.Helper()
		for i := 0; i < 12 && eval[string](t, ctx, focused) != id; i++ {
			run(t, ctx, chromedp.KeyEvent(kb.Tab))
		}
		require.Equal(t, id, eval[string](t, ctx, focused))
		style := eval[string](t, ctx, `getComputedStyle(document.activeElement).outlineStyle`)
		assert.NotEqual(t, "none", style, "the focus is visible on #%s", id)
	}
	tabTo("go-ticket")
	run(t, ctx, chromedp.KeyEvent(kb.Enter))
	onScreen(t, ctx, "s-groups")
	run(t, ctx, chromedp.KeyEvent(kb.Tab))
	require.Equal(t, "documenti", eval[string](t, ctx, `document.activeElement.dataset.group`))
	run(t, ctx, chromedp.KeyEvent(kb.Enter))
	onScreen(t, ctx, "s-group-documenti")
	run(t, ctx, chromedp.KeyEvent(kb.Tab))
	require.Equal(t, "certificati", eval[string](t, ctx, `document.activeElement.dataset.service`))
	run(t, ctx, chromedp.KeyEvent(kb.Enter))
	onScreen(t, ctx, "s-priority")
	require.Equal(t, "prio-no", eval[string](t, ctx, focused))
	run(t, ctx, chromedp.KeyEvent(kb.Enter))
	onScreen(t, ctx, "s-ticket")
	waitFor(t, ctx, "the number", `document.querySelector('#t-number').textContent === 'A001'`, wait)
	waitFor(t, ctx, "the announcement", `document.querySelector('#announce').textContent === 'Il tuo numero è A001.'`, wait)
	tabTo("t-done")
	run(t, ctx, chromedp.KeyEvent(kb.Enter))
	onScreen(t, ctx, "s-start")
}

func TestBrowserCheckin(t *testing.T) {
	h := startHub(t, kiosk.Config{})
	bg := context.Background()
	typed, err := h.Engine.Book(bg, hub.BookRequest{Service: "cie", Slot: time.Now().Add(15 * time.Minute)})
	require.NoError(t, err)
	keyed, err := h.Engine.Book(bg, hub.BookRequest{Service: "residenza", Slot: time.Now().Add(30 * time.Minute)})
	require.NoError(t, err)
	ctx := openKiosk(t, h, "totem-3", "demo-totem-3", portraitW, portraitH)

	// A scanner (or a keyboard) types into the auto-focused field, then Enter.
	click(t, ctx, "#go-checkin")
	onScreen(t, ctx, "s-checkin")
	waitFor(t, ctx, "the focused code field", `document.activeElement === document.querySelector('#code')`, wait)
	checkTargets(t, ctx, "the check-in screen")
	run(t, ctx, chromedp.KeyEvent("not a code"), chromedp.KeyEvent(kb.Enter))
	waitFor(t, ctx, "the error", `document.querySelector('#checkin-error').textContent.includes('non sembra un codice')`, wait)
	// The wrong text is selected: the next scan replaces it.
	require.True(t, eval[bool](t, ctx, `document.activeElement.id === 'code' && document.activeElement.selectionStart === 0 && document.activeElement.selectionEnd === 10`))
	run(t, ctx, chromedp.KeyEvent("https://prenota.example/a?code="+strings.ToLower(typed.Code)), chromedp.KeyEvent(kb.Enter))
	onScreen(t, ctx, "s-ticket")
	waitFor(t, ctx, "the number", `/^C\d{3}$/.test(document.querySelector('#t-number').textContent)`, wait)
	assert.Contains(t, text(t, ctx, "#s-ticket"), "Carta d'identità elettronica")
	assert.Contains(t, text(t, ctx, "#t-slot"), "Appuntamento delle")
	got := findTicket(t, h, text(t, ctx, "#t-number"))
	assert.Equal(t, typed.Code, got.Appointment)
	assert.True(t, isPrintJob(h, "totem-3", got.ID))

	// The on-screen keypad, for touch.
	click(t, ctx, "#t-done")
	onScreen(t, ctx, "s-start")
	click(t, ctx, "#go-checkin")
	onScreen(t, ctx, "s-checkin")
	click(t, ctx, `#s-checkin [data-key="X"]`)
	click(t, ctx, `#s-checkin [data-key="del"]`)
	for _, r := range keyed.Code {
		click(t, ctx, `#s-checkin [data-key="`+string(r)+`"]`)
	}
	assert.Equal(t, keyed.Code, eval[string](t, ctx, `document.querySelector('#code').value`))
	click(t, ctx, "#checkin-go")
	onScreen(t, ctx, "s-ticket")
	waitFor(t, ctx, "the number", `/^R\d{3}$/.test(document.querySelector('#t-number').textContent)`, wait)
	assert.Equal(t, keyed.Code, findTicket(t, h, text(t, ctx, "#t-number")).Appointment)

	// A scan on the start screen goes straight to the check-in.
	scanned, err := h.Engine.Book(bg, hub.BookRequest{Service: "tributi", Slot: time.Now().Add(45 * time.Minute)})
	require.NoError(t, err)
	click(t, ctx, "#t-done")
	onScreen(t, ctx, "s-start")
	run(t, ctx, chromedp.KeyEvent("https://prenota.example/appuntamento/"+scanned.Code), chromedp.KeyEvent(kb.Enter))
	onScreen(t, ctx, "s-ticket")
	waitFor(t, ctx, "the number", `/^T\d{3}$/.test(document.querySelector('#t-number').textContent)`, wait)
	assert.Equal(t, scanned.Code, findTicket(t, h, text(t, ctx, "#t-number")).Appointment)

	// An unknown code says so, in English too.
	click(t, ctx, "#t-done")
	onScreen(t, ctx, "s-start")
	click(t, ctx, "#lang")
	click(t, ctx, "#go-checkin")
	onScreen(t, ctx, "s-checkin")
	run(t, ctx, chromedp.KeyEvent("ZZZZ-ZZZZ"), chromedp.KeyEvent(kb.Enter))
	waitFor(t, ctx, "the not-found error", `document.querySelector('#checkin-error').textContent.includes('We cannot find an appointment')`, wait)
}

func TestBrowserIdleReset(t *testing.T) {
	h := startHub(t, kiosk.Config{IdleTimeout: 2 * time.Second})
	ctx := openKiosk(t, h, "totem-1", "demo-totem-1", landscapeW, landscapeH)
	assert.Equal(t, "2000", eval[string](t, ctx, `document.body.dataset.idleMs`))
	click(t, ctx, "#lang")
	click(t, ctx, "#contrast")
	click(t, ctx, "#go-ticket")
	click(t, ctx, `[data-group="documenti"]`)
	onScreen(t, ctx, "s-group-documenti")
	require.Equal(t, "en", eval[string](t, ctx, `document.documentElement.lang`))
	start := time.Now()
	waitFor(t, ctx, "the idle reset", visibleScreen+` === 's-start' && document.documentElement.lang === 'it'`, 10*time.Second)
	assert.GreaterOrEqual(t, time.Since(start), time.Second, "not before the timeout")
	assert.Equal(t, "English", text(t, ctx, "#lang"))
	assert.Contains(t, text(t, ctx, "#s-start"), "Prendi il numero")
	assert.False(t, eval[bool](t, ctx, `document.documentElement.classList.contains('hc')`), "high contrast is reset")

	// A half-typed booking code is forgotten too.
	click(t, ctx, "#go-checkin")
	run(t, ctx, chromedp.KeyEvent("AB3D"))
	waitFor(t, ctx, "the idle reset", visibleScreen+` === 's-start'`, 10*time.Second)
	assert.Empty(t, eval[string](t, ctx, `document.querySelector('#code').value`))
}

func TestBrowserHelp(t *testing.T) {
	h := startHub(t, kiosk.Config{})
	ctx := openKiosk(t, h, "totem-2", "demo-totem-2", portraitW, portraitH)
	sub, _, _ := h.Engine.Subscribe(64)
	defer sub.Close()
	click(t, ctx, "#help")
	waitFor(t, ctx, "the help dialog", `document.querySelector('#help-dlg').open && document.querySelector('#help-title').textContent === 'Un operatore sta arrivando.'`, wait)
	assert.Equal(t, "Someone is coming.", text(t, ctx, "#help-title-en"))
	deadline := time.After(wait)
	for got := false; !got; {
		select {
		case ev := <-sub.C:
			got = ev.Type == hub.EventTotemHelp && ev.Data.Totem == "totem-2"
		case <-deadline:
			t.Fatal("no totem.help event")
		}
	}
	click(t, ctx, "#help-ok")
	waitFor(t, ctx, "the dialog closed", `!document.querySelector('#help-dlg').open`, wait)
}

func TestBrowserReport(t *testing.T) {
	h := startHub(t, kiosk.Config{})
	ctx := openKiosk(t, h, "totem-1", "demo-totem-1", portraitW, portraitH)
	click(t, ctx, "#go-report")
	onScreen(t, ctx, "s-report-kind")
	click(t, ctx, `[data-kind="segnalazione"]`)
	onScreen(t, ctx, "s-report-topic")
	checkTargets(t, ctx, "the topic screen")
	click(t, ctx, `[data-topic="illuminazione"]`)
	onScreen(t, ctx, "s-report-text")
	checkTargets(t, ctx, "the description screen")
	// Nothing written: the step says so.
	click(t, ctx, "#r-text-next")
	waitFor(t, ctx, "the error", `document.querySelector('#r-text-error').textContent.includes('descrizione')`, wait)
	// A physical keyboard and the on-screen one.
	run(t, ctx, chromedp.Focus(chromedp.CSS("#r-text")), chromedp.KeyEvent("Lampione spento"))
	click(t, ctx, `.kbd[data-for="r-text"] [data-key=" "]`)
	click(t, ctx, `.kbd[data-for="r-text"] [data-key="d"]`)
	click(t, ctx, `.kbd[data-for="r-text"] [data-key="a"]`)
	click(t, ctx, `.kbd[data-for="r-text"] [data-key="del"]`)
	click(t, ctx, `.kbd[data-for="r-text"] [data-key="a"]`)
	assert.Equal(t, "Lampione spento da", eval[string](t, ctx, `document.querySelector('#r-text').value`))
	run(t, ctx, chromedp.KeyEvent(" una settimana"))
	click(t, ctx, "#r-text-next")
	onScreen(t, ctx, "s-report-place")
	run(t, ctx, chromedp.KeyEvent("Via Marina"))
	click(t, ctx, `.kbd[data-for="r-place"] [data-key="shift"]`)
	click(t, ctx, `.kbd[data-for="r-place"] [data-key=" "]`)
	click(t, ctx, `.kbd[data-for="r-place"] [data-key="b"]`)
	assert.Equal(t, "Via Marina B", eval[string](t, ctx, `document.querySelector('#r-place').value`))
	click(t, ctx, "#r-place-next")
	onScreen(t, ctx, "s-report-review")
	review := text(t, ctx, "#s-report-review")
	for _, s := range []string{"Segnalazione", "Illuminazione pubblica", "Lampione spento da una settimana", "Via Marina B"} {
		assert.Contains(t, review, s)
	}
	click(t, ctx, "#r-send")
	waitFor(t, ctx, "the receipt or an error", visibleScreen+` === 's-report-done' || document.querySelector('#r-send-error').textContent !== ''`, wait)
	if eval[string](t, ctx, visibleScreen) != "s-report-done" {
		msg := text(t, ctx, "#r-send-error")
		if strings.Contains(msg, "non sono disponibili") {
			t.Log("POST /api/v1/reports answers 404: the report receipt is not checked")
			return
		}
		t.Fatalf("the report was refused: %s", msg)
	}
	protocol := text(t, ctx, "#r-protocol")
	assert.Regexp(t, `^SP-\d{4}-\d{6}$`, protocol)
	assert.Contains(t, text(t, ctx, "#s-report-done"), "Conserva questo numero")
	rep, err := h.Engine.Report(protocol)
	require.NoError(t, err)
	assert.Equal(t, "segnalazione", rep.Kind)
	assert.Equal(t, "illuminazione", rep.Topic)
	assert.Equal(t, "Lampione spento da una settimana", rep.Description)
	assert.Equal(t, "Via Marina B", rep.Location)
	assert.Equal(t, hub.ChannelTotem, rep.Channel)
	click(t, ctx, "#s-report-done [data-home]")
	onScreen(t, ctx, "s-start")
}

// The tracking page follows the live feed: the call shows without a reload.
func TestBrowserTrackingTurn(t *testing.T) {
	h := startHub(t, kiosk.Config{})
	bg := context.Background()
	first, _, err := h.Engine.Issue(bg, hub.IssueRequest{Service: "stato_civile", By: "totem-1", Channel: hub.ChannelTotem})
	require.NoError(t, err)
	mine, _, err := h.Engine.Issue(bg, hub.IssueRequest{Service: "stato_civile", By: "totem-1", Channel: hub.ChannelTotem})
	require.NoError(t, err)

	ctx := tab(t, 390, 844)
	run(t, ctx, chromedp.Navigate(h.URL+"/t/"+mine.TrackToken))
	waitFor(t, ctx, "the position", `document.querySelector('#tk-position').textContent === '2'`, wait)
	assert.Equal(t, mine.Number, text(t, ctx, "#tk-number"))
	assert.Contains(t, text(t, ctx, "body"), "Stato civile")
	assert.Contains(t, text(t, ctx, "body"), "Posizione in coda")
	checkTracking(t, ctx)
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`window.__sameDocument = true`))

	// Desk 5 calls the first ticket: this one moves up.
	_, err = h.Engine.OpenCounter(bg, "5", "clerk05")
	require.NoError(t, err)
	called, err := h.Engine.CallNext(bg, "5", "clerk05")
	require.NoError(t, err)
	require.Equal(t, first.ID, called.ID)
	waitFor(t, ctx, "position 1", `document.querySelector('#tk-position').textContent === '1'`, wait)
	assert.Contains(t, text(t, ctx, "#st-waiting"), "Sei il prossimo")

	// Then desk 5 calls this one.
	_, err = h.Engine.Finish(bg, "5", "clerk05", hub.FinishRequest{})
	require.NoError(t, err)
	called, err = h.Engine.CallNext(bg, "5", "clerk05")
	require.NoError(t, err)
	require.Equal(t, mine.ID, called.ID)
	waitFor(t, ctx, "your turn", `!document.querySelector('#st-called').hidden`, wait)
	assert.Equal(t, "È il tuo turno: sportello 5", text(t, ctx, "#tk-turn"))
	assert.Equal(t, "Sportello 5", text(t, ctx, "#tk-place"))
	assert.True(t, eval[bool](t, ctx, `window.__sameDocument === true`), "the page was not reloaded")
	click(t, ctx, "#lang")
	assert.Equal(t, "It's your turn: desk 5", text(t, ctx, "#tk-turn"))

	// A recall says so; the end of the service closes the page's story.
	_, err = h.Engine.Recall(bg, "5", "clerk05")
	require.NoError(t, err)
	waitFor(t, ctx, "the recall", `!document.querySelector('#tk-recall').hidden`, wait)
	_, err = h.Engine.Start(bg, "5", "clerk05")
	require.NoError(t, err)
	waitFor(t, ctx, "being served", `document.querySelector('#tk-serving').textContent === 'Being served: desk 5'`, wait)
	_, err = h.Engine.Finish(bg, "5", "clerk05", hub.FinishRequest{})
	require.NoError(t, err)
	waitFor(t, ctx, "done", `!document.querySelector('#st-done').hidden`, wait)
	assert.Contains(t, text(t, ctx, "#st-done"), "Thank you")
	assert.True(t, eval[bool](t, ctx, `window.__sameDocument === true`), "the page was not reloaded")
}

// A room calls "stanza"; the live feed resumes after a hub restart.
func TestBrowserTrackingRoomAfterRestart(t *testing.T) {
	h := startHub(t, kiosk.Config{})
	bg := context.Background()
	mine, _, err := h.Engine.Issue(bg, hub.IssueRequest{Service: "consulenza_tributaria", By: "totem-1", Channel: hub.ChannelTotem})
	require.NoError(t, err)
	ctx := tab(t, 390, 844)
	// Record the feed's connections and the ticket's fetches.
	_, err = chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `(() => {
		const W = window.WebSocket, F = window.fetch;
		window.__ws = [];
		window.__fetches = 0;
		window.WebSocket = function (u, p) { window.__ws.push(u); return new W(u, p); };
		window.WebSocket.prototype = W.prototype;
		window.fetch = function (u, o) { window.__fetches++; return F(u, o); };
	})()`})
	require.NoError(t, err)
	run(t, ctx, chromedp.Navigate(h.URL+"/t/"+mine.TrackToken))
	// Loaded, connected, and refreshed after the snapshot.
	waitFor(t, ctx, "the page to settle", `document.querySelector('#tk-position').textContent === '1' && window.__ws.length === 1 && window.__fetches >= 2`, wait)
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`window.__sameDocument = true`))

	restartHub(t, h)
	waitFor(t, ctx, "the reconnection", `window.__ws.length >= 2`, wait)
	_, err = h.Engine.OpenCounter(bg, "R3", "clerk07")
	require.NoError(t, err)
	_, err = h.Engine.CallNext(bg, "R3", "clerk07")
	require.NoError(t, err)
	// Well before the 20 s fallback poll.
	waitFor(t, ctx, "your turn", `document.querySelector('#tk-turn').textContent === 'È il tuo turno: stanza 3'`, 10*time.Second)
	ws := eval[[]string](t, ctx, `window.__ws`)
	for _, u := range ws[1:] {
		assert.Regexp(t, `/api/v1/live\?since=\d+$`, u, "a reconnection resumes from the last event")
	}
	assert.Contains(t, text(t, ctx, "#tk-go"), "stanza")
	assert.True(t, eval[bool](t, ctx, `window.__sameDocument === true`), "the page was not reloaded")
}

func TestBrowserTrackingLeave(t *testing.T) {
	h := startHub(t, kiosk.Config{})
	mine, _, err := h.Engine.Issue(context.Background(), hub.IssueRequest{Service: "informazioni", By: "totem-1", Channel: hub.ChannelTotem})
	require.NoError(t, err)
	ctx := tab(t, 390, 844)
	run(t, ctx, chromedp.Navigate(h.URL+"/t/"+mine.TrackToken))
	waitFor(t, ctx, "the position", `document.querySelector('#tk-position').textContent === '1'`, wait)

	// Changing one's mind keeps the place.
	click(t, ctx, "#leave")
	waitFor(t, ctx, "the confirmation", `document.querySelector('#confirm').open`, wait)
	assert.Contains(t, text(t, ctx, "#confirm"), "Vuoi davvero lasciare la coda?")
	click(t, ctx, "#confirm-no")
	waitFor(t, ctx, "the dialog closed", `!document.querySelector('#confirm').open`, wait)
	v, err := h.Engine.Ticket(mine.ID)
	require.NoError(t, err)
	require.Equal(t, hub.StatusWaiting, v.Ticket.Status)

	click(t, ctx, "#leave")
	waitFor(t, ctx, "the confirmation", `document.querySelector('#confirm').open`, wait)
	click(t, ctx, "#confirm-yes")
	waitFor(t, ctx, "cancelled", `!document.querySelector('#st-cancelled').hidden`, wait)
	assert.Contains(t, text(t, ctx, "#st-cancelled"), "Hai lasciato la coda")
	v, err = h.Engine.Ticket(mine.ID)
	require.NoError(t, err)
	assert.Equal(t, hub.StatusCancelled, v.Ticket.Status)

	// An unknown link is a friendly page.
	run(t, ctx, chromedp.Navigate(h.URL+"/t/nope"))
	waitFor(t, ctx, "the 404 page", `document.body.innerText.includes('Biglietto non trovato') && document.body.innerText.includes('Ticket not found')`, wait)
}

func checkTracking(t *testing.T, ctx context.Context) {
	t.Helper()
	require.Empty(t, eval[[]string](t, ctx, unnamedControls))
	// 48 px is the floor on a phone (WCAG 2.5.5 asks 44).
	small := eval[[]string](t, ctx, strings.ReplaceAll(smallTargets, "64", "48"))
	require.Empty(t, small)
}

// TestScreenshots writes the totem's screens to KIOSK_SCREENSHOTS (a
// directory) at both orientations, for a person to look at.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("KIOSK_SCREENSHOTS")
	if dir == "" {
		t.Skip("set KIOSK_SCREENSHOTS=DIR to write the screenshots")
	}
	h := startHub(t, kiosk.Config{})
	bg := context.Background()
	for i := 0; i < 3; i++ {
		_, _, err := h.Engine.Issue(bg, hub.IssueRequest{Service: "certificati", By: "clerk01", Channel: hub.ChannelDesk})
		require.NoError(t, err)
	}
	shot := func(ctx context.Context, name string) {
		buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), buf, 0o644))
	}
	for _, o := range []struct {
		name string
		w, h int64
	}{{"portrait", portraitW, portraitH}, {"landscape", landscapeW, landscapeH}} {
		ctx := openKiosk(t, h, "totem-1", "demo-totem-1", o.w, o.h)
		shot(ctx, "kiosk-start-"+o.name+".png")
		click(t, ctx, "#go-ticket")
		onScreen(t, ctx, "s-groups")
		shot(ctx, "kiosk-groups-"+o.name+".png")
		click(t, ctx, `[data-group="documenti"]`)
		onScreen(t, ctx, "s-group-documenti")
		waitFor(t, ctx, "the queue figures", `document.querySelector('[data-queue="certificati"]').textContent !== ''`, wait)
		shot(ctx, "kiosk-services-"+o.name+".png")
		click(t, ctx, `[data-service="certificati"]`)
		onScreen(t, ctx, "s-priority")
		shot(ctx, "kiosk-priority-"+o.name+".png")
		click(t, ctx, `[data-priority="none"]`)
		onScreen(t, ctx, "s-ticket")
		waitFor(t, ctx, "the QR image", `(() => { const i = document.querySelector('#t-qr'); return i.complete && i.naturalWidth > 100; })()`, wait)
		shot(ctx, "kiosk-ticket-"+o.name+".png")
		click(t, ctx, "#t-done")
		click(t, ctx, "#go-checkin")
		onScreen(t, ctx, "s-checkin")
		shot(ctx, "kiosk-checkin-"+o.name+".png")
		click(t, ctx, "#nav-home")
		click(t, ctx, "#go-report")
		click(t, ctx, `[data-kind="reclamo"]`)
		click(t, ctx, `[data-topic="servizi"]`)
		onScreen(t, ctx, "s-report-text")
		shot(ctx, "kiosk-report-"+o.name+".png")
		click(t, ctx, "#nav-home")
		click(t, ctx, "#contrast")
		click(t, ctx, "#bigtext")
		shot(ctx, "kiosk-start-contrast-"+o.name+".png")
	}
	mine, _, err := h.Engine.Issue(bg, hub.IssueRequest{Service: "certificati", By: "totem-1", Channel: hub.ChannelTotem})
	require.NoError(t, err)
	ctx := tab(t, 390, 844)
	run(t, ctx, chromedp.Navigate(h.URL+"/t/"+mine.TrackToken))
	waitFor(t, ctx, "the position", `document.querySelector('#tk-position').textContent === '6'`, wait)
	shot(ctx, "track-waiting.png")
	_, err = h.Engine.OpenCounter(bg, "5", "clerk05")
	require.NoError(t, err)
	for {
		c, err := h.Engine.CallNext(bg, "5", "clerk05")
		require.NoError(t, err)
		if c.ID == mine.ID {
			break
		}
		_, err = h.Engine.Finish(bg, "5", "clerk05", hub.FinishRequest{})
		require.NoError(t, err)
	}
	waitFor(t, ctx, "your turn", `!document.querySelector('#st-called').hidden`, wait)
	shot(ctx, "track-called.png")
}

// The admin page's switches reach the totem: a service switched off is not
// offered, and one that takes no priority categories skips the question
// and gives a ticket without one.
func TestBrowserCatalogueSwitches(t *testing.T) {
	h := startHub(t, kiosk.Config{})
	off, no := false, false
	_, _, err := h.Engine.SaveService(context.Background(), "admin", hub.ServiceChange{ID: "cie", Active: &off})
	require.NoError(t, err)
	_, _, err = h.Engine.SaveService(context.Background(), "admin", hub.ServiceChange{ID: "residenza", Priority: &no})
	require.NoError(t, err)
	ctx := openKiosk(t, h, "totem-1", "demo-totem-1", portraitW, portraitH)
	assert.False(t, eval[bool](t, ctx, `!!document.querySelector('[data-service="cie"]')`), "a service switched off is not offered")
	assert.True(t, eval[bool](t, ctx, `!!document.querySelector('[data-service="certificati"]')`))
	click(t, ctx, "#go-ticket")
	click(t, ctx, `[data-group="famiglia"]`)
	click(t, ctx, `[data-service="residenza"]`)
	onScreen(t, ctx, "s-ticket")
	waitFor(t, ctx, "the number", `/^R\d{3}$/.test(document.querySelector('#t-number').textContent)`, wait)
	got := findTicket(t, h, text(t, ctx, "#t-number"))
	assert.Equal(t, "residenza", got.Service)
	assert.Equal(t, hub.PriorityNone, got.Prio)

	// Switched off while the page is up: between two visitors the totem
	// reloads and no longer offers it.
	_, _, err = h.Engine.SaveService(context.Background(), "admin", hub.ServiceChange{ID: "certificati", Active: &off})
	require.NoError(t, err)
	click(t, ctx, "#t-done")
	// The page navigates: poll through the reload (an evaluation during it
	// fails and counts as not yet).
	gone := `document.body.classList.contains('ready') && !document.querySelector('[data-service="certificati"]') && !!document.querySelector('[data-service="residenza"]')`
	deadline := time.Now().Add(wait)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](gone))
		if err == nil && ok {
			break
		}
		require.True(t, time.Now().Before(deadline), "the totem did not reload without certificati (last error %v)", err)
		time.Sleep(50 * time.Millisecond)
	}
}

// An overloaded office: with forty people ahead and one desk open the
// estimate passes 45 minutes, and the ticket screen advises booking or
// coming back later, in both languages; an empty office gives no advice.
func TestBrowserOverloadAdvice(t *testing.T) {
	h := startHub(t, kiosk.Config{})
	ctx := openKiosk(t, h, "totem-1", "demo-totem-1", portraitW, portraitH)
	takeTicket(t, ctx, "documenti", "certificati", "none")
	assert.False(t, eval[bool](t, ctx, `document.querySelector('#t-advice').checkVisibility()`), "no advice with nobody ahead")
	click(t, ctx, "#t-done")
	onScreen(t, ctx, "s-start")

	bg := context.Background()
	for range 40 {
		_, _, err := h.Engine.Issue(bg, hub.IssueRequest{Service: "certificati", By: "totem-2"})
		require.NoError(t, err)
	}
	_, err := h.Engine.OpenCounter(bg, "1", "clerk01")
	require.NoError(t, err)
	number := takeTicket(t, ctx, "documenti", "certificati", "none")
	v, err := h.Engine.Ticket(findTicket(t, h, number).ID)
	require.NoError(t, err)
	require.Greater(t, v.EWT, hub.AdviceWait, "the estimate with forty ahead and one desk")
	waitFor(t, ctx, "the advice", `document.querySelector('#t-advice').checkVisibility()`, wait)
	assert.Contains(t, text(t, ctx, "#t-advice"), "prenotare un appuntamento o tornare più tardi")
	click(t, ctx, "#lang")
	waitFor(t, ctx, "English", `document.documentElement.lang === 'en'`, wait)
	assert.Contains(t, text(t, ctx, "#t-advice"), "book an appointment or come back later")
}
