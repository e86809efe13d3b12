package display_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/comune-rc/sportello/display"
	"github.com/comune-rc/sportello/hub"
)

// fast is the configuration of the browser tests: short backoff and
// heartbeat, announcements played four times faster.
func fast() display.Config {
	return display.Config{
		Heartbeat:     300 * time.Millisecond,
		ReconnectMin:  300 * time.Millisecond,
		ReconnectBase: 200 * time.Millisecond,
		ReconnectMax:  time.Second,
		OfflineAfter:  200 * time.Millisecond,
		SpeechRate:    4,
	}
}

// A call made at a desk appears on the display with its number and
// destination; the page shows no priority category and no personal data;
// the heartbeat reaches the hub.
func TestBrowserCallAppearsWithoutPriority(t *testing.T) {
	e := startHub(t, fast())
	e.open(t, "5", "clerk05")
	tb := newTab(t, 1920, 1080)
	tb.navigate(deviceURL(e, "1", ""))
	tb.online()

	e.issue(t, "certificati", hub.PriorityDisability)
	num := e.callNext(t, "5", "clerk05")
	tb.wait("the call on screen", `document.getElementById('hero').getAttribute('data-number') === '`+num+`'`, 10*time.Second)
	cs := tb.calls()
	if cs[0].Number != num || cs[0].Counter != "5" || !strings.Contains(cs[0].Dest, "Sportello 5") || !strings.Contains(cs[0].Dest, "Desk 5") {
		t.Fatalf("screen shows %+v, want %s at Sportello 5 / Desk 5", cs[0], num)
	}
	if big := tb.str(`document.getElementById('hero-number').textContent`); big != num {
		t.Fatalf("the big number is %q, want %q", big, num)
	}
	// More priority tickets waiting, and their queue figures arrive too.
	e.issue(t, "certificati", hub.PriorityPregnancy)
	e.issue(t, "certificati", hub.PriorityElderly)
	tb.wait("the queue", `document.querySelector('#queue tr[data-service=certificati] td.n').textContent === '2'`, 10*time.Second)

	html := tb.str(`document.documentElement.outerHTML`)
	text := tb.str(`document.body.innerText`)
	checkNoPriority(t, "the display DOM", html)
	checkNoPriority(t, "the display text", text)
	for _, v := range e.engine().Tickets(hub.TicketFilter{}) {
		if strings.Contains(html, v.Ticket.ID) || strings.Contains(html, v.Ticket.TrackToken) {
			t.Errorf("the DOM holds ticket %s's id or tracking token", v.Ticket.Number)
		}
	}
	if strings.Contains(html, "clerk05") {
		t.Error("the DOM names the clerk")
	}

	// The announcement of the call (the audio check of headless Chromium).
	tb.wait("the announcement", `window.__sportello.announced.length >= 1 && window.__sportello.announced[0].endedAt > 0`, 20*time.Second)
	a := tb.announced()[0]
	if a.Number != num || a.Error != "" || a.Clips[0] != "chime" || a.Clips[3] != "it/1" || a.Clips[5] != "it/5" {
		t.Errorf("announcement = %+v", a)
	}
	t.Logf("AudioContext %s, announcement %s: %.0f ms (at SpeechRate 4), audio clock used: %v", tb.str(`window.__sportello.audio`), a.Number, a.Duration, a.Audio)

	// The supervisor sees the display's health.
	sup := e.login(t, "supervisor")
	tb.wait("heartbeats", `window.__sportello.heartbeats >= 2 && window.__sportello.heartbeatStatus === 204`, 10*time.Second)
	for _, d := range e.health(t, sup) {
		if d["id"] != "1" {
			continue
		}
		if d["online"] != true || d["version"] != "test" || d["layout"] != "landscape" {
			t.Errorf("health of display 1 = %v", d)
		}
		t.Logf("health of display 1: audio=%v", d["audio"])
	}
}

