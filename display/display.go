// Package display holds the waiting-room screens of the Sportello Unico
// (/display/{id}) with their voice announcements, and the supervisor's
// page that watches them (/admin/displays).
//
// A screen is a server-rendered page (html/template) with one small plain
// script (assets display.js) that follows the hub's public live feed
// (GET /api/v1/live): the latest call large, the previous calls, the queue
// of each service, the date and clock and the supervisor's information
// line, in Italian and English. Only ticket numbers and destinations are
// shown or spoken: the public feed carries nothing else.
//
// Announcements are a chime and pre-recorded clips (espeak-ng, make voices)
// concatenated with Web Audio; the rules that turn a call into clips are in
// Go (Phrase, Announcement) and served per call by GET
// /display/{id}/phrase, so the display PC needs no speech engine.
package display

import (
	"embed"
	"encoding/json"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/comune-rc/sportello/assets"
	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/httpapi"
	"github.com/labstack/echo/v4"
)

// Config is what the screens need. Zero durations take the defaults.
type Config struct {
	Engine *hub.Engine
	// Version is the build the page runs, reported in its heartbeats.
	// Pass the hub's version (hub.Config.Version); empty means the
	// engine's. The page reloads when the hub changes: a live-feed
	// snapshot with another version than the one rendered in the page,
	// or, after a reconnection resumed with since=, GET
	// /display/{id}/version reporting another build.
	Version string
	// AnnounceMaxAge: a call older than this when the screen learns of it
	// (after a reconnect) is shown but not spoken. Default 15 s.
	AnnounceMaxAge time.Duration
	// PixelShiftEvery moves the whole screen by a few pixels against
	// burn-in. Default 3 min.
	PixelShiftEvery time.Duration
	// Heartbeat is how often the screen reports its health to
	// POST /api/v1/displays/{id}/heartbeat. Default 15 s.
	Heartbeat time.Duration
	// Reconnection to the live feed after a loss: wait ReconnectMin plus
	// a random delay in [0, min(ReconnectMax, ReconnectBase·2^attempt))
	// (full jitter). Defaults 500 ms, 1 s, 30 s.
	ReconnectMin  time.Duration
	ReconnectBase time.Duration
	ReconnectMax  time.Duration
	// OfflineAfter is how long the feed may be lost before the screen
	// says so. Default 10 s.
	OfflineAfter time.Duration
	// Highlight is how long a new call stays highlighted. Default 10 s.
	Highlight time.Duration
	// SpeechRate plays the announcements faster (tests); default 1.
	SpeechRate float64
	// AdminPoll is how often the admin page refreshes the health list.
	// Default 5 s.
	AdminPoll time.Duration
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.AnnounceMaxAge, 15*time.Second)
	def(&c.PixelShiftEvery, 3*time.Minute)
	def(&c.Heartbeat, 15*time.Second)
	def(&c.ReconnectMin, 500*time.Millisecond)
	def(&c.ReconnectBase, time.Second)
	def(&c.ReconnectMax, 30*time.Second)
	def(&c.OfflineAfter, 10*time.Second)
	def(&c.Highlight, 10*time.Second)
	def(&c.AdminPoll, 5*time.Second)
	if c.SpeechRate <= 0 {
		c.SpeechRate = 1
	}
	return c
}

// MaxCalls is how many calls a screen lists besides the latest.
const MaxCalls = 8

type pages struct {
	cfg Config
}

// Mount returns the function that registers the routes on the hub's router
// (httpapi.Config.Mount):
//
//	GET /display/:id          the screen (display device, or supervisor+)
//	GET /display/:id/phrase   the clips of one announcement (JSON)
//	GET /display/:id/version  the version a fresh page would run (JSON)
//	GET /admin/displays       previews and health of every screen (supervisor+)
func Mount(cfg Config) func(*echo.Echo) {
	p := &pages{cfg: cfg.withDefaults()}
	return func(e *echo.Echo) {
		e.GET("/display/:id", p.display)
		e.GET("/display/:id/phrase", p.phrase)
		e.GET("/display/:id/version", p.version)
		e.GET("/admin/displays", p.admin)
	}
}

func (p *pages) versionOf(eng *hub.Engine) string {
	if p.cfg.Version != "" {
		return p.cfg.Version
	}
	s, _ := eng.Snapshot()
	return s.Version
}

//go:embed templates/*.html
var templateFS embed.FS

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"asset": assets.URL,
}).ParseFS(templateFS, "templates/*.html"))

// render writes a page. Screens may be framed by the admin page (same
// origin only), and play the announcements; nothing else may frame them.
func render(c echo.Context, status int, name string, data any) error {
	return httpapi.RenderPage(c, status, templates, name, data, httpapi.PagePolicy{Media: true, SameOriginFrames: true})
}

