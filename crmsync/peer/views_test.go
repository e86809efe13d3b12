package peer_test

import (
	"encoding/json"
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/comune-rc/sportello/crmsync"
	"github.com/comune-rc/sportello/crmsync/peer"
	"github.com/comune-rc/sportello/hub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so the tests see each 303.
type browser struct {
	t    *testing.T
	c    *http.Client
	base string
}

func newBrowser(t *testing.T, base string) *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) get(path string) reply {
	b.t.Helper()
	r, err := send(b.c, "GET", b.base+path, "", nil)
	require.NoError(b.t, err)
	return r
}

func (b *browser) post(path string, v url.Values, hdr ...string) reply {
	b.t.Helper()
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	for i := 0; i+1 < len(hdr); i += 2 {
		h[hdr[i]] = hdr[i+1]
	}
	r, err := send(b.c, "POST", b.base+path, v.Encode(), h)
	require.NoError(b.t, err)
	return r
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, body string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(body)
	require.NotNil(t, m, "no CSRF token in the page")
	return html.UnescapeString(m[1])
}

func (b *browser) login(user, pw string) reply {
	b.t.Helper()
	page := b.get("/czrm/login")
	require.Equal(b.t, 200, page.Status)
	return b.post("/czrm/login", url.Values{"csrf": {csrfOf(b.t, page.Body)}, "username": {user}, "password": {pw}})
}

// text reduces a page to its visible text, spaces collapsed.
func text(body string) string {
	body = regexp.MustCompile(`(?s)<[^>]*>`).ReplaceAllString(body, " ")
	return strings.Join(strings.Fields(html.UnescapeString(body)), " ")
}

func TestViewsLogin(t *testing.T) {
	e := start(t)
	b := newBrowser(t, e.URL)

	r := b.get("/czrm/")
	assert.Equal(t, http.StatusSeeOther, r.Status)
	assert.Equal(t, "/czrm/login", r.Header.Get("Location"))
	assert.Equal(t, http.StatusSeeOther, b.get("/czrm/casi/RC-2026-000001").Status)
	assert.Equal(t, http.StatusSeeOther, b.get("/czrm").Status)
	idx := b.get("/")
	assert.Equal(t, 200, idx.Status)
	assert.Contains(t, text(idx.Body), "Area operatori")
	css := b.get("/czrm/static/czrm.css")
	assert.Equal(t, 200, css.Status)
	assert.Equal(t, "text/css; charset=utf-8", css.Header.Get("Content-Type"))
	assert.Equal(t, 404, b.get("/nowhere").Status)

	page := b.get("/czrm/login")
	assert.Contains(t, page.Body, `<html lang="it">`)
	assert.Contains(t, page.Body, `<label for="username">`)
	assert.Contains(t, page.Header.Get("Content-Security-Policy"), "default-src 'none'")

	// Without the login CSRF token (another site's form): refused.
	r = b.post("/czrm/login", url.Values{"username": {"agent"}, "password": {"demo"}})
	assert.Equal(t, http.StatusForbidden, r.Status)
	other := newBrowser(t, e.URL)
	r = other.post("/czrm/login", url.Values{"csrf": {csrfOf(t, page.Body)}, "username": {"agent"}, "password": {"demo"}})
	assert.Equal(t, http.StatusForbidden, r.Status, "the token is bound to the browser's cookie")

	r = b.login("agent", "wrong")
	assert.Equal(t, http.StatusUnauthorized, r.Status)
	assert.Contains(t, text(r.Body), "Nome utente o password non validi")
	r = b.login("nobody", "demo")
	assert.Equal(t, http.StatusUnauthorized, r.Status)

	r = b.login("svu", "demo")
	require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
	assert.Equal(t, "/czrm/", r.Header.Get("Location"))
	home := b.get("/czrm/")
	require.Equal(t, 200, home.Status)
	assert.Contains(t, text(home.Body), "Operatore: svu")
	assert.Equal(t, 404, b.get("/czrm/casi/RC-2026-000001").Status)
	assert.Contains(t, text(b.get("/czrm/casi").Body), "Nessun caso aperto")
	assert.Equal(t, "no-store", home.Header.Get("Cache-Control"))

	// Logout needs the CSRF token too.
	r = b.post("/czrm/logout", url.Values{"csrf": {"forged"}})
	assert.Equal(t, http.StatusForbidden, r.Status)
	assert.Equal(t, 200, b.get("/czrm/").Status)
	r = b.post("/czrm/logout", url.Values{"csrf": {csrfOf(t, home.Body)}})
	assert.Equal(t, http.StatusSeeOther, r.Status)
	assert.Equal(t, http.StatusSeeOther, b.get("/czrm/").Status, "logged out")

	// Sessions expire.
	r = b.login("agent", "demo")
	require.Equal(t, http.StatusSeeOther, r.Status)
	e.clock.Advance(9 * time.Hour)
	assert.Equal(t, http.StatusSeeOther, b.get("/czrm/").Status)
}

