package display_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/comune-rc/sportello/display"
	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/httpapi"
)

func session(tok string) *http.Cookie { return &http.Cookie{Name: httpapi.SessionCookie, Value: tok} }

func TestDisplayPageAccess(t *testing.T) {
	e := startHub(t, display.Config{})
	sup := e.login(t, "supervisor")
	clerk := e.login(t, "clerk05")

	cases := []struct {
		name   string
		path   string
		cookie *http.Cookie
		want   int
	}{
		{"the display with its token", "/display/1?token=demo-display-1", nil, 200},
		{"the display with its cookie", "/display/3", &http.Cookie{Name: httpapi.DeviceCookie, Value: "demo-display-3"}, 200},
		{"a supervisor", "/display/2", session(sup), 200},
		{"a supervisor, preview", "/display/2?preview=1", session(sup), 200},
		{"unknown display", "/display/9?token=demo-display-1", nil, 404},
		{"unknown display, anonymous", "/display/nope", nil, 404},
		{"another display's token", "/display/1?token=demo-display-2", nil, 403},
		{"a totem's token", "/display/1?token=demo-totem-1", nil, 403},
		{"a clerk", "/display/1", session(clerk), 403},
		{"anonymous", "/display/1", nil, 403},
		{"a wrong token", "/display/1?token=nope", nil, 403},
	}
	for _, c := range cases {
		var r reply
		if c.cookie != nil {
			r = e.get(t, c.path, c.cookie)
		} else {
			r = e.get(t, c.path)
		}
		if r.status != c.want {
			t.Errorf("%s: GET %s = %d, want %d", c.name, c.path, r.status, c.want)
			continue
		}
		if !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.Contains(r.body, `<html lang="it">`) {
			t.Errorf("%s: not an HTML page: %s", c.name, r.header.Get("Content-Type"))
		}
		if c.want != 200 && !strings.Contains(r.body, `lang="en"`) {
			t.Errorf("%s: the error page is not bilingual", c.name)
		}
	}

	r := e.get(t, "/display/1?token=demo-display-1")
	if got := r.header.Get("X-Frame-Options"); got != "SAMEORIGIN" {
		t.Errorf("X-Frame-Options = %q", got)
	}
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'self'") || !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP = %q", csp)
	}
	kept := false
	for _, ck := range r.cookie {
		kept = kept || (ck.Name == httpapi.DeviceCookie && ck.Value == "demo-display-1")
	}
	if !kept {
		t.Error("the device token is not kept in a cookie")
	}
	// Scripts and styles come only through hashed asset URLs.
	for _, m := range regexp.MustCompile(`(?:src|href)="(/assets/[^"]+)"`).FindAllStringSubmatch(r.body, -1) {
		if !regexp.MustCompile(`\.[0-9a-f]{12}\.(js|css)$`).MatchString(m[1]) {
			t.Errorf("unhashed asset %s", m[1])
		}
	}
}

func TestAdminPageAccess(t *testing.T) {
	e := startHub(t, display.Config{})
	for name, ck := range map[string]*http.Cookie{
		"anonymous":   nil,
		"clerk":       session(e.login(t, "clerk01")),
		"the display": {Name: httpapi.DeviceCookie, Value: "demo-display-1"},
	} {
		var r reply
		if ck == nil {
			r = e.get(t, "/admin/displays")
		} else {
			r = e.get(t, "/admin/displays", ck)
		}
		if r.status != http.StatusForbidden || !strings.Contains(r.body, `href="/login?next=/admin/displays"`) {
			t.Errorf("%s: GET /admin/displays = %d (login link: %v)", name, r.status, strings.Contains(r.body, "/login?next="))
		}
	}
	for _, u := range []string{"supervisor", "admin"} {
		r := e.get(t, "/admin/displays", session(e.login(t, u)))
		if r.status != 200 {
			t.Fatalf("%s: GET /admin/displays = %d", u, r.status)
		}
		for _, d := range hub.BuiltinSite().Displays {
			if !strings.Contains(r.body, `src="/display/`+d.ID+`?preview=1"`) {
				t.Errorf("no preview of display %s", d.ID)
			}
		}
	}
}

func TestPhraseEndpoint(t *testing.T) {
	e := startHub(t, display.Config{})
	dev := &http.Cookie{Name: httpapi.DeviceCookie, Value: "demo-display-1"}
	r := e.get(t, "/display/1/phrase?number=A023&kind=counter&counter=5", dev)
	if r.status != 200 {
		t.Fatalf("phrase: %d %s", r.status, r.body)
	}
	var out struct {
		Clips []display.Segment `json:"clips"`
	}
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range out.Clips {
		names = append(names, s.Clip)
		if !strings.HasPrefix(s.URL, "/assets/voice/") {
			t.Errorf("clip %s URL %s", s.Clip, s.URL)
		}
		// Every URL is served.
		if a := e.get(t, s.URL); a.status != 200 || a.header.Get("Content-Type") != "audio/mpeg" {
			t.Errorf("GET %s = %d %s", s.URL, a.status, a.header.Get("Content-Type"))
		}
	}
	if got := strings.Join(names, " "); got != "chime it/numero it/letter-a it/23 it/sportello it/5 en/number en/letter-a en/23 en/desk en/5" {
		t.Errorf("clips = %s", got)
	}
	// The kind defaults to the counter's.
	r = e.get(t, "/display/1/phrase?number=W002&counter=R2", dev)
	if r.status != 200 || !strings.Contains(r.body, `"it/stanza"`) {
		t.Errorf("room phrase: %d %s", r.status, r.body)
	}
	for path, want := range map[string]int{
		"/display/1/phrase?number=A000&kind=counter&counter=5": 400,
		"/display/1/phrase?number=&kind=counter&counter=5":     400,
		"/display/9/phrase?number=A001&kind=counter&counter=5": 404,
		"/display/2/phrase?number=A001&kind=counter&counter=5": 403, // display 1's token
	} {
		if r := e.get(t, path, dev); r.status != want {
			t.Errorf("GET %s = %d, want %d", path, r.status, want)
		}
	}
	if r := e.get(t, "/display/1/version"); r.status != 200 || !strings.Contains(r.body, `"hub":"test"`) {
		t.Errorf("version: %d %s", r.status, r.body)
	}
}

// TestPageHasNoPriorityOrPersonalData: the server-rendered page (first
// paint, before the script runs) after a priority ticket was called.
func TestPageHasNoPriorityOrPersonalData(t *testing.T) {
	e := startHub(t, display.Config{})
	e.open(t, "5", "clerk05")
	e.issue(t, "certificati", hub.PriorityDisability)
	num := e.callNext(t, "5", "clerk05")
	e.issue(t, "certificati", hub.PriorityPregnancy)
	e.issue(t, "certificati", hub.PriorityElderly)
	r := e.get(t, "/display/1?token=demo-display-1")
	if !strings.Contains(r.body, num) {
		t.Fatalf("the page does not show %s", num)
	}
	checkNoPriority(t, "the display page", r.body)
	tk := e.engine().Tickets(hub.TicketFilter{})
	for _, v := range tk {
		if strings.Contains(r.body, v.Ticket.ID) || strings.Contains(r.body, v.Ticket.TrackToken) {
			t.Errorf("the page holds ticket %s's id or tracking token", v.Ticket.Number)
		}
	}
	if strings.Contains(r.body, "clerk05") {
		t.Error("the page names the clerk")
	}
}