type errorData struct {
	Status int
	Title  hub.Text
	Body   hub.Text
	Login  bool
}

func errorPage(c echo.Context, status int, title, body hub.Text, login bool) error {
	return render(c, status, "error.html", errorData{Status: status, Title: title, Body: body, Login: login})
}

func notFound(c echo.Context, id string) error {
	return errorPage(c, http.StatusNotFound,
		hub.Text{IT: "Schermo non trovato", EN: "Display not found"},
		hub.Text{IT: "Non esiste uno schermo «" + id + "» in questa sede.", EN: "There is no display “" + id + "” at this site."}, false)
}

func forbidden(c echo.Context, id string) error {
	return errorPage(c, http.StatusForbidden,
		hub.Text{IT: "Accesso non consentito", EN: "Access denied"},
		hub.Text{
			IT: "Questa pagina è per lo schermo " + id + ": aprila con il suo token (…/display/" + id + "?token=…) oppure accedi come supervisore.",
			EN: "This page belongs to display " + id + ": open it with its device token (…/display/" + id + "?token=…) or log in as a supervisor.",
		}, false)
}

func findDisplay(site *hub.Site, id string) (hub.DisplayDef, bool) {
	for _, d := range site.Displays {
		if d.ID == id {
			return d, true
		}
	}
	return hub.DisplayDef{}, false
}

// viewer says who is looking at a screen: the display device itself, or a
// supervisor (or admin) in a browser; anyone else is refused.
func viewer(c echo.Context, id string) (device, ok bool) {
	pr, err := httpapi.Admit(c, hub.DeviceDisplay, id, hub.RoleSupervisor)
	return err == nil && pr.IsDevice(), err == nil
}

// Filter is a screen's selection of calls and queues (the site's
// DisplayDef: empty lists mean everything).
type Filter struct {
	Counters []string
	Services []string
}

// FilterOf returns the filter of a display.
func FilterOf(d hub.DisplayDef) Filter { return Filter{Counters: d.Counters, Services: d.Services} }

// Shows reports whether a call to counter for service belongs on the
// screen.
func (f Filter) Shows(counter, service string) bool {
	if len(f.Counters) > 0 && !slices.Contains(f.Counters, counter) {
		return false
	}
	if len(f.Services) > 0 && !slices.Contains(f.Services, service) {
		return false
	}
	return true
}

// QueueServices are the services whose queue the screen lists, in the
// site's order: the filter's services, else those served by its counters,
// else all.
func (f Filter) QueueServices(site *hub.Site) []string {
	want := map[string]bool{}
	switch {
	case len(f.Services) > 0:
		for _, s := range f.Services {
			want[s] = true
		}
	case len(f.Counters) > 0:
		for _, id := range f.Counters {
			if c, ok := site.Counter(id); ok {
				for _, s := range c.Services {
					want[s] = true
				}
			}
		}
	}
	out := []string{}
	for _, s := range site.Services {
		if len(want) == 0 || want[s.ID] {
			out = append(out, s.ID)
		}
	}
	return out
}

// callView is a call as the screen shows it.
type callView struct {
	Number  string `json:"number"`
	Service string `json:"service"`
	Counter string `json:"counter"`
	Kind    string `json:"kind"`
	At      string `json:"at"`
	Recall  int    `json:"recall"`
	Seq     uint64 `json:"seq"`
	Dest    hub.Text
	Fresh   bool `json:"-"`
}

type queueView struct {
	Service string   `json:"service"`
	Name    hub.Text `json:"-"`
	Waiting int      `json:"waiting"`
	EWTMin  int      `json:"ewt_min"`
}

type destInfo struct {
	IT   string `json:"it"`
	EN   string `json:"en"`
	Kind string `json:"kind"`
}

// pageConfig is what display.js needs, in the page as JSON.
type pageConfig struct {
	ID            string              `json:"id"`
	Version       string              `json:"version"`
	HubVersion    string              `json:"hubVersion"`
	Preview       bool                `json:"preview"`
	Heartbeats    bool                `json:"heartbeats"`
	Seq           uint64              `json:"seq"`
	ServerNow     int64               `json:"serverNow"`
	TZ            string              `json:"tz"`
	AnnounceMaxMs int64               `json:"announceMaxAgeMs"`
	PixelShiftMs  int64               `json:"pixelShiftMs"`
	HeartbeatMs   int64               `json:"heartbeatMs"`
	ReconnMinMs   int64               `json:"reconnectMinMs"`
	ReconnBaseMs  int64               `json:"reconnectBaseMs"`
	ReconnMaxMs   int64               `json:"reconnectMaxMs"`
	OfflineMs     int64               `json:"offlineAfterMs"`
	HighlightMs   int64               `json:"highlightMs"`
	SpeechRate    float64             `json:"speechRate"`
	MaxCalls      int                 `json:"maxCalls"`
	Counters      []string            `json:"counters"`
	Services      []string            `json:"services"`
	QueueServices []string            `json:"queueServices"`
	Dest          map[string]destInfo `json:"dest"`
	ServiceNames  map[string]hub.Text `json:"serviceNames"`
	Calls         []callView          `json:"calls"`
	Queue         []queueView         `json:"queue"`
	Notice        hub.Text            `json:"notice"`
	Preload       []string            `json:"preload"`
	LiveURL       string              `json:"liveUrl"`
	PhraseURL     string              `json:"phraseUrl"`
	VersionURL    string              `json:"versionUrl"`
	HeartbeatURL  string              `json:"heartbeatUrl"`
}

