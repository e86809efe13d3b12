package peer_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/comune-rc/sportello/browsertest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chromium is the headless Chromium of the package's browser test;
// TestMain stops it.
var chromium = browsertest.New(browsertest.Options{Name: "czrm"})

func TestMain(m *testing.M) {
	code := m.Run()
	chromium.Close()
	os.Exit(code)
}

// TestBrowserAgentFindsTimeline drives the views in headless Chromium: an
// agent logs in, finds a citizen by codice fiscale, sees the visit, logs a
// phone call and sees it in the timeline.
func TestBrowserAgentFindsTimeline(t *testing.T) {
	ctx := chromium.Tab(t, 45*time.Second)
	e := start(t)
	tok := e.token(t)
	cf := validCF(t, "BNCLRA90E55H224")
	require.Equal(t, 201, e.upsert(t, tok, "Sportello_Visit__c", "Visit_Ext_Id__c", "cedir-20260302-A023",
		`{"Codice_Fiscale__c":"`+cf+`","Number__c":"A023","Service__c":"anagrafe","Status__c":"done","Channel__c":"desk","Outcome__c":"certificato rilasciato"}`).Status)

	do := func(actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		require.NoError(t, chromedp.Do(ctx, actions...))
	}
	eval := func(expr string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		require.NoError(t, err, expr)
		return v
	}
	textOf := func(css string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
		require.NoError(t, err, css)
		return v
	}

	do(chromedp.Navigate(e.URL+"/czrm/"), chromedp.WaitVisible(chromedp.CSS("#username")))
	assert.Equal(t, "it", eval(`document.documentElement.lang`))
	assert.Equal(t, "username", eval(`document.activeElement ? document.activeElement.id : ''`), "the login form takes the focus")
	assert.Equal(t, "", eval(`Array.from(document.querySelectorAll('input:not([type=hidden]), textarea, button')).filter(e => !(e.labels && e.labels.length) && !e.innerText.trim()).map(e => e.name).join(',')`), "every control has a name")
	do(chromedp.SendKeys(chromedp.CSS("#username"), "agent"),
		chromedp.SendKeys(chromedp.CSS("#password"), "demo\n"),
		chromedp.WaitVisible(chromedp.CSS("#q")),
		chromedp.SendKeys(chromedp.CSS("#q"), strings.ToLower(cf)+"\n"),
		chromedp.WaitVisible(chromedp.CSS("#cf")))
	timeline := textOf(".timeline")
	assert.Contains(t, timeline, "Visita allo sportello")
	assert.Contains(t, timeline, "A023")
	assert.Contains(t, timeline, "certificato rilasciato")

	do(chromedp.SendKeys(chromedp.CSS("#topic"), "anagrafe"),
		chromedp.Click(chromedp.CSS("input[name=outcome][value=risolto]")),
		chromedp.SendKeys(chromedp.CSS("#notes"), "Chiede il certificato di residenza"),
		chromedp.Submit(chromedp.CSS("#notes")),
		chromedp.WaitVisible(chromedp.CSS("[role=status]")))
	assert.Contains(t, textOf("[role=status]"), "Contatto telefonico registrato")
	timeline = textOf(".timeline")
	assert.Contains(t, timeline, "Contatto telefonico")
	assert.Contains(t, timeline, "Telefono")
	assert.Contains(t, timeline, "Chiede il certificato di residenza")
}