// Three calls within 100 ms are spoken in order, never overlapping; a
// recall is spoken again.
func TestBrowserAnnouncementQueue(t *testing.T) {
	e := startHub(t, fast())
	for _, c := range []string{"1", "2", "3"} {
		e.open(t, c, "clerk0"+c)
		e.issue(t, "certificati", hub.PriorityNone)
	}
	tb := newTab(t, 1920, 1080)
	tb.navigate(deviceURL(e, "1", ""))
	tb.online()

	start := time.Now()
	var nums []string
	for _, c := range []string{"1", "2", "3"} {
		nums = append(nums, e.callNext(t, c, "clerk0"+c))
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Logf("the three calls took %v", d)
	}
	if _, err := e.engine().Recall(t.Context(), "1", "clerk01"); err != nil {
		t.Fatal(err)
	}
	tb.wait("four announcements", `window.__sportello.announced.length >= 4 && window.__sportello.announced.every(function(a){return a.endedAt > 0})`, 40*time.Second)
	as := tb.announced()
	if len(as) != 4 {
		t.Fatalf("%d announcements, want 4: %+v", len(as), as)
	}
	want := []struct {
		num, counter string
		recall       int
	}{{nums[0], "1", 0}, {nums[1], "2", 0}, {nums[2], "3", 0}, {nums[0], "1", 1}}
	for i, w := range want {
		a := as[i]
		if a.Number != w.num || a.Counter != w.counter || a.Recall != w.recall || a.Error != "" {
			t.Errorf("announcement %d = %+v, want %s at %s (recall %d)", i, a, w.num, w.counter, w.recall)
		}
		if a.EndedAt-a.StartedAt < a.Duration*0.9 {
			t.Errorf("announcement %d lasted %.0f ms, its clips %.0f ms", i, a.EndedAt-a.StartedAt, a.Duration)
		}
		if i > 0 {
			if as[i-1].Seq >= a.Seq {
				t.Errorf("announcement %d (seq %d) after seq %d: out of order", i, a.Seq, as[i-1].Seq)
			}
			if a.StartedAt < as[i-1].EndedAt {
				t.Errorf("announcement %d started at %.0f before %d ended at %.0f", i, a.StartedAt, i-1, as[i-1].EndedAt)
			}
		}
		// The spoken number is the ticket's, not the latest call's.
		wantNum := "it/" + strings.TrimLeft(w.num[1:], "0")
		if len(a.Clips) < 6 || a.Clips[3] != wantNum || a.Clips[5] != "it/"+w.counter {
			t.Errorf("announcement %d clips %v, want %s at %s", i, a.Clips, wantNum, w.counter)
		}
	}
	t.Logf("announcements: %.0f ms each at SpeechRate 4, audio clock: %v", as[0].Duration, as[0].Audio)
	// The screen lists each ticket once, newest call first.
	if got := joinNumbers(tb.calls()); got != fmt.Sprintf("%s@1 %s@3 %s@2", nums[0], nums[2], nums[1]) {
		t.Errorf("screen = %s", got)
	}
}