type pageData struct {
	Site    *hub.Site
	Display hub.DisplayDef
	Version string
	Preview bool
	Hero    *callView
	Calls   []callView
	Queue   []queueView
	Notice  hub.Text
	Date    hub.Text
	Clock   string
	Config  string
}

func destOf(site *hub.Site, counter, kind string) hub.Text {
	if c, ok := site.Counter(counter); ok && c.Name.IT != "" {
		return hub.Text{IT: c.Name.IT, EN: c.Name.In("en")}
	}
	if kind == string(hub.KindRoom) {
		return hub.Text{IT: "Stanza " + counter, EN: "Room " + counter}
	}
	return hub.Text{IT: "Sportello " + counter, EN: "Desk " + counter}
}

// display serves GET /display/:id.
func (p *pages) display(c echo.Context) error {
	eng := p.cfg.Engine
	site := eng.Site()
	id := c.Param("id")
	d, ok := findDisplay(site, id)
	if !ok {
		return notFound(c, id)
	}
	device, ok := viewer(c, id)
	if !ok {
		return forbidden(c, id)
	}
	preview := c.QueryParam("preview") == "1"
	snap, seq := eng.Snapshot()
	version := p.cfg.Version
	if version == "" {
		version = snap.Version
	}
	now := eng.Now()
	f := FilterOf(d)

	var calls []callView
	seen := map[string]bool{}
	for _, cl := range snap.Calls { // newest first
		if !f.Shows(cl.Counter, cl.Service) || seen[cl.Number] {
			continue
		}
		seen[cl.Number] = true
		calls = append(calls, callView{Number: cl.Number, Service: cl.Service, Counter: cl.Counter, Kind: cl.Kind,
			At: cl.At.Format(time.RFC3339Nano), Recall: cl.Recall, Seq: cl.Seq, Dest: destOf(site, cl.Counter, cl.Kind),
			Fresh: now.Sub(cl.At) < p.cfg.Highlight})
		if len(calls) > MaxCalls {
			break
		}
	}
	qs := f.QueueServices(site)
	byService := map[string]hub.QueueEntry{}
	for _, q := range snap.Queue {
		byService[q.Service] = q
	}
	names := map[string]hub.Text{}
	var queue []queueView
	for _, s := range qs {
		sv, _ := site.Service(s)
		names[s] = hub.Text{IT: sv.Name.IT, EN: sv.Name.In("en")}
		q := byService[s]
		queue = append(queue, queueView{Service: s, Name: names[s], Waiting: q.Waiting, EWTMin: q.EWTMin})
	}
	dest := map[string]destInfo{}
	for _, cn := range site.Counters {
		t := destOf(site, cn.ID, string(cn.Kind))
		dest[cn.ID] = destInfo{IT: t.IT, EN: t.EN, Kind: string(cn.Kind)}
	}
	var preload []string
	if !preview {
		for _, clip := range preloadClips() {
			if u, err := ClipURL(clip); err == nil {
				preload = append(preload, u)
			}
		}
	}
	cfg := pageConfig{
		ID: id, Version: version, HubVersion: snap.Version, Preview: preview, Heartbeats: device && !preview, Seq: seq,
		ServerNow: now.UnixMilli(), TZ: site.Timezone,
		AnnounceMaxMs: p.cfg.AnnounceMaxAge.Milliseconds(), PixelShiftMs: p.cfg.PixelShiftEvery.Milliseconds(),
		HeartbeatMs: p.cfg.Heartbeat.Milliseconds(), ReconnMinMs: p.cfg.ReconnectMin.Milliseconds(),
		ReconnBaseMs: p.cfg.ReconnectBase.Milliseconds(), ReconnMaxMs: p.cfg.ReconnectMax.Milliseconds(),
		OfflineMs: p.cfg.OfflineAfter.Milliseconds(), HighlightMs: p.cfg.Highlight.Milliseconds(),
		SpeechRate: p.cfg.SpeechRate, MaxCalls: MaxCalls,
		Counters: nonNil(d.Counters), Services: nonNil(d.Services), QueueServices: qs,
		Dest: dest, ServiceNames: names, Calls: nonNilCalls(calls), Queue: queue, Notice: snap.Notice,
		Preload: nonNil(preload), LiveURL: "/api/v1/live", PhraseURL: "/display/" + id + "/phrase",
		VersionURL: "/display/" + id + "/version", HeartbeatURL: "/api/v1/displays/" + id + "/heartbeat",
	}
	cj, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	data := pageData{Site: site, Display: d, Version: version, Preview: preview, Queue: queue, Notice: snap.Notice,
		Date: dateText(now), Clock: now.Format("15:04"), Config: string(cj)}
	if len(calls) > 0 {
		data.Hero = &calls[0]
		data.Calls = calls[1:]
	}
	return render(c, http.StatusOK, "display.html", data)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilCalls(s []callView) []callView {
	if s == nil {
		return []callView{}
	}
	return s
}

var (
	weekdaysIT = [...]string{"domenica", "lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato"}
	monthsIT   = [...]string{"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"}
)

// dateText is the date as the page's script writes it, for the first
// paint.
func dateText(t time.Time) hub.Text {
	return hub.Text{
		IT: weekdaysIT[t.Weekday()] + " " + itoa(t.Day()) + " " + monthsIT[t.Month()-1] + " " + itoa(t.Year()),
		EN: t.Format("Monday 2 January 2006"),
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

type phraseResponse struct {
	Clips []Segment `json:"clips"`
}

// phrase serves GET /display/:id/phrase?number=A023&kind=counter&counter=5:
// the segments of the announcement, chime first, with hashed clip URLs.
func (p *pages) phrase(c echo.Context) error {
	site := p.cfg.Engine.Site()
	id := c.Param("id")
	if _, ok := findDisplay(site, id); !ok {
		return hub.Errorf(hub.KindNotFound, "display_not_found", "no display %q", id)
	}
	if _, ok := viewer(c, id); !ok {
		return hub.ErrForbidden
	}
	number, kind, counter := c.QueryParam("number"), c.QueryParam("kind"), c.QueryParam("counter")
	if kind == "" {
		if cn, ok := site.Counter(counter); ok {
			kind = string(cn.Kind)
		}
	}
	segs, err := Announcement(strings.ToUpper(number), kind, counter)
	if err != nil {
		return hub.FieldError("unspeakable_call", "number", "%s", err.Error())
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, phraseResponse{Clips: segs})
}

// version serves GET /display/:id/version: what a freshly loaded page
// would run (version) and the hub's version its snapshots carry (hub).
// The page asks after each reconnection that resumed with since= (and so
// got no snapshot) and reloads on a change.
func (p *pages) version(c echo.Context) error {
	eng := p.cfg.Engine
	id := c.Param("id")
	if _, ok := findDisplay(eng.Site(), id); !ok {
		return hub.Errorf(hub.KindNotFound, "display_not_found", "no display %q", id)
	}
	snap, _ := eng.Snapshot()
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]string{"version": p.versionOf(eng), "hub": snap.Version})
}

type adminDisplay struct {
	hub.DisplayDef
	Filter string
}

type adminData struct {
	Site     *hub.Site
	Version  string
	Displays []adminDisplay
	Notice   hub.Text
	PollMs   int64
	User     string
	CSRF     string
}

// admin serves GET /admin/displays: a live preview of every screen
// (scaled iframes in preview mode: silent, no heartbeat) and their health
// from GET /api/v1/displays, polled.
func (p *pages) admin(c echo.Context) error {
	pr, err := httpapi.Admit(c, "", "", hub.RoleSupervisor)
	if err != nil {
		return errorPage(c, http.StatusForbidden,
			hub.Text{IT: "Riservato ai supervisori", EN: "Supervisors only"},
			hub.Text{IT: "Accedi con un utente supervisore o amministratore.", EN: "Log in as a supervisor or an administrator."}, true)
	}
	eng := p.cfg.Engine
	site := eng.Site()
	var ds []adminDisplay
	for _, d := range site.Displays {
		f := "tutto / everything"
		var parts []string
		if len(d.Counters) > 0 {
			parts = append(parts, strings.Join(d.Counters, ", "))
		}
		if len(d.Services) > 0 {
			parts = append(parts, strings.Join(d.Services, ", "))
		}
		if len(parts) > 0 {
			f = strings.Join(parts, " · ")
		}
		ds = append(ds, adminDisplay{DisplayDef: d, Filter: f})
	}
	return render(c, http.StatusOK, "admin.html", adminData{Site: site, Version: p.versionOf(eng), Displays: ds,
		Notice: eng.Notice(), PollMs: p.cfg.AdminPoll.Milliseconds(), User: pr.ID, CSRF: httpapi.CSRFToken(c)})
}