func TestViewsCitizenTimeline(t *testing.T) {
	e := start(t)
	tok := e.token(t)
	cf := validCF(t, "BNCLRA90E55H224")

	// A visit as Sportello sends it: the ticket, with the citizen's code.
	visit := `{"Codice_Fiscale__c":"` + cf + `","Number__c":"A023","Service__c":"anagrafe","Status__c":"done","Channel__c":"desk",
	  "Issued_At__c":"2026-03-02T09:02:00+01:00","Requested__c":["tributi"],"Outcome__c":"certificato rilasciato",
	  "Steps__c":[{"service":"anagrafe","counter":"3","called_at":"2026-03-02T09:10:00+01:00","outcome":"certificato rilasciato","ended_by":"transferred"},
	              {"service":"tributi","counter":"7","called_at":"2026-03-02T09:25:00+01:00","outcome":"pratica TARI avviata","ended_by":"finished"}]}`
	require.Equal(t, 201, e.upsert(t, tok, "Sportello_Visit__c", "Visit_Ext_Id__c", "cedir-20260302-A023", visit).Status)
	// A visit still waiting (an open case), with the snake_case names of
	// the hub's JSON.
	require.Equal(t, 201, e.upsert(t, tok, "Sportello_Visit__c", "Visit_Ext_Id__c", "cedir-20260302-C004",
		`{"fiscal_code":"`+strings.ToLower(cf)+`","number":"C004","service":"servizi_sociali","status":"waiting","channel":"web","issued_at":"2026-03-02T10:00:00+01:00"}`).Status)
	// Somebody else's visit.
	other := validCF(t, "RSSMRA80A01H224")
	require.Equal(t, 201, e.upsert(t, tok, "Sportello_Visit__c", "Visit_Ext_Id__c", "cedir-20260302-A024",
		`{"Codice_Fiscale__c":"`+other+`","Number__c":"A024","Service__c":"edilizia","Status__c":"done","Channel__c":"totem"}`).Status)
	// A segnalazione linked to the citizen.
	r := e.open311(t, url.Values{"api_key": {"demo"}, "service_code": {"illuminazione"}, "address_string": {"Via Marina"},
		"description": {"Lampione spento"}, "attribute[codice_fiscale]": {cf}, "attribute[channel]": {"totem"}})
	require.Equal(t, 200, r.Status)
	srid := r.List(t)[0]["service_request_id"].(string)

	b := newBrowser(t, e.URL)
	require.Equal(t, http.StatusSeeOther, b.login("agent", "demo").Status)
	home := b.get("/czrm/")
	csrf := csrfOf(t, home.Body)

	// Find by fiscal code (typed in lower case with spaces).
	spaced := strings.ToLower(cf[:6] + " " + cf[6:11] + " " + cf[11:])
	r = b.post("/czrm/cerca", url.Values{"csrf": {csrf}, "q": {spaced}})
	require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
	loc := r.Header.Get("Location")
	assert.True(t, strings.HasPrefix(loc, "/czrm/cittadini/"), loc)
	assert.NotContains(t, strings.ToUpper(loc), cf, "the code never travels in a URL")

	page := b.get(loc)
	require.Equal(t, 200, page.Status)
	txt := text(page.Body)
	assert.Contains(t, txt, cf)
	assert.Contains(t, txt, "Visita allo sportello")
	assert.Contains(t, txt, "A023")
	assert.Contains(t, txt, "anagrafe, tributi")
	assert.Contains(t, txt, "certificato rilasciato; pratica TARI avviata")
	assert.Contains(t, txt, "Sportello")
	assert.Contains(t, txt, "Richiesta web")
	assert.Contains(t, txt, "Segnalazione")
	assert.Contains(t, txt, "Casi aperti (2)", "the waiting visit and the open segnalazione")
	assert.NotContains(t, txt, "A024", "only this citizen's records")
	assert.NotContains(t, txt, "edilizia")

	// Log a phone contact.
	csrf = csrfOf(t, page.Body)
	r = b.post("/czrm/contatti", url.Values{"csrf": {csrf}, "cf": {cf}, "topic": {"tributi"}, "outcome": {"richiamare"},
		"notes": {"Chiede lo stato della pratica TARI"}})
	require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
	page = b.get(r.Header.Get("Location"))
	txt = text(page.Body)
	assert.Contains(t, txt, "Contatto telefonico registrato")
	assert.Contains(t, txt, "Contatto telefonico")
	assert.Contains(t, txt, "Telefono")
	assert.Contains(t, txt, "Chiede lo stato della pratica TARI")
	assert.Contains(t, txt, "Da richiamare")
	assert.Contains(t, txt, "Operatore agent")
	assert.Contains(t, txt, "Casi aperti (3)")
	// Newest first: the phone call (now) before the visit (09:02).
	assert.Less(t, strings.Index(txt, "· Contatto telefonico"), strings.Index(txt, "· Visita allo sportello"))

	// The phone contact is a record like any other, channel phone.
	m := regexp.MustCompile(`/czrm/casi/(TEL-[A-Za-z0-9_-]+)`).FindStringSubmatch(page.Body)
	require.NotNil(t, m)
	g := do(t, "GET", e.URL+"/api/v1/records?external_id="+m[1], "", bearer(tok))
	list := g.List(t)
	require.Len(t, list, 1)
	assert.Equal(t, peer.PhoneObject, list[0]["object"])
	assert.Equal(t, "phone", list[0]["fields"].(map[string]any)["Channel__c"])

	// Invalid contact: refused with the form kept.
	r = b.post("/czrm/contatti", url.Values{"csrf": {csrf}, "cf": {cf}, "topic": {""}, "outcome": {"boh"}, "notes": {"x"}})
	assert.Equal(t, http.StatusUnprocessableEntity, r.Status)
	assert.Contains(t, text(r.Body), "Contatto non registrato")

	// CSRF refusal: nothing stored.
	countTEL := func() int { return strings.Count(b.get(loc).Body, "Dettaglio del caso TEL-") }
	n := countTEL()
	assert.Equal(t, 1, n)
	r = b.post("/czrm/contatti", url.Values{"csrf": {"forged"}, "cf": {cf}, "topic": {"x"}, "outcome": {"risolto"}})
	assert.Equal(t, http.StatusForbidden, r.Status)
	assert.Contains(t, text(r.Body), "CSRF")
	r = b.post("/czrm/contatti", url.Values{"csrf": {csrf}, "cf": {cf}, "topic": {"x"}, "outcome": {"risolto"}}, "Origin", "https://evil.example")
	assert.Equal(t, http.StatusForbidden, r.Status)
	r = b.post("/czrm/contatti", url.Values{"csrf": {csrf}, "cf": {cf}, "topic": {"x"}, "outcome": {"risolto"}}, "Sec-Fetch-Site", "cross-site")
	assert.Equal(t, http.StatusForbidden, r.Status)
	assert.Equal(t, n, countTEL(), "no refused post stored a contact")

	// Find a case by id: service_request_id or external id.
	r = b.post("/czrm/cerca", url.Values{"csrf": {csrf}, "q": {srid}})
	require.Equal(t, http.StatusSeeOther, r.Status)
	assert.Equal(t, "/czrm/casi/"+srid, r.Header.Get("Location"))
	r = b.post("/czrm/cerca", url.Values{"csrf": {csrf}, "q": {"cedir-20260302-A023"}})
	require.Equal(t, http.StatusSeeOther, r.Status)
	vc := b.get(r.Header.Get("Location"))
	require.Equal(t, 200, vc.Status)
	assert.Contains(t, text(vc.Body), "Visit_Ext_Id__c = cedir-20260302-A023")
	assert.Contains(t, text(vc.Body), "Scheda del cittadino")

	// Bad searches.
	r = b.post("/czrm/cerca", url.Values{"csrf": {csrf}, "q": {cf[:15] + "A"}})
	if cf[15] == 'A' {
		r = b.post("/czrm/cerca", url.Values{"csrf": {csrf}, "q": {cf[:15] + "B"}})
	}
	assert.Equal(t, http.StatusUnprocessableEntity, r.Status)
	assert.Contains(t, text(r.Body), "Codice fiscale non valido")
	r = b.post("/czrm/cerca", url.Values{"csrf": {csrf}, "q": {"RC-2026-424242"}})
	assert.Equal(t, http.StatusNotFound, r.Status)
	// A valid code nobody has contacted: an empty page, still able to log.
	fresh := validCF(t, "GLLNNA75C45H224")
	r = b.post("/czrm/cerca", url.Values{"csrf": {csrf}, "q": {fresh}})
	assert.Equal(t, 200, r.Status)
	assert.Contains(t, text(r.Body), "Nessun contatto registrato")
	assert.Contains(t, r.Body, `action="/czrm/contatti"`)
	assert.Equal(t, 404, b.get("/czrm/cittadini/0123456789abcdef0123456789abcdef").Status)

	// Close the segnalazione.
	cases := b.get("/czrm/casi")
	assert.Contains(t, text(cases.Body), srid)
	assert.Contains(t, text(cases.Body), "cedir-20260302-C004")
	assert.NotContains(t, text(cases.Body), "cedir-20260302-A023", "a done visit is not open")
	r = b.post("/czrm/casi/"+srid+"/chiudi", url.Values{"csrf": {csrf}, "status_notes": {""}})
	assert.Equal(t, http.StatusUnprocessableEntity, r.Status)
	r = b.post("/czrm/casi/"+srid+"/chiudi", url.Values{"csrf": {"forged"}, "status_notes": {"Riparato"}})
	assert.Equal(t, http.StatusForbidden, r.Status)
	r = b.post("/czrm/casi/"+srid+"/chiudi", url.Values{"csrf": {csrf}, "status_notes": {"Lampione riparato il 3 marzo"}})
	require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
	assert.Contains(t, text(b.get(r.Header.Get("Location")).Body), "Richiesta chiusa")
	og := do(t, "GET", e.URL+"/open311/v2/requests/"+srid+".json", "", nil).List(t)[0]
	assert.Equal(t, "closed", og["status"])
	assert.Equal(t, "Lampione riparato il 3 marzo", og["status_notes"])
	r = b.post("/czrm/casi/"+srid+"/chiudi", url.Values{"csrf": {csrf}, "status_notes": {"ancora"}})
	assert.Equal(t, http.StatusConflict, r.Status)
	sr, err := e.p.ServiceRequest(srid)
	require.NoError(t, err)
	assert.Equal(t, "agent", sr.ClosedBy)
	assert.EqualValues(t, 2, sr.Version)

	// Personal data stays off the logs.
	logs := e.logs.String()
	assert.NotEmpty(t, logs)
	for _, secret := range []string{cf, strings.ToLower(cf), other, fresh, "Lampione spento", "TARI", srid, "cedir-20260302-A023", tok} {
		assert.NotContains(t, logs, secret)
	}
}

