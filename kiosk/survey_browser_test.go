package kiosk_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/kiosk"
	"github.com/stretchr/testify/require"
)

// The tracking page shows the faces once the visit is finished, in
// Italian and English, and records one answer; a reload says it is done.
func TestBrowserSurveyOnTrackingPage(t *testing.T) {
	h := startHub(t, kiosk.Config{})
	bg := context.Background()
	mine, _, err := h.Engine.Issue(bg, hub.IssueRequest{Service: "stato_civile", By: "totem-1", Channel: hub.ChannelTotem})
	require.NoError(t, err)
	ctx := tab(t, 390, 844)
	run(t, ctx, chromedp.Navigate(h.URL+"/t/"+mine.TrackToken))
	waitFor(t, ctx, "the waiting state", `!document.querySelector('#st-waiting').hidden`, wait)
	require.True(t, eval[bool](t, ctx, `document.querySelector('#st-done').hidden`), "no survey while waiting")

	// The visit is served: the page turns to the survey without a reload.
	_, err = h.Engine.OpenCounter(bg, "5", "clerk05")
	require.NoError(t, err)
	_, err = h.Engine.CallTicket(bg, "5", "clerk05", mine.ID)
	require.NoError(t, err)
	_, err = h.Engine.Finish(bg, "5", "clerk05", hub.FinishRequest{})
	require.NoError(t, err)
	waitFor(t, ctx, "the survey", `!document.querySelector('#st-done').hidden && !document.querySelector('form.survey').hidden`, wait)
	checkTracking(t, ctx)
	require.Empty(t, eval[[]string](t, ctx, duplicateIDs))
	require.Equal(t, "Quanto sei soddisfatto del servizio di oggi?", text(t, ctx, "form.survey legend"))
	require.Equal(t, 5, eval[int](t, ctx, `document.querySelectorAll('form.survey input[type=radio][name=score]').length`))
	// Each face is a labelled radio button: its name is the words.
	require.Equal(t, "Molto", eval[string](t, ctx, `document.querySelector('#sv-4').labels[0].querySelector('.facetext').innerText.trim()`))
	require.Equal(t, "true", eval[string](t, ctx, `document.querySelector('label[for=sv-4] .emoji').getAttribute('aria-hidden')`), "the face itself is decoration")

	// Sending without a face says what is missing and sends nothing.
	click(t, ctx, "form.survey .survey-send")
	waitFor(t, ctx, "the hint", `document.querySelector('.survey-error').textContent.indexOf('cinque facce') >= 0`, wait)
	v, err := h.Engine.Ticket(mine.ID)
	require.NoError(t, err)
	require.Nil(t, v.Ticket.Rating)

	// In English, by keyboard: the first face, then the arrow keys.
	click(t, ctx, "#lang")
	waitFor(t, ctx, "English", `document.querySelector('form.survey legend').innerText.indexOf("How satisfied") === 0`, wait)
	run(t, ctx, chromedp.Focus(chromedp.CSS("#sv-1")), chromedp.KeyEvent(kb.ArrowRight), chromedp.KeyEvent(kb.ArrowRight), chromedp.KeyEvent(kb.ArrowRight))
	require.Equal(t, "4", eval[string](t, ctx, `document.querySelector('input[name=score]:checked').value`))
	run(t, ctx, chromedp.SetValue(chromedp.CSS("#sv-reason"), "cortesia"), chromedp.SendKeys(chromedp.CSS("#sv-comment"), "Tutto chiaro"))
	click(t, ctx, "form.survey .survey-send")
	waitFor(t, ctx, "the thanks", `!document.querySelector('.survey-thanks').hidden && document.querySelector('form.survey').hidden`, wait)
	require.Contains(t, text(t, ctx, ".survey-thanks"), "Thank you")
	require.Equal(t, "survey-thanks", eval[string](t, ctx, `document.activeElement.className.split(' ')[0]`), "focus moves to the confirmation")
	v, err = h.Engine.Ticket(mine.ID)
	require.NoError(t, err)
	require.Equal(t, &hub.Rating{Score: 4, Reason: "cortesia", Comment: "Tutto chiaro", Channel: hub.RatedOnWeb, At: v.Ticket.Rating.At}, v.Ticket.Rating)

	// One answer per visit: after a reload the page only thanks.
	run(t, ctx, chromedp.Reload())
	waitFor(t, ctx, "the done state", `!document.querySelector('#st-done').hidden`, wait)
	require.True(t, eval[bool](t, ctx, `document.querySelector('form.survey').hidden`))
	require.Contains(t, text(t, ctx, ".survey-thanks"), "already been rated", "in the language chosen before")
}

