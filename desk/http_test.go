package desk_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/comune-rc/sportello/desk"
	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/httpapi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sessionCookie(t *testing.T, r reply) *http.Cookie {
	t.Helper()
	for _, ck := range (&http.Response{Header: r.Header}).Cookies() {
		if ck.Name == httpapi.SessionCookie {
			return ck
		}
	}
	t.Fatalf("no session cookie in %v", r.Header["Set-Cookie"])
	return nil
}

// Login: the cookie, the landing page by role, next kept to local paths.
func TestLoginRedirectsAndCookie(t *testing.T) {
	h := startHub(t, nil, desk.Config{})
	cases := []struct {
		user, next, want string
	}{
		{"clerk01", "", "/desk"},
		{"supervisor", "", "/supervisor"},
		{"admin", "", "/admin"},
		{"supervisor", "/desk", "/desk"},
		{"clerk02", "/desk?x=1", "/desk?x=1"},
		{"clerk03", "//evil.example/desk", "/desk"},
		{"clerk04", "https://evil.example/desk", "/desk"},
		{"clerk05", "/\\evil.example", "/desk"},
		{"admin", "javascript:alert(1)", "/admin"},
		{"clerk06", "/login", "/desk"},
	}
	for _, tc := range cases {
		c := client(t)
		tok := loginForm(t, h, c)
		start := time.Now()
		r := postForm(t, c, h.URL+"/login", url.Values{"login_csrf": {tok}, "username": {tc.user}, "password": {"demo"}, "next": {tc.next}})
		require.Equal(t, http.StatusSeeOther, r.Status, "%s next=%q: %s", tc.user, tc.next, r.Body)
		assert.Equal(t, tc.want, r.Header.Get("Location"), "%s next=%q", tc.user, tc.next)
		ck := sessionCookie(t, r)
		assert.True(t, strings.HasPrefix(ck.Value, "ses-"))
		assert.True(t, ck.HttpOnly)
		assert.Equal(t, http.SameSiteStrictMode, ck.SameSite)
		assert.Equal(t, "/", ck.Path)
		assert.False(t, ck.Secure)
		// Expires is the session's expiry (12 h by default).
		assert.WithinDuration(t, start.Add(12*time.Hour), ck.Expires, time.Minute)
		p, err := h.Accounts.Authenticate(ck.Value)
		require.NoError(t, err)
		assert.Equal(t, tc.user, p.ID)
	}

	// Secure deployments get Secure cookies.
	hs := startHub(t, nil, desk.Config{Secure: true})
	c := client(t)
	r := do(t, c, http.MethodGet, hs.URL+"/login", "", nil)
	assert.Contains(t, strings.Join(r.Header["Set-Cookie"], "\n"), "Secure")
	tok := match(t, loginCSRFRE, r.Body)
	// The jar does not send Secure cookies over http: send it by hand.
	var login *http.Cookie
	for _, ck := range (&http.Response{Header: r.Header}).Cookies() {
		if ck.Name == "sportello_login" {
			login = ck
		}
	}
	require.NotNil(t, login)
	r = do(t, client(t), http.MethodPost, hs.URL+"/login", url.Values{"login_csrf": {tok}, "username": {"clerk01"}, "password": {"demo"}}.Encode(),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Cookie": login.Name + "=" + login.Value})
	require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
	assert.True(t, sessionCookie(t, r).Secure)
}

// Wrong passwords get a clear message; the sixth attempt after five
// wrong ones hits the lockout, with its own message.
func TestLoginFailuresAndLockout(t *testing.T) {
	h := startHub(t, nil, desk.Config{})
	c := client(t)
	try := func(user, password string) reply {
		tok := loginForm(t, h, c)
		return postForm(t, c, h.URL+"/login", url.Values{"login_csrf": {tok}, "username": {user}, "password": {password}, "next": {"/desk"}})
	}
	r := try("clerk07", "wrong")
	assert.Equal(t, http.StatusUnauthorized, r.Status)
	assert.Contains(t, r.Body, "Nome utente o password errati.")
	assert.Contains(t, r.Body, "Wrong username or password.")
	assert.Contains(t, r.Body, `value="clerk07"`, "the username is kept")
	assert.Contains(t, r.Body, `name="next" value="/desk"`, "next is kept")

	r = try("nobody", "x")
	assert.Equal(t, http.StatusUnauthorized, r.Status)
	assert.Contains(t, r.Body, "Nome utente o password errati.")

	r = try("", "")
	assert.Equal(t, http.StatusBadRequest, r.Status)
	assert.Contains(t, r.Body, "Inserisci nome utente e password.")

	for i := 0; i < 4; i++ {
		r = try("clerk07", "wrong")
		assert.Equal(t, http.StatusUnauthorized, r.Status)
	}
	r = try("clerk07", "demo")
	assert.Equal(t, http.StatusUnauthorized, r.Status)
	assert.Contains(t, r.Body, "Account bloccato dopo troppi tentativi falliti")
	assert.Contains(t, r.Body, "Account locked after too many failed attempts")
	assert.Regexp(t, `riprova dopo le \d{1,2}:\d{2}`, r.Body)
	for _, ck := range (&http.Response{Header: r.Header}).Cookies() {
		assert.NotEqual(t, httpapi.SessionCookie, ck.Name, "no session for a locked account")
	}
}

// The login form and the logout form are refused without their CSRF
// tokens.
func TestFormsWithoutCSRFAreRefused(t *testing.T) {
	h := startHub(t, nil, desk.Config{})
	creds := url.Values{"username": {"clerk01"}, "password": {"demo"}}

	// No token, no cookie.
	r := postForm(t, client(t), h.URL+"/login", creds)
	assert.Equal(t, http.StatusForbidden, r.Status)
	assert.Contains(t, r.Body, "Modulo non valido")
	assert.NotContains(t, strings.Join(r.Header["Set-Cookie"], ";"), httpapi.SessionCookie+"=ses-")

	// The cookie of the form, but not the field.
	c := client(t)
	tok := loginForm(t, h, c)
	r = postForm(t, c, h.URL+"/login", creds)
	assert.Equal(t, http.StatusForbidden, r.Status)

	// A wrong field.
	bad := url.Values{"login_csrf": {strings.Repeat("0", len(tok))}, "username": {"clerk01"}, "password": {"demo"}}
	r = postForm(t, c, h.URL+"/login", bad)
	assert.Equal(t, http.StatusForbidden, r.Status)

	// The field of another browser's form: its cookie is not here.
	other := url.Values{"login_csrf": {tok}, "username": {"clerk01"}, "password": {"demo"}}
	r = postForm(t, client(t), h.URL+"/login", other)
	assert.Equal(t, http.StatusForbidden, r.Status)

	// With both, it works.
	r = postForm(t, c, h.URL+"/login", other)
	require.Equal(t, http.StatusSeeOther, r.Status, r.Body)

	// Logout without the session's token: refused, the session lives on.
	r = postForm(t, c, h.URL+"/logout", url.Values{})
	assert.Equal(t, http.StatusForbidden, r.Status)
	r = postForm(t, c, h.URL+"/logout", url.Values{"csrf": {"deadbeef"}})
	assert.Equal(t, http.StatusForbidden, r.Status)
	r = do(t, c, http.MethodGet, h.URL+"/desk", "", nil)
	require.Equal(t, http.StatusOK, r.Status)
	csrf := match(t, formCSRFRE, r.Body)
	assert.Equal(t, match(t, metaCSRFRE, r.Body), csrf)

	// With it, the session ends and the pages go back to login.
	r = postForm(t, c, h.URL+"/logout", url.Values{"csrf": {csrf}})
	require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
	assert.Equal(t, "/login?reason=logout", r.Header.Get("Location"))
	r = do(t, c, http.MethodGet, h.URL+"/desk", "", nil)
	assert.Equal(t, http.StatusSeeOther, r.Status)
	assert.True(t, strings.HasPrefix(r.Header.Get("Location"), "/login?"))
	r = do(t, c, http.MethodGet, h.URL+"/login?reason=logout", "", nil)
	assert.Contains(t, r.Body, "Sei uscito da Sportello.")
}

// Pages need a session, and the right role.
func TestPageAccess(t *testing.T) {
	h := startHub(t, nil, desk.Config{})
	anon := client(t)
	for _, p := range []string{"/desk", "/supervisor", "/admin"} {
		r := do(t, anon, http.MethodGet, h.URL+p, "", nil)
		assert.Equal(t, http.StatusSeeOther, r.Status, p)
		assert.Equal(t, "/login?next="+url.QueryEscape(p), r.Header.Get("Location"), p)
	}
	// A device's token is no staff session.
	r := do(t, anon, http.MethodGet, h.URL+"/desk", "", map[string]string{"Authorization": "Bearer demo-totem-1"})
	assert.Equal(t, http.StatusSeeOther, r.Status)

	want := map[string]map[string]int{
		"clerk01":    {"/desk": 200, "/supervisor": 403, "/admin": 403},
		"supervisor": {"/desk": 200, "/supervisor": 200, "/admin": 403},
		"admin":      {"/desk": 200, "/supervisor": 200, "/admin": 200},
	}
	for user, pages := range want {
		c := client(t)
		pageLogin(t, h, c, user)
		for p, status := range pages {
			r := do(t, c, http.MethodGet, h.URL+p, "", nil)
			assert.Equal(t, status, r.Status, "%s %s", user, p)
			if status == http.StatusForbidden {
				assert.Contains(t, r.Body, "Accesso non consentito")
				assert.Contains(t, r.Body, "Access denied")
			}
			if status == http.StatusOK {
				assert.Equal(t, "no-store", r.Header.Get("Cache-Control"))
				assert.Contains(t, r.Header.Get("Content-Security-Policy"), "script-src 'self'")
			}
		}
	}

	// What the desk page promises.
	c := client(t)
	pageLogin(t, h, c, "clerk01")
	r = do(t, c, http.MethodGet, h.URL+"/desk", "", nil)
	for _, s := range []string{
		"Storico del cittadino", "Citizen history", "Il CzRM mostra qui i contatti precedenti del cittadino", `id="czrm-history"`,
		"Scorciatoie da tastiera", `aria-keyshortcuts="N"`, `aria-live="polite"`, `id="page-data"`,
		"Rilasciato", "Informazioni date", "Pratica avviata", "Da completare", "Non di competenza",
	} {
		assert.Contains(t, r.Body, s)
	}
	r = do(t, c, http.MethodGet, h.URL+"/desk/clock", "", nil)
	assert.Equal(t, http.StatusOK, r.Status)
	r = do(t, anon, http.MethodGet, h.URL+"/desk/clock", "", nil)
	assert.Equal(t, http.StatusUnauthorized, r.Status)
}

// An expired session goes back to the login form, with a message; so
// does one ended by Accounts.Logout.
func TestExpiredSessionGoesToLogin(t *testing.T) {
	clk := newClock()
	h := startHub(t, clk.Now, desk.Config{})
	c := client(t)
	csrf := pageLogin(t, h, c, "clerk01")
	r := api(t, c, csrf, http.MethodPost, h.URL+"/api/v1/counters/1/open", "")
	require.Equal(t, http.StatusOK, r.Status, r.Body)

	clk.Advance(12*time.Hour + time.Minute)
	r = do(t, c, http.MethodGet, h.URL+"/desk", "", nil)
	require.Equal(t, http.StatusSeeOther, r.Status)
	loc, err := url.Parse(r.Header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, "/login", loc.Path)
	assert.Equal(t, "/desk", loc.Query().Get("next"))
	assert.Equal(t, "expired", loc.Query().Get("reason"))
	r = do(t, c, http.MethodGet, h.URL+loc.String(), "", nil)
	assert.Equal(t, http.StatusOK, r.Status)
	assert.Contains(t, r.Body, "La sessione è scaduta")
	assert.NotContains(t, r.Body, `name="csrf"`, "the dead session's cookie is dropped")
	// The scripts' calls answer 401, on which they go to the login form.
	r = api(t, c, csrf, http.MethodGet, h.URL+"/api/v1/tickets?counter=1", "")
	assert.Equal(t, http.StatusUnauthorized, r.Status)

	// A session ended by Logout.
	c2 := client(t)
	pageLogin(t, h, c2, "clerk02")
	u, _ := url.Parse(h.URL)
	var tok string
	for _, ck := range c2.Jar.Cookies(u) {
		if ck.Name == httpapi.SessionCookie {
			tok = ck.Value
		}
	}
	require.NotEmpty(t, tok)
	require.NoError(t, h.Accounts.Logout(tok))
	r = do(t, c2, http.MethodGet, h.URL+"/supervisor", "", nil)
	assert.Equal(t, http.StatusSeeOther, r.Status)
	assert.Equal(t, "/login?next=%2Fsupervisor&reason=expired", r.Header.Get("Location"))
}

// A clerk cannot act on another clerk's counter, through the calls the
// page makes; and the desk page does not offer it.
func TestOtherClerksCounterIsForbidden(t *testing.T) {
	h := startHub(t, nil, desk.Config{})
	issue(t, h, "certificati", hub.PriorityNone)
	a, b := client(t), client(t)
	csrfA := pageLogin(t, h, a, "clerk01")
	csrfB := pageLogin(t, h, b, "clerk02")
	r := api(t, a, csrfA, http.MethodPost, h.URL+"/api/v1/counters/5/open", "")
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	r = api(t, a, csrfA, http.MethodPost, h.URL+"/api/v1/counters/5/call-next", "")
	require.Equal(t, http.StatusOK, r.Status, r.Body)

	for _, tc := range []struct{ action, body string }{
		{"open", ""}, {"call-next", ""}, {"recall", ""}, {"start", ""}, {"finish", `{"outcome":"rilasciato"}`},
		{"no-show", ""}, {"transfer", `{"service":"cie"}`}, {"park", ""}, {"add-service", `{"service":"cie"}`},
		{"pause", `{"reason":"pausa"}`}, {"close", ""}, {"call", `{"ticket":"x"}`},
	} {
		r := api(t, b, csrfB, http.MethodPost, h.URL+"/api/v1/counters/5/"+tc.action, tc.body)
		assert.Equal(t, http.StatusForbidden, r.Status, "%s: %s", tc.action, r.Body)
		assert.Equal(t, "not_at_counter", problemCode(t, r), tc.action)
	}
	// Nothing changed at counter 5.
	v, err := h.Engine.Counter("5")
	require.NoError(t, err)
	assert.Equal(t, "clerk01", v.Counter.Clerk)
	assert.Equal(t, hub.CounterOpen, v.Counter.State)
	require.NotNil(t, v.Ticket)
	assert.Equal(t, hub.StatusCalled, v.Ticket.Ticket.Status)

	// Without the CSRF header the page's calls are refused too.
	r = api(t, a, "", http.MethodPost, h.URL+"/api/v1/counters/5/start", "")
	assert.Equal(t, http.StatusForbidden, r.Status)
	assert.Equal(t, "csrf_failed", problemCode(t, r))

	// clerk02's desk page does not offer counter 5; clerk01's has it held.
	r = do(t, b, http.MethodGet, h.URL+"/desk", "", nil)
	assert.NotContains(t, r.Body, `<option value="5"`)
	assert.Contains(t, r.Body, `<option value="4"`)
	r = do(t, a, http.MethodGet, h.URL+"/desk", "", nil)
	assert.Contains(t, r.Body, `<option value="5" selected>`)
	assert.Contains(t, r.Body, `"held":"5"`)
}

// Two clerks pressing "call next" at the same instant never get the same
// ticket; nor do six clerks racing through a queue.
func TestConcurrentCallNextNeverSharesATicket(t *testing.T) {
	h := startHub(t, nil, desk.Config{})
	const n = 40
	for i := 0; i < n; i++ {
		issue(t, h, "certificati", hub.PriorityNone)
	}
	type clerk struct {
		c       *http.Client
		csrf    string
		counter string
	}
	var clerks []clerk
	for i, counter := range []string{"1", "2", "3", "4", "5", "6"} {
		c := client(t)
		user := "clerk0" + string(rune('1'+i))
		csrf := pageLogin(t, h, c, user)
		r := api(t, c, csrf, http.MethodPost, h.URL+"/api/v1/counters/"+counter+"/open", "")
		require.Equal(t, http.StatusOK, r.Status, r.Body)
		clerks = append(clerks, clerk{c, csrf, counter})
	}
	var mu sync.Mutex
	got := map[string]string{} // ticket id → counter
	var dup []string
	// From goroutines: errors are reported with t.Errorf, never FailNow.
	post := func(k clerk, action, body string) (reply, bool) {
		req, err := http.NewRequest(http.MethodPost, h.URL+"/api/v1/counters/"+k.counter+"/"+action, strings.NewReader(body))
		if err != nil {
			t.Errorf("%s at %s: %v", action, k.counter, err)
			return reply{}, false
		}
		req.Header.Set("X-CSRF-Token", k.csrf)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := k.c.Do(req)
		if err != nil {
			t.Errorf("%s at %s: %v", action, k.counter, err)
			return reply{}, false
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Errorf("%s at %s: %v", action, k.counter, err)
			return reply{}, false
		}
		return reply{Status: res.StatusCode, Header: res.Header, Body: string(b)}, true
	}
	callAndFinish := func(k clerk) (string, bool) {
		r, ok := post(k, "call-next", "")
		if !ok {
			return "", false
		}
		if r.Status == http.StatusNoContent {
			return "", false
		}
		if r.Status != http.StatusOK {
			t.Errorf("call-next at %s: %d %s", k.counter, r.Status, r.Body)
			return "", false
		}
		var tk struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal([]byte(r.Body), &tk); err != nil || tk.ID == "" {
			t.Errorf("call-next at %s: %s", k.counter, r.Body)
			return "", false
		}
		mu.Lock()
		if prev, ok := got[tk.ID]; ok {
			dup = append(dup, tk.ID+" at "+prev+" and "+k.counter)
		}
		got[tk.ID] = k.counter
		mu.Unlock()
		r, ok = post(k, "finish", `{"outcome":"rilasciato"}`)
		if ok && r.Status != http.StatusOK {
			t.Errorf("finish at %s: %d %s", k.counter, r.Status, r.Body)
		}
		return tk.ID, true
	}

	// Lockstep: two clerks released at the same instant, ten rounds.
	for round := 0; round < 10; round++ {
		start := make(chan struct{})
		var wg sync.WaitGroup
		ids := make([]string, 2)
		for i := 0; i < 2; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-start
				ids[i], _ = callAndFinish(clerks[i])
			}(i)
		}
		close(start)
		wg.Wait()
		require.NotEmpty(t, ids[0])
		require.NotEmpty(t, ids[1])
		require.NotEqual(t, ids[0], ids[1], "round %d", round)
	}

	// Free for all: six clerks until the queue is empty.
	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, k := range clerks {
		wg.Add(1)
		go func(k clerk) {
			defer wg.Done()
			<-start
			for {
				if _, ok := callAndFinish(k); !ok {
					return
				}
			}
		}(k)
	}
	close(start)
	wg.Wait()
	assert.Empty(t, dup, "tickets called twice")
	assert.Len(t, got, n, "every ticket called once")
	for _, v := range h.Engine.Tickets(hub.TicketFilter{}) {
		assert.Equal(t, hub.StatusDone, v.Ticket.Status, v.Ticket.Number)
		assert.Len(t, v.Ticket.Steps, 1, v.Ticket.Number)
	}
}