// TestViewsShowWhatCrmsyncSends upserts a visit exactly as crmsync maps it
// (its default mapping, plus a codice fiscale field as a "ticket.NAME"
// mapping adds it) and checks the agent's timeline shows it.
func TestViewsShowWhatCrmsyncSends(t *testing.T) {
	e := start(t)
	tok := e.token(t)
	cf := validCF(t, "GLLNNA75C45H224")
	at := func(hm string) *time.Time {
		x, err := time.Parse(time.RFC3339, "2026-03-02T"+hm+":00+01:00")
		require.NoError(t, err)
		return &x
	}
	tk := &hub.Ticket{ID: "cedir-20260302-T011", Day: "2026-03-02", Number: "T011", Service: "tributi", Status: hub.StatusDone,
		Channel: hub.ChannelTotem, IssuedAt: *at("08:55"), CalledAt: at("09:05"), ClosedAt: at("09:20"), Counter: "7",
		Delivered: []string{"tributi", "anagrafe"}, Outcome: "rateizzazione concessa",
		Steps: []hub.Step{{Service: "tributi", Counter: "7", CalledAt: *at("09:05"), EndedAt: at("09:20"), EndedBy: "finished", Outcome: "rateizzazione concessa"}}}
	m := crmsync.DefaultMapping()
	fields := m.VisitFields(tk)
	fields["Codice_Fiscale__c"] = cf
	body, err := json.Marshal(fields)
	require.NoError(t, err)
	r := do(t, "PATCH", e.URL+"/services/data/"+m.APIVersion+"/sobjects/"+m.Object+"/"+m.ExtIDField+"/"+tk.ID, string(body), bearer(tok))
	require.Equal(t, 201, r.Status, r.Body)

	b := newBrowser(t, e.URL)
	require.Equal(t, http.StatusSeeOther, b.login("agent", "demo").Status)
	r = b.post("/czrm/cerca", url.Values{"csrf": {csrfOf(t, b.get("/czrm/").Body)}, "q": {cf}})
	require.Equal(t, http.StatusSeeOther, r.Status)
	txt := text(b.get(r.Header.Get("Location")).Body)
	for _, want := range []string{"Visita allo sportello", "Sportello (totem)", "T011", "tributi, anagrafe", "Concluso",
		"rateizzazione concessa", "Sportello 7", "08:55", "Casi aperti (0)"} {
		assert.Contains(t, txt, want)
	}
}
