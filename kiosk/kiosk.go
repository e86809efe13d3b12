// Package kiosk holds the citizen-facing pages: the totem's self-service
// page (/kiosk/{totem-id}) and the tracking page behind a ticket's QR code
// (/t/{token}). The pages are server-rendered html/template with small
// plain scripts (assets kiosk.js and track.js); they call the public JSON
// API of hub/httpapi and its live feed.
package kiosk

import (
	"embed"
	"encoding/json"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/comune-rc/sportello/assets"
	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/httpapi"
	"github.com/labstack/echo/v4"
)

// Config is what the pages need.
type Config struct {
	Engine *hub.Engine
	// PublicURL is the base of track_url links; when empty, the address
	// the request came to is used.
	PublicURL string
	// IdleTimeout sends the totem back to the start screen, in Italian,
	// after that long without a touch or a key. Default 30 s.
	IdleTimeout time.Duration
	// TicketTimeout is how long the ticket screen stays. Default 30 s.
	TicketTimeout time.Duration
	// PrintTimeout is how long the ticket screen waits for the printer
	// before telling the citizen to use the QR code. Default 10 s.
	PrintTimeout time.Duration
}

type pages struct {
	cfg Config
}

// Mount returns the function that registers the pages on the hub's router
// (httpapi.Config.Mount): GET /kiosk/:id, POST /kiosk/:id/checkin and
// GET /t/:token.
func Mount(cfg Config) func(*echo.Echo) {
	if cfg.Engine == nil {
		panic("kiosk: Config needs the Engine")
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 30 * time.Second
	}
	if cfg.TicketTimeout <= 0 {
		cfg.TicketTimeout = 30 * time.Second
	}
	if cfg.PrintTimeout <= 0 {
		cfg.PrintTimeout = 10 * time.Second
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	p := &pages{cfg: cfg}
	return func(e *echo.Echo) {
		e.GET("/kiosk/:id", p.kiosk)
		e.POST("/kiosk/:id/checkin", p.checkin)
		e.GET("/t/:token", p.track)
		e.GET("/feedback/:id", p.feedback)
	}
}

func (p *pages) publicURL(c echo.Context) string {
	if p.cfg.PublicURL != "" {
		return p.cfg.PublicURL
	}
	return c.Scheme() + "://" + c.Request().Host
}

//go:embed templates/*.html
var templateFS embed.FS

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"t":     trHTML,
	"ta":    trAttr,
	"asset": assets.URL,
	"fill":  fill,
	"split": func(s string) []string { return strings.Split(s, "") },
}).ParseFS(templateFS, "templates/*.html"))

// trHTML renders a text as a span carrying both languages; the scripts
// swap the content when the language changes. The argument is a key of
// texts or a hub.Text (service names).
func trHTML(v any) template.HTML {
	t := textOf(v)
	return template.HTML(`<span class="tr" data-it="` + template.HTMLEscapeString(t.IT) + `" data-en="` +
		template.HTMLEscapeString(t.In("en")) + `">` + template.HTMLEscapeString(t.IT) + `</span>`)
}

// trAttr renders a translatable attribute (aria-label, alt, placeholder).
func trAttr(attr string, v any) template.HTMLAttr {
	switch attr {
	case "aria-label", "alt", "placeholder", "title":
	default:
		panic("kiosk: untranslatable attribute " + attr)
	}
	t := textOf(v)
	return template.HTMLAttr(attr + `="` + template.HTMLEscapeString(t.IT) + `" data-tra="` + attr + `" data-tra-it="` +
		template.HTMLEscapeString(t.IT) + `" data-tra-en="` + template.HTMLEscapeString(t.In("en")) + `"`)
}

func textOf(v any) hub.Text {
	switch x := v.(type) {
	case string:
		return tr(x)
	case hub.Text:
		return x
	}
	panic("kiosk: not a text")
}

// fill replaces {name} in both languages of a text.
func fill(v any, name, value string) hub.Text {
	t := textOf(v)
	return hub.Text{IT: strings.ReplaceAll(t.IT, "{"+name+"}", value), EN: strings.ReplaceAll(t.In("en"), "{"+name+"}", value)}
}