// The admin's changes made from the page (the session cookie) need the
// session's CSRF token like every other change: without it each is refused
// and nothing is committed; with it they go through. A user the admin
// changes loses their open page session at once.
func TestAdminChangesNeedCSRF(t *testing.T) {
	h := startHub(t, nil, desk.Config{})
	adm, clerk := client(t), client(t)
	csrf := pageLogin(t, h, adm, "admin")
	pageLogin(t, h, clerk, "clerk01")
	changes := []struct{ method, path, body string }{
		{http.MethodPut, "/api/v1/admin/users", `{"username":"clerk01","role":"supervisor","password":"nuova-password"}`},
		{http.MethodPatch, "/api/v1/admin/users/clerk01", `{"disabled":true}`},
		{http.MethodPost, "/api/v1/admin/devices", `{"id":"totem-2","kind":"totem"}`},
		{http.MethodPut, "/api/v1/admin/services/passaporti", `{"prefix":"PS","name":{"it":"Passaporti"},"category":"dispositivo","target_wait_min":12,"service_time_min":9}`},
		{http.MethodPut, "/api/v1/admin/counters/19", `{"kind":"counter","name":{"it":"Sportello 19"},"services":["certificati"]}`},
	}
	seq := h.Engine.LastSeq()
	for _, c := range changes {
		r := api(t, adm, "", c.method, h.URL+c.path, c.body)
		assert.Equal(t, http.StatusForbidden, r.Status, "%s %s: %s", c.method, c.path, r.Body)
		assert.Equal(t, "csrf_failed", problemCode(t, r), c.path)
		r = api(t, adm, "0123456789abcdef0123456789abcdef", c.method, h.URL+c.path, c.body)
		assert.Equal(t, "csrf_failed", problemCode(t, r), c.path)
	}
	assert.Equal(t, seq, h.Engine.LastSeq(), "nothing committed without the token")
	_, ok := h.Engine.Site().Service("passaporti")
	assert.False(t, ok)
	r := do(t, clerk, http.MethodGet, h.URL+"/desk", "", nil)
	require.Equal(t, http.StatusOK, r.Status, "clerk01's session lives on")
	_, err := h.Accounts.Authenticate("demo-totem-2")
	require.NoError(t, err, "the totem's token was not replaced")

	for _, c := range changes {
		r := api(t, adm, csrf, c.method, h.URL+c.path, c.body)
		assert.Less(t, r.Status, 300, "%s %s: %s", c.method, c.path, r.Body)
	}
	_, ok = h.Engine.Site().Service("passaporti")
	assert.True(t, ok)
	_, ok = h.Engine.Site().Counter("19")
	assert.True(t, ok)
	// clerk01 was changed: the page session is over, back to the login.
	r = do(t, clerk, http.MethodGet, h.URL+"/desk", "", nil)
	assert.Equal(t, http.StatusSeeOther, r.Status)
	assert.True(t, strings.HasPrefix(r.Header.Get("Location"), "/login?"), r.Header.Get("Location"))
	entries, err := h.Engine.Audit(seq, 0, "admin")
	require.NoError(t, err)
	var actions []string
	for _, a := range entries {
		actions = append(actions, a.Action+" "+a.Target)
	}
	assert.Equal(t, []string{"user.updated user clerk01", "user.updated user clerk01", "device.enrolled device totem-2",
		"service.created service passaporti", "counter.created counter 19"}, actions)
}
