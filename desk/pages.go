package desk

import (
	"net/http"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/httpapi"
	"github.com/labstack/echo/v4"
)

// Outcome is one of the outcome codes a clerk picks when a service ends.
type Outcome struct {
	Code string   `json:"code"`
	Text hub.Text `json:"text"`
}

// Outcomes are the outcome codes of the finish form, in the order of
// their keyboard digits (1…5).
var Outcomes = []Outcome{
	{Code: "rilasciato", Text: hub.Text{IT: "Rilasciato", EN: "Issued"}},
	{Code: "informazioni_date", Text: hub.Text{IT: "Informazioni date", EN: "Information given"}},
	{Code: "pratica_avviata", Text: hub.Text{IT: "Pratica avviata", EN: "Case opened"}},
	{Code: "da_completare", Text: hub.Text{IT: "Da completare", EN: "To be completed"}},
	{Code: "non_di_competenza", Text: hub.Text{IT: "Non di competenza", EN: "Not our remit"}},
}

// PauseReasons are the reasons of a pause.
var PauseReasons = []Outcome{
	{Code: "pausa", Text: hub.Text{IT: "Pausa", EN: "Break"}},
	{Code: "back_office", Text: hub.Text{IT: "Back office", EN: "Back office"}},
}

var priorityNames = map[hub.Priority]hub.Text{
	hub.PriorityNone:       {IT: "Nessuna", EN: "None"},
	hub.PriorityDisability: {IT: "Disabilità (L. 104/1992)", EN: "Disability"},
	hub.PriorityPregnancy:  {IT: "Gravidanza", EN: "Pregnancy"},
	hub.PriorityElderly:    {IT: "Anziano", EN: "Elderly"},
	hub.PriorityOther:      {IT: "Altra priorità", EN: "Other priority"},
}

var channelNames = map[hub.Channel]hub.Text{
	hub.ChannelTotem: {IT: "Totem", EN: "Totem"},
	hub.ChannelDesk:  {IT: "Sportello", EN: "Desk"},
	hub.ChannelWeb:   {IT: "Web", EN: "Web"},
	hub.ChannelPhone: {IT: "Telefono", EN: "Phone"},
}

type serviceJSON struct {
	ID        string       `json:"id"`
	Prefix    string       `json:"prefix"`
	Name      hub.Text     `json:"name"`
	Category  hub.Category `json:"category"`
	TargetMin int          `json:"target_min"`
	Room      bool         `json:"room"`
}

type counterDefJSON struct {
	ID       string          `json:"id"`
	Kind     hub.CounterKind `json:"kind"`
	Name     hub.Text        `json:"name"`
	Services []string        `json:"services"`
}

// scriptData is what a page's script gets in its JSON block.
type scriptData struct {
	Page       string                    `json:"page"`
	User       string                    `json:"user"`
	Role       hub.Role                  `json:"role"`
	MaxWaitMin int                       `json:"max_wait_min"`
	RefreshMs  int64                     `json:"refresh_ms"`
	Services   []serviceJSON             `json:"services"`
	Counters   []counterDefJSON          `json:"counters"`
	Outcomes   []Outcome                 `json:"outcomes"`
	Pauses     []Outcome                 `json:"pauses"`
	Priorities map[hub.Priority]hub.Text `json:"priorities"`
	Channels   map[hub.Channel]hub.Text  `json:"channels"`
	Roles      map[hub.Role]hub.Text     `json:"roles"`
	Totems     []hub.TotemDef            `json:"totems"`
	Displays   []hub.DisplayDef          `json:"displays"`
	Held       string                    `json:"held"`
	Timezone   string                    `json:"timezone"`
}

func (p *pages) scriptData(page string, pr hub.Principal) scriptData {
	site := p.cfg.Engine.Site()
	d := scriptData{Page: page, User: pr.ID, Role: pr.Role, MaxWaitMin: int(p.maxWait() / time.Minute), RefreshMs: p.cfg.Refresh.Milliseconds(),
		Outcomes: Outcomes, Pauses: PauseReasons, Priorities: priorityNames, Channels: channelNames, Roles: roleNames,
		Totems: site.Totems, Displays: site.Displays, Timezone: site.Location().String()}
	for _, s := range site.Services {
		d.Services = append(d.Services, serviceJSON{ID: s.ID, Prefix: s.Prefix, Name: s.Name, Category: s.Category, TargetMin: int(s.TargetWait / time.Minute), Room: s.Room})
	}
	for _, c := range site.Counters {
		d.Counters = append(d.Counters, counterDefJSON{ID: c.ID, Kind: c.Kind, Name: c.Name, Services: c.Services})
	}
	if d.Totems == nil {
		d.Totems = []hub.TotemDef{}
	}
	if d.Displays == nil {
		d.Displays = []hub.DisplayDef{}
	}
	return d
}