// After the hub is killed and restarted the display recovers by itself:
// it resumes the feed with since= and shows, in order, the calls made
// while it was away (which are young enough to be spoken).
func TestBrowserRecoversAfterRestart(t *testing.T) {
	cfg := fast()
	e := startHub(t, cfg)
	for _, c := range []string{"1", "2", "3"} {
		e.open(t, c, "clerk0"+c)
		e.issue(t, "certificati", hub.PriorityNone)
		e.issue(t, "certificati", hub.PriorityNone)
	}
	tb := newTab(t, 1920, 1080)
	tb.navigate(deviceURL(e, "1", ""))
	tb.online()
	before := e.callNext(t, "1", "clerk01")
	tb.wait("the first call", `document.getElementById('hero').getAttribute('data-number') === '`+before+`'`, 10*time.Second)

	e.restart(t, cfg)
	// Calls made right after the restart, before the page reconnects
	// (it waits at least ReconnectMin).
	e.finish(t, "1", "clerk01")
	var away []string
	for _, c := range []string{"2", "3", "1"} {
		away = append(away, e.callNext(t, c, "clerk0"+c))
	}
	tb.wait("the calls made while away", `document.getElementById('hero').getAttribute('data-number') === '`+away[2]+`' && window.__sportello.online`, 20*time.Second)
	got := tb.calls()
	want := fmt.Sprintf("%s@1 %s@3 %s@2", away[2], away[1], away[0])
	if s := joinNumbers(got[:3]); s != want {
		t.Fatalf("after the restart the screen shows %s, want %s first", joinNumbers(got), want)
	}
	if s := joinNumbers(got); !strings.Contains(s, before+"@1") {
		t.Errorf("the call from before the restart is gone: %s", s)
	}
	var conns []struct {
		Since *uint64 `json:"since"`
	}
	tb.eval(`window.__sportello.connections`, &conns)
	if len(conns) < 2 || conns[0].Since != nil || conns[len(conns)-1].Since == nil || *conns[len(conns)-1].Since == 0 {
		t.Errorf("connections = %+v: want a snapshot first, then a resume with since=", conns)
	}
	var offline int
	tb.eval(`window.__sportello.offlineCount || 0`, &offline)
	if offline < 1 || tb.str(`String(document.getElementById('offline').hidden)`) != "true" {
		t.Errorf("the connection-lost notice was shown %d times, hidden now: %s", offline, tb.str(`String(document.getElementById('offline').hidden)`))
	}
	// Young calls made while away are still spoken, in order.
	tb.wait("the announcements", `window.__sportello.announced.length >= 4 && window.__sportello.announced[3].endedAt > 0`, 40*time.Second)
	as := tb.announced()
	for i, n := range append([]string{before}, away...) {
		if as[i].Number != n {
			t.Errorf("announcement %d is %s, want %s", i, as[i].Number, n)
		}
	}
}

// Calls the display learns of after more than AnnounceMaxAge (it was
// disconnected) are shown but not spoken; a fresh call is spoken.
func TestBrowserStaleCallsAreNotSpoken(t *testing.T) {
	cfg := fast()
	cfg.AnnounceMaxAge = time.Second
	cfg.ReconnectMin = 2500 * time.Millisecond
	e := startHub(t, cfg)
	for _, c := range []string{"1", "2", "3"} {
		e.open(t, c, "clerk0"+c)
		e.issue(t, "certificati", hub.PriorityNone)
	}
	e.issue(t, "certificati", hub.PriorityNone)
	tb := newTab(t, 1920, 1080)
	tb.navigate(deviceURL(e, "1", ""))
	tb.online()

	e.restart(t, cfg)
	stale := []string{e.callNext(t, "1", "clerk01"), e.callNext(t, "2", "clerk02")}
	tb.wait("connection lost", `window.__sportello.offlineShown === true`, 5*time.Second)
	tb.wait("the stale calls", `document.getElementById('hero').getAttribute('data-number') === '`+stale[1]+`' && window.__sportello.online`, 20*time.Second)
	if got := joinNumbers(tb.calls()); got != stale[1]+"@2 "+stale[0]+"@1" {
		t.Fatalf("screen = %s", got)
	}
	if as := tb.announced(); len(as) != 0 {
		t.Fatalf("stale calls were spoken: %+v", as)
	}
	fresh := e.callNext(t, "3", "clerk03")
	tb.wait("the fresh announcement", `window.__sportello.announced.length >= 1`, 10*time.Second)
	as := tb.announced()
	if len(as) != 1 || as[0].Number != fresh {
		t.Fatalf("announced %+v, want only %s", as, fresh)
	}
}