// textsJSON is the table of texts a page's script needs: the keys with
// one of the prefixes, or every text with none.
func textsJSON(prefixes ...string) string {
	out := map[string]hub.Text{}
	all := map[string]hub.Text{}
	for _, m := range []map[string]hub.Text{texts, surveyTexts} {
		for k, v := range m {
			all[k] = v
		}
	}
	for k, v := range all {
		keep := len(prefixes) == 0
		for _, p := range prefixes {
			keep = keep || strings.HasPrefix(k, p)
		}
		if keep {
			out[k] = v
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		panic(err)
	}
	return string(b)
}

var (
	kioskMsgs = textsJSON()
	// The tracking page gets no text of the totem's priority step.
	trackMsgs = textsJSON("track.", "place.", "ewt.")
)

// render writes a citizen page with the headers every page has; the
// tracking token is in the URL, and Referrer-Policy keeps it home.
func render(c echo.Context, status int, name string, data any) error {
	return httpapi.RenderPage(c, status, templates, name, data, httpapi.PagePolicy{})
}

type errorData struct {
	Title hub.Text
	Body  hub.Text
}

func errorPage(c echo.Context, status int, title, body hub.Text) error {
	return render(c, status, "error.html", errorData{Title: title, Body: body})
}

// totemAccess says whether the caller may use totem id's page: the totem
// itself, or staff (clerk and up) previewing it.
func totemAccess(c echo.Context, id string) (hub.Principal, error) {
	return httpapi.Admit(c, hub.DeviceTotem, id, hub.RoleClerk)
}

func findTotem(site *hub.Site, id string) (hub.TotemDef, bool) {
	for _, t := range site.Totems {
		if t.ID == id {
			return t, true
		}
	}
	return hub.TotemDef{}, false
}

type kioskData struct {
	Site       *hub.Site
	Totem      hub.TotemDef
	Preview    bool
	Groups     []Group
	Priorities []choice
	Kinds      []choice
	Topics     []choice
	Alphabet   []string
	IdleMs     int64
	TicketMs   int64
	PrintMs    int64
	Msgs       string
	Services   string
	MaxText    int
	MaxPlace   int
	Survey     surveyData
	// AdviceMin is the estimate (minutes) above which the ticket screen
	// shows the "book or come back later" advice (hub.AdviceWait).
	AdviceMin int
}

type serviceInfo struct {
	Name       hub.Text `json:"name"`
	Room       bool     `json:"room"`
	NoPriority bool     `json:"no_priority,omitempty"`
}

func (p *pages) kiosk(c echo.Context) error {
	eng := p.cfg.Engine
	site := eng.Site()
	id := c.Param("id")
	totem, ok := findTotem(site, id)
	if !ok {
		return errorPage(c, http.StatusNotFound, tr("notfound.title"), fill("notfound.body", "id", id))
	}
	pr, err := totemAccess(c, id)
	if err != nil {
		return errorPage(c, http.StatusForbidden, tr("forbidden.title"), fill("forbidden.body", "id", id))
	}
	svcs := map[string]serviceInfo{}
	for _, sv := range site.Services {
		svcs[sv.ID] = serviceInfo{Name: sv.Name, Room: sv.Room, NoPriority: sv.NoPriority}
	}
	sj, err := json.Marshal(svcs)
	if err != nil {
		return err
	}
	alpha := make([]string, 0, len(CodeAlphabet))
	for _, r := range CodeAlphabet {
		alpha = append(alpha, string(r))
	}
	return render(c, http.StatusOK, "kiosk.html", kioskData{
		Site: site, Totem: totem, Preview: pr.Device != hub.DeviceTotem, Groups: Groups(site),
		Priorities: priorityChoices, Kinds: reportKinds, Topics: reportTopics(), Alphabet: alpha,
		IdleMs: p.cfg.IdleTimeout.Milliseconds(), TicketMs: p.cfg.TicketTimeout.Milliseconds(), PrintMs: p.cfg.PrintTimeout.Milliseconds(),
		Msgs: kioskMsgs, Services: string(sj), MaxText: 1000, MaxPlace: 200, Survey: newSurvey(""),
		AdviceMin: int(hub.AdviceWait / time.Minute),
	})
}

type checkinRequest struct {
	Scan string `json:"scan"`
	Code string `json:"code"`
}

// ticketJSON is the API's ticket answer, as the totem needs it: no
// priority category.
type ticketJSON struct {
	ID          string          `json:"id"`
	Number      string          `json:"number"`
	Service     string          `json:"service"`
	Status      hub.Status      `json:"status"`
	Channel     hub.Channel     `json:"channel"`
	IssuedAt    time.Time       `json:"issued_at"`
	Position    int             `json:"position"`
	EWTMin      int             `json:"ewt_min"`
	TrackURL    string          `json:"track_url"`
	Appointment string          `json:"appointment,omitempty"`
	Slot        *time.Time      `json:"slot,omitempty"`
	Print       hub.PrintStatus `json:"print,omitempty"`
}

func minutes(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	m := int(d / time.Minute)
	if d%time.Minute != 0 {
		m++
	}
	return m
}

// checkin serves POST /kiosk/{id}/checkin: the booking code typed or
// scanned at the totem becomes a ticket, printed by that totem.
func (p *pages) checkin(c echo.Context) error {
	eng := p.cfg.Engine
	id := c.Param("id")
	if _, ok := findTotem(eng.Site(), id); !ok {
		return hub.Errorf(hub.KindNotFound, "totem_not_found", "no totem %q", id)
	}
	pr, err := totemAccess(c, id)
	if err != nil {
		return err
	}
	// A JSON body only: a cross-site form cannot send one.
	if ct := c.Request().Header.Get(echo.HeaderContentType); !strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), echo.MIMEApplicationJSON) {
		return hub.FieldError("unsupported_media_type", "Content-Type", "send the body as application/json")
	}
	var r checkinRequest
	if err := httpapi.DecodeJSON(c.Request().Body, &r); err != nil {
		return err
	}
	raw, field := r.Code, "code"
	if raw == "" {
		raw, field = r.Scan, "scan"
	}
	if token, ok := TrackTokenOf(raw); ok {
		// A paper ticket's QR code: the citizen came back to rate the
		// visit (the survey at the totem).
		v, err := eng.TicketByToken(token)
		if err != nil {
			return &hub.Error{Kind: hub.KindNotFound, Code: hub.ErrTicketNotFound.Code, Field: field, Message: "this ticket is not valid any more: only today's tickets can be rated here"}
		}
		tk := v.Ticket
		return c.JSON(http.StatusOK, map[string]surveyScan{"survey": {Token: token, Number: tk.Number, Service: tk.Service, Status: tk.Status, Rated: tk.Rating != nil}})
	}
	if strings.TrimSpace(raw) == "" {
		return hub.FieldError("missing_field", "code", "code or scan is required: the booking code")
	}
	code, err := ParseScan(raw)
	if err != nil {
		if he, ok := err.(*hub.Error); ok {
			he.Field = field
		}
		return err
	}
	req := hub.IssueRequest{Appointment: code, By: id, Print: true, Channel: hub.ChannelTotem}
	if pr.Device != hub.DeviceTotem {
		// Staff previewing the page: a real ticket, but the totem must
		// not print it.
		req.By, req.Print = pr.ID, false
	}
	t, created, err := eng.Issue(c.Request().Context(), req)
	if err != nil {
		return err
	}
	// The estimate is printed on the ticket.
	eng.AwaitEstimate(c.Request().Context(), t.ID)
	v, err := eng.Ticket(t.ID)
	if err != nil {
		return err
	}
	tk := v.Ticket
	out := ticketJSON{ID: tk.ID, Number: tk.Number, Service: tk.Service, Status: tk.Status, Channel: tk.Channel, IssuedAt: tk.IssuedAt,
		Position: v.Position, EWTMin: minutes(v.EWT), TrackURL: p.publicURL(c) + "/t/" + tk.TrackToken, Appointment: tk.Appointment,
		Slot: tk.Slot, Print: tk.Print}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	c.Response().Header().Set("Location", "/api/v1/tickets/"+tk.ID)
	return c.JSON(status, out)
}