// The counter's screen shows the faces for the visit just finished there,
// takes the answer, and goes back to rest; a call of the next citizen
// resets it too.
func TestBrowserSurveyOnCounterScreen(t *testing.T) {
	h := startHub(t, kiosk.Config{TicketTimeout: 1500 * time.Millisecond})
	bg := context.Background()
	ctx := tab(t, 800, 480)
	run(t, ctx, chromedp.Navigate(h.URL+"/feedback/9"))
	waitFor(t, ctx, "the login form for a stranger", `location.pathname === '/login' || document.title !== ''`, wait)
	run(t, ctx, chromedp.Navigate(h.URL+"/feedback/9?token=demo-display-3"))
	waitFor(t, ctx, "the resting screen", `!document.querySelector('#fb-rest').hidden && document.querySelector('#fb-visit').hidden`, wait)
	require.Contains(t, text(t, ctx, "#fb-rest"), "Al termine del servizio")

	_, err := h.Engine.OpenCounter(bg, "9", "clerk09")
	require.NoError(t, err)
	serve := func() *hub.Ticket {
		tk, _, err := h.Engine.Issue(bg, hub.IssueRequest{Service: "cie", By: "totem-1", Channel: hub.ChannelTotem})
		require.NoError(t, err)
		_, err = h.Engine.CallTicket(bg, "9", "clerk09", tk.ID)
		require.NoError(t, err)
		_, err = h.Engine.Start(bg, "9", "clerk09")
		require.NoError(t, err)
		_, err = h.Engine.Finish(bg, "9", "clerk09", hub.FinishRequest{})
		require.NoError(t, err)
		return tk
	}
	first := serve()
	waitFor(t, ctx, "the faces for "+first.Number, `!document.querySelector('#fb-visit').hidden && document.querySelector('#fb-number').textContent.indexOf(`+jsString(first.Number)+`) >= 0`, wait)
	require.Empty(t, eval[[]string](t, ctx, unnamedControls))
	require.Empty(t, eval[[]string](t, ctx, duplicateIDs))
	require.Empty(t, eval[[]string](t, ctx, smallTargets), "a counter screen is touched standing: 64 px targets")
	// Keyboard only: the first face, one step right, then Enter on send.
	run(t, ctx, chromedp.Focus(chromedp.CSS("#sv-1")), chromedp.KeyEvent(kb.ArrowRight), chromedp.Focus(chromedp.CSS(".survey-send")), chromedp.KeyEvent(kb.Enter))
	waitFor(t, ctx, "the thanks", `!document.querySelector('.survey-thanks').hidden`, wait)
	v, err := h.Engine.Ticket(first.ID)
	require.NoError(t, err)
	require.NotNil(t, v.Ticket.Rating)
	require.Equal(t, 2, v.Ticket.Rating.Score)
	require.Equal(t, hub.RatedAtCounter, v.Ticket.Rating.Channel)
	waitFor(t, ctx, "the resting screen again", `!document.querySelector('#fb-rest').hidden`, wait)

	// A visit nobody rates: the screen rests again once the next citizen
	// is called.
	second := serve()
	waitFor(t, ctx, "the faces for "+second.Number, `!document.querySelector('#fb-visit').hidden && document.querySelector('#fb-number').textContent.indexOf(`+jsString(second.Number)+`) >= 0`, wait)
	require.False(t, eval[bool](t, ctx, `document.querySelector('form.survey').hidden`), "a fresh form for the next visit")
	require.False(t, eval[bool](t, ctx, `!!document.querySelector('input[name=score]:checked')`), "no face chosen from the last answer")
	next, _, err := h.Engine.Issue(bg, hub.IssueRequest{Service: "cie", By: "totem-1", Channel: hub.ChannelTotem})
	require.NoError(t, err)
	_, err = h.Engine.CallTicket(bg, "9", "clerk09", next.ID)
	require.NoError(t, err)
	waitFor(t, ctx, "rest after the next call", `!document.querySelector('#fb-rest').hidden`, wait)
	v, err = h.Engine.Ticket(second.ID)
	require.NoError(t, err)
	require.Nil(t, v.Ticket.Rating)
}

// The totem takes the survey of a ticket scanned back at it: a finished
// visit gets the faces (the rating is the totem's), an unfinished one a
// message.
func TestBrowserSurveyAtTotem(t *testing.T) {
	h := startHub(t, kiosk.Config{})
	bg := context.Background()
	done, _, err := h.Engine.Issue(bg, hub.IssueRequest{Service: "cie", By: "totem-2", Channel: hub.ChannelTotem})
	require.NoError(t, err)
	waiting, _, err := h.Engine.Issue(bg, hub.IssueRequest{Service: "cie", By: "totem-2", Channel: hub.ChannelTotem})
	require.NoError(t, err)
	_, err = h.Engine.OpenCounter(bg, "6", "clerk06")
	require.NoError(t, err)
	_, err = h.Engine.CallTicket(bg, "6", "clerk06", done.ID)
	require.NoError(t, err)
	_, err = h.Engine.Finish(bg, "6", "clerk06", hub.FinishRequest{})
	require.NoError(t, err)

	ctx := openKiosk(t, h, "totem-1", "demo-totem-1", portraitW, portraitH)
	scan := func(tk *hub.Ticket) {
		click(t, ctx, "#go-checkin")
		onScreen(t, ctx, "s-checkin")
		waitFor(t, ctx, "the focused code field", `document.activeElement === document.querySelector('#code')`, wait)
		run(t, ctx, chromedp.KeyEvent(h.URL+"/t/"+tk.TrackToken), chromedp.KeyEvent(kb.Enter))
		onScreen(t, ctx, "s-survey")
	}
	scan(waiting)
	require.Contains(t, text(t, ctx, "#sv-state"), "non è ancora concluso")
	require.True(t, eval[bool](t, ctx, `document.querySelector('#s-survey form.survey').hidden`))
	click(t, ctx, "#s-survey [data-home]")
	onScreen(t, ctx, "s-start")

	scan(done)
	require.Equal(t, done.Number, text(t, ctx, "#sv-number"))
	checkTargets(t, ctx, "the totem's survey")
	click(t, ctx, `label[for="sv-5"]`)
	click(t, ctx, "#s-survey .survey-send")
	waitFor(t, ctx, "the thanks", `!document.querySelector('#s-survey .survey-thanks').hidden`, wait)
	v, err := h.Engine.Ticket(done.ID)
	require.NoError(t, err)
	require.Equal(t, 5, v.Ticket.Rating.Score)
	require.Equal(t, hub.RatedAtTotem, v.Ticket.Rating.Channel)
	click(t, ctx, "#s-survey [data-home]")
	onScreen(t, ctx, "s-start")
	// Scanned again: one answer per visit.
	scan(done)
	require.Contains(t, text(t, ctx, "#sv-state"), "già stata valutata")
}