// Display 4 shows the rooms only: a call to counter 5 never reaches it.
func TestBrowserDisplayFilter(t *testing.T) {
	e := startHub(t, fast())
	e.open(t, "5", "clerk05")
	e.open(t, "R1", "clerk14")
	tb := newTab(t, 1920, 1080)
	tb.navigate(deviceURL(e, "4", ""))
	tb.online()

	e.issue(t, "certificati", hub.PriorityNone)
	desk := e.callNext(t, "5", "clerk05")
	e.issue(t, "servizi_sociali", hub.PriorityNone)
	room := e.callNext(t, "R1", "clerk14")
	tb.wait("the room call", `document.getElementById('hero').getAttribute('data-number') === '`+room+`'`, 10*time.Second)
	cs := tb.calls()
	if len(cs) != 1 || cs[0].Counter != "R1" || !strings.Contains(cs[0].Dest, "Stanza 1") || !strings.Contains(cs[0].Dest, "Room 1") {
		t.Fatalf("display 4 shows %+v, want only %s at Stanza 1 / Room 1", cs, room)
	}
	if html := tb.str(`document.body.innerHTML`); strings.Contains(html, desk) {
		t.Fatalf("display 4 shows %s (counter 5)", desk)
	}
	var queues []string
	tb.eval(`Array.from(document.querySelectorAll('#queue tbody tr')).map(function(r){return r.getAttribute('data-service')})`, &queues)
	if strings.Join(queues, ",") != "servizi_sociali,consulenza_tributaria,suap" {
		t.Errorf("display 4 lists the queues %v", queues)
	}
	tb.wait("the announcement", `window.__sportello.announced.length >= 1`, 10*time.Second)
	for _, a := range tb.announced() {
		if a.Number == desk {
			t.Errorf("display 4 announced %s at counter 5", desk)
		}
	}
	// Display 1 (everything) shows both.
	t1 := newTab(t, 1920, 1080)
	t1.navigate(deviceURL(e, "1", ""))
	if got := joinNumbers(t1.calls()); got != room+"@R1 "+desk+"@5" {
		t.Errorf("display 1 shows %s", got)
	}
}

// The page reloads when the hub's version changes: after an upgrade (the
// restarted hub runs another version) and when a snapshot says so.
func TestBrowserReloadsOnVersionChange(t *testing.T) {
	cfg := fast()
	cfg.Version = "v1"
	e := startHub(t, cfg)
	tb := newTab(t, 1920, 1080)
	tb.navigate(deviceURL(e, "1", ""))
	tb.online()
	if v := tb.str(`window.__sportello.version`); v != "v1" {
		t.Fatalf("version %q", v)
	}
	cfg.Version = "v2"
	e.restart(t, cfg)
	tb.wait("the reload", `window.__sportello && window.__sportello.version === 'v2' && window.__sportello.reloads === 1 && window.__sportello.online`, 20*time.Second)

	// A snapshot from another hub version reloads too, at most once a
	// minute (a misconfigured hub must not make the screen flash).
	tb.eval(`window.__sportello.feed({seq: 1, type: 'snapshot', at: new Date().toISOString(), data: {version: 'other', calls: [], queue: [], notice: {it: '', en: ''}}}); true`, nil)
	tb.wait("the guarded reload", `window.__sportello && window.__sportello.reloadBlocked === true`, 10*time.Second)
}

// Preview mode (the admin's iframes) is silent and sends no heartbeat;
// the picture moves a few pixels at PixelShiftEvery.
func TestBrowserPreviewAndPixelShift(t *testing.T) {
	cfg := fast()
	cfg.PixelShiftEvery = 100 * time.Millisecond
	e := startHub(t, cfg)
	e.open(t, "5", "clerk05")
	tb := newTab(t, 1920, 1080)
	tb.setSession(e, "supervisor")
	tb.navigate(e.h.URL + "/display/1?preview=1")
	tb.online()
	e.issue(t, "certificati", hub.PriorityNone)
	num := e.callNext(t, "5", "clerk05")
	tb.wait("the call", `document.getElementById('hero').getAttribute('data-number') === '`+num+`'`, 10*time.Second)
	tb.wait("pixel shifts", `window.__sportello.shift.n >= 3`, 5*time.Second)
	var shift struct{ X, Y, N int }
	tb.eval(`window.__sportello.shift`, &shift)
	if shift.X < -4 || shift.X > 4 || shift.Y < -4 || shift.Y > 4 {
		t.Errorf("shift %+v is more than 4 px", shift)
	}
	if tr := tb.str(`getComputedStyle(document.documentElement).getPropertyValue('--shift-x').trim()`); tr != fmt.Sprintf("%dpx", shift.X) {
		t.Logf("shift-x %q vs %d (moved on)", tr, shift.X)
	}
	time.Sleep(700 * time.Millisecond) // heartbeats would have gone by now
	var hb int
	tb.eval(`window.__sportello.heartbeats`, &hb)
	if hb != 0 || len(tb.announced()) != 0 || tb.str(`window.__sportello.audio`) != "none" {
		t.Errorf("preview: %d heartbeats, %d announcements, audio %s", hb, len(tb.announced()), tb.str(`window.__sportello.audio`))
	}
	for _, d := range e.health(t, e.login(t, "supervisor")) {
		if d["id"] == "1" && d["online"] == true {
			t.Error("a preview made display 1 look online")
		}
	}
}