type trackData struct {
	Site      *hub.Site
	Token     string
	Number    string
	ServiceID string
	Service   hub.Text
	Status    hub.Status
	Position  int
	EWTMin    int
	Msgs      string
	Counters  string
	Survey    surveyData
}

// track serves the citizen's tracking page, GET /t/{token}.
func (p *pages) track(c echo.Context) error {
	eng := p.cfg.Engine
	token := c.Param("token")
	var v hub.TicketView
	var err error = hub.ErrTicketNotFound
	if len(token) <= 64 {
		v, err = eng.TicketByToken(token)
	}
	if err != nil {
		if hub.ErrorKind(err) == hub.KindNotFound {
			return errorPage(c, http.StatusNotFound, tr("track404.title"), tr("track404.body"))
		}
		return err
	}
	site := eng.Site()
	names := map[string]hub.Text{}
	for _, cn := range site.Counters {
		names[cn.ID] = cn.Name
	}
	cj, err := json.Marshal(names)
	if err != nil {
		return err
	}
	sv, _ := site.Service(v.Ticket.Service)
	return render(c, http.StatusOK, "track.html", trackData{
		Site: site, Token: token, Number: v.Ticket.Number, ServiceID: sv.ID, Service: sv.Name, Status: v.Ticket.Status,
		Position: v.Position, EWTMin: minutes(v.EWT), Msgs: trackMsgs, Counters: string(cj),
		Survey: trackSurvey(token, v.Ticket),
	})
}