type navLink struct {
	URL     string
	Text    hub.Text
	Current bool
}

type pageData struct {
	Site    *hub.Site
	Page    string
	Title   hub.Text
	User    hub.Principal
	Role    hub.Text
	CSRF    string
	Nav     []navLink
	Script  scriptData
	Options []counterOption // desk: the counters the clerk may take
	Held    string
	Groups  []serviceGroup // admin: the catalogue
	Now     time.Time
}

type counterOption struct {
	ID       string
	Kind     hub.CounterKind
	Name     hub.Text
	State    hub.CounterState
	Selected bool
}

type serviceGroup struct {
	Service  hub.Service
	Counters []string
}

func (p *pages) page(c echo.Context, pr hub.Principal, page string, title hub.Text) pageData {
	nav := []navLink{{URL: "/desk", Text: hub.Text{IT: "Sportello", EN: "Desk"}}}
	if pr.Role.AtLeast(hub.RoleSupervisor) {
		nav = append(nav, navLink{URL: "/supervisor", Text: hub.Text{IT: "Supervisione", EN: "Supervisor"}},
			navLink{URL: "/reports", Text: hub.Text{IT: "Rapporti", EN: "Reports"}})
	}
	if pr.Role.AtLeast(hub.RoleAdmin) {
		nav = append(nav, navLink{URL: "/admin", Text: hub.Text{IT: "Amministrazione", EN: "Administration"}})
	}
	for i := range nav {
		nav[i].Current = nav[i].URL == "/"+page
	}
	return pageData{Site: p.cfg.Engine.Site(), Page: page, Title: title, User: pr, Role: roleNames[pr.Role], CSRF: httpapi.CSRFToken(c),
		Nav: nav, Script: p.scriptData(page, pr), Now: p.cfg.Engine.Now()}
}

func (p *pages) desk(c echo.Context) error {
	pr, ok, err := p.gate(c, hub.RoleClerk)
	if !ok {
		return err
	}
	d := p.page(c, pr, "desk", hub.Text{IT: "Sportello", EN: "Desk"})
	views := p.cfg.Engine.Counters()
	for _, v := range views {
		cn := v.Counter
		if cn.State != hub.CounterClosed && cn.Clerk == pr.ID {
			d.Held = cn.ID
		}
	}
	for _, v := range views {
		cn := v.Counter
		// Only counters nobody else holds.
		if cn.State != hub.CounterClosed && cn.Clerk != pr.ID {
			continue
		}
		def, _ := d.Site.Counter(cn.ID)
		d.Options = append(d.Options, counterOption{ID: cn.ID, Kind: cn.Kind, Name: def.Name, State: cn.State, Selected: cn.ID == d.Held})
	}
	d.Script.Held = d.Held
	return render(c, http.StatusOK, "desk.html", d)
}

// supervisorData is the supervisor console: the page and its staffing
// advice panel.
type supervisorData struct {
	pageData
	Staffing staffingView
}

func (p *pages) supervisor(c echo.Context) error {
	pr, ok, err := p.gate(c, hub.RoleSupervisor)
	if !ok {
		return err
	}
	return render(c, http.StatusOK, "supervisor.html", supervisorData{pageData: p.page(c, pr, "supervisor", hub.Text{IT: "Supervisione", EN: "Supervisor console"}), Staffing: p.staffingView()})
}

func (p *pages) admin(c echo.Context) error {
	pr, ok, err := p.gate(c, hub.RoleAdmin)
	if !ok {
		return err
	}
	d := p.page(c, pr, "admin", hub.Text{IT: "Amministrazione", EN: "Administration"})
	views := p.cfg.Engine.Counters()
	for _, s := range d.Site.Services {
		g := serviceGroup{Service: s}
		for _, v := range views {
			cn := v.Counter
			for _, id := range cn.Services {
				if id == s.ID {
					g.Counters = append(g.Counters, cn.ID)
				}
			}
		}
		d.Groups = append(d.Groups, g)
	}
	return render(c, http.StatusOK, "admin.html", d)
}