// The admin page: 403 with a login link, then live previews of every display, their health
// (polled) and the information line, which reaches the screens.
func TestBrowserAdminPage(t *testing.T) {
	cfg := fast()
	cfg.AdminPoll = 200 * time.Millisecond
	e := startHub(t, cfg)
	d1 := newTab(t, 1920, 1080)
	d1.navigate(deviceURL(e, "1", ""))
	d1.online()

	tb := newTab(t, 1280, 1400)
	tb.navigate(e.h.URL + "/admin/displays")
	if tb.str(`document.body.dataset.status`) != "403" {
		t.Fatal("the admin page is open to anonymous users")
	}
	if tb.str(`document.getElementById('login-link').getAttribute('href')`) != "/login?next=/admin/displays" {
		t.Error("the 403 page has no login link")
	}
	tb.setSession(e, "supervisor")
	tb.navigate(e.h.URL + "/admin/displays")
	tb.wait("the admin page", `document.body.classList.contains('admin')`, 10*time.Second)
	tb.wait("display 1 online", `document.querySelector('.tile[data-display="1"]').getAttribute('data-online') === 'true'`, 10*time.Second)
	if s := tb.str(`document.querySelector('.tile[data-display="2"]').getAttribute('data-online')`); s != "false" {
		t.Errorf("display 2 online = %s", s)
	}
	if s := tb.str(`document.querySelector('.tile[data-display="1"] [data-f=layout]').textContent`); s != "landscape" {
		t.Errorf("display 1 layout = %s", s)
	}
	var frames int
	tb.eval(`document.querySelectorAll('.tile iframe').length`, &frames)
	if frames != 4 {
		t.Errorf("%d previews", frames)
	}
	tb.wait("the previews", `Array.from(document.querySelectorAll('.tile iframe')).every(function(f){ try { return f.contentWindow.__sportello && f.contentWindow.__sportello.online } catch (e) { return false } })`, 15*time.Second)

	tb.eval(`document.getElementById('notice-it').value = 'Oggi lo sportello chiude alle 13'; document.getElementById('notice-en').value = 'Today the office closes at 1 pm'; document.getElementById('notice-form').requestSubmit(); true`, nil)
	tb.wait("saved", `document.getElementById('notice-status').textContent.indexOf('Salvato') === 0`, 10*time.Second)
	d1.wait("the notice on the display", `document.getElementById('notice-it').textContent === 'Oggi lo sportello chiude alle 13' && !document.getElementById('notice').hidden`, 10*time.Second)
	if s := d1.str(`document.getElementById('notice-en').textContent`); s != "Today the office closes at 1 pm" {
		t.Errorf("English notice %q", s)
	}
	if os.Getenv("DISPLAY_SCREENSHOTS") != "" {
		tb.wait("preview notices", `Array.from(document.querySelectorAll('.tile iframe')).every(function(f){ return !f.contentDocument.getElementById('notice').hidden })`, 10*time.Second)
		shot(t, tb, "display-admin.png")
	}
}

// Both orientations fit the screen without scrolling, with everything in
// view, at the kiosk sizes. DISPLAY_SCREENSHOTS=DIR saves the pictures.
func TestBrowserLayouts(t *testing.T) {
	e := startHub(t, fast())
	counters := []string{"1", "2", "3", "7", "12", "14", "16", "18"}
	for i, c := range counters {
		e.open(t, c, fmt.Sprintf("clerk%02d", i+1))
	}
	e.open(t, "R2", "clerk09")
	for _, s := range []string{"certificati", "certificati", "cie", "tributi", "tributi", "idrico", "informazioni", "segnalazioni", "certificati", "residenza"} {
		e.issue(t, s, hub.PriorityNone)
	}
	e.issue(t, "servizi_sociali", hub.PriorityNone)
	for i, c := range counters {
		e.callNext(t, c, fmt.Sprintf("clerk%02d", i+1))
	}
	for _, s := range []string{"certificati", "certificati", "certificati", "cie", "cie", "tributi", "residenza", "idrico", "protocollo", "informazioni", "suap", "servizi_sociali"} {
		e.issue(t, s, hub.PriorityNone)
	}
	e.callNext(t, "R2", "clerk09")
	e.putNotice(t, e.login(t, "supervisor"), "Oggi l'ufficio anagrafe chiude alle 13:00. Portate un documento d'identità valido.", "Today the registry office closes at 1 pm. Please bring a valid identity document.")

	for _, o := range []struct {
		name string
		w, h int64
	}{{"landscape", 1920, 1080}, {"portrait", 1080, 1920}} {
		tb := newTab(t, o.w, o.h)
		tb.navigate(deviceURL(e, "1", ""))
		tb.online()
		var m struct {
			ScrollH, ScrollW, InnerH, InnerW int
			Calls, Pages, Visible            int
			Bottom                           float64
			Hero                             float64
		}
		tb.eval(`(function(){
		  var vis = Array.from(document.querySelectorAll('#queue tbody tr')).filter(function(r){ return !r.hidden });
		  var q = vis[vis.length-1].getBoundingClientRect();
		  var n = document.getElementById('notice').getBoundingClientRect();
		  var li = document.querySelector('#calls li:last-child').getBoundingClientRect();
		  return {ScrollH: document.documentElement.scrollHeight, ScrollW: document.documentElement.scrollWidth, InnerH: innerHeight, InnerW: innerWidth,
		    Calls: document.querySelectorAll('#calls li').length, Pages: window.__sportello.queuePages, Visible: vis.length, Bottom: Math.max(q.bottom, n.bottom, li.bottom),
		    Hero: parseFloat(getComputedStyle(document.getElementById('hero-number')).fontSize)};
		})()`, &m)
		if m.ScrollH > m.InnerH || m.ScrollW > m.InnerW || m.Bottom > float64(m.InnerH) {
			t.Errorf("%s: the page overflows: %+v", o.name, m)
		}
		if m.Pages*m.Visible < 13 {
			t.Errorf("%s: the queue shows %d services a page on %d pages: not all 13", o.name, m.Visible, m.Pages)
		}
		t.Logf("%s: %d services a page, %d pages", o.name, m.Visible, m.Pages)
		if m.Calls != 8 {
			t.Errorf("%s: %d previous calls listed, want 8", o.name, m.Calls)
		}
		if m.Hero < 150 {
			t.Errorf("%s: the latest number is %.0f px high", o.name, m.Hero)
		}
		if got := tb.str(`window.innerWidth >= window.innerHeight ? 'landscape' : 'portrait'`); got != o.name {
			t.Errorf("layout %s, want %s", got, o.name)
		}
		if os.Getenv("DISPLAY_SCREENSHOTS") != "" {
			shot(t, tb, "display-"+o.name+".png")
		}
	}
}

func shot(t *testing.T, tb *tab, name string) {
	t.Helper()
	png, err := chromedp.Run(tb.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(os.Getenv("DISPLAY_SCREENSHOTS"), name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", p)
}
