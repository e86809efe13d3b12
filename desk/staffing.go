package desk

import (
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/httpapi"
	"github.com/comune-rc/sportello/kpi"
	"github.com/comune-rc/sportello/staffing"
	"github.com/labstack/echo/v4"
)

// Staffing is the supervisor console's staffing advice: the counters
// needed in each hour of a day to call staffing.DefaultServiceLevel of
// the visits within their service's target wait, for the demand the
// hub's history forecasts (kpi.ForecastDay), by Erlang C per skill group
// (staffing.Groups on the counters' current skills), next to the
// counters open now. Served as GET /api/v1/staffing.
type Staffing struct {
	Day         string          `json:"day"`
	Basis       string          `json:"basis"`
	HistoryDays []string        `json:"history_days"`
	TargetSL    float64         `json:"target_sl"`
	Groups      []StaffingGroup `json:"groups"`
	Hours       []StaffingHour  `json:"hours"`
	// OpenNow is the counters and rooms open now, all groups.
	OpenNow int `json:"open_now"`
}

// StaffingGroup is one skill group: its services and counters.
type StaffingGroup struct {
	ID       string   `json:"id"`
	Services []string `json:"services"`
	Counters []string `json:"counters"`
	// Rooms is true when the group's places are consultation rooms.
	Rooms   bool `json:"rooms"`
	OpenNow int  `json:"open_now"`
}

// StaffingHour is one clock hour of the forecast day.
type StaffingHour struct {
	Hour   int                `json:"hour"`
	Groups []StaffingHourCell `json:"groups"`
	// Needed is the counters needed in the hour, all groups.
	Needed int `json:"needed"`
}

// StaffingHourCell is one group in one hour.
type StaffingHourCell struct {
	Group string `json:"group"`
	// Arrivals is the forecast visits in the hour.
	Arrivals float64 `json:"arrivals"`
	Needed   int     `json:"needed"`
	// Short is true when the group has fewer counters than needed.
	Short bool `json:"short"`
}

// staffingCache keeps a day's advice for a few minutes: the forecast
// reads weeks of aggregates, and the console reloads often.
type staffingCache struct {
	mu     sync.Mutex
	day    string
	at     time.Time
	advice *Staffing
	skills string // the counters' skills it was computed for
}

const staffingTTL = 5 * time.Minute

// staffingFor builds the advice for day (the site's zone).
func (p *pages) staffingFor(day time.Time) (*Staffing, error) {
	if p.cfg.Reports == nil {
		return nil, hub.Errorf(hub.KindUnavailable, "reports_unavailable", "the reports are not available on this hub")
	}
	eng := p.cfg.Engine
	site := eng.Site()
	views := eng.Counters()
	var counters []staffing.Counter
	kind := map[string]hub.CounterKind{}
	open := map[string]bool{}
	var skills strings.Builder
	for _, v := range views {
		c := v.Counter
		counters = append(counters, staffing.Counter{ID: c.ID, Services: c.Services})
		kind[c.ID] = c.Kind
		open[c.ID] = c.State == hub.CounterOpen
		fmt.Fprintf(&skills, "%s:%s;", c.ID, strings.Join(c.Services, ","))
	}
	key := day.In(site.Location()).Format("2006-01-02")
	p.staffing.mu.Lock()
	cached := p.staffing.advice
	if cached == nil || p.staffing.day != key || p.staffing.skills != skills.String() || eng.Now().Sub(p.staffing.at) > staffingTTL || eng.Now().Before(p.staffing.at) {
		cached = nil
	}
	p.staffing.mu.Unlock()
	var adv *Staffing
	if cached != nil {
		cp := *cached
		adv = &cp
		adv.Groups = append([]StaffingGroup(nil), cached.Groups...)
	} else {
		f, err := kpi.ForecastDay(p.cfg.Reports, site, day, kpi.ForecastWeeks)
		if err != nil {
			return nil, err
		}
		adv = advise(site, counters, kind, f)
		p.staffing.mu.Lock()
		p.staffing.day, p.staffing.at, p.staffing.advice, p.staffing.skills = key, eng.Now(), adv, skills.String()
		cp := *adv
		cp.Groups = append([]StaffingGroup(nil), adv.Groups...)
		adv = &cp
		p.staffing.mu.Unlock()
	}
	adv.OpenNow = 0
	for i := range adv.Groups {
		g := &adv.Groups[i]
		g.OpenNow = 0
		for _, id := range g.Counters {
			if open[id] {
				g.OpenNow++
			}
		}
		adv.OpenNow += g.OpenNow
	}
	return adv, nil
}

// advise turns a forecast into counters per hour and group.
func advise(site *hub.Site, counters []staffing.Counter, kind map[string]hub.CounterKind, f *kpi.Forecast) *Staffing {
	var ids []string
	target := map[string]float64{}
	for _, sv := range site.Services {
		if sv.Inactive {
			continue
		}
		ids = append(ids, sv.ID)
		t := sv.TargetWait
		if t <= 0 {
			t = hub.DefaultTarget
		}
		target[sv.ID] = t.Minutes()
	}
	adv := &Staffing{Day: f.Day, Basis: f.Basis, HistoryDays: f.Days, TargetSL: staffing.DefaultServiceLevel, Groups: []StaffingGroup{}, Hours: []StaffingHour{}}
	if adv.HistoryDays == nil {
		adv.HistoryDays = []string{}
	}
	groups := staffing.Groups(ids, counters)
	for _, g := range groups {
		sg := StaffingGroup{ID: g.ID, Services: g.Services, Counters: g.Counters, Rooms: len(g.Counters) > 0}
		if sg.Counters == nil {
			sg.Counters = []string{}
		}
		for _, c := range g.Counters {
			sg.Rooms = sg.Rooms && kind[c] == hub.KindRoom
		}
		adv.Groups = append(adv.Groups, sg)
	}
	// The hours: from the first to the last with forecast visits.
	lo, hi := 24, -1
	for _, s := range ids {
		for h, n := range f.Arrivals[s] {
			if n > 0 {
				lo, hi = min(lo, h), max(hi, h)
			}
		}
	}
	for h := lo; h <= hi; h++ {
		hr := StaffingHour{Hour: h}
		for _, g := range groups {
			var loads []staffing.Load
			arrivals := 0.0
			for _, s := range g.Services {
				n := f.Arrivals[s][h]
				arrivals += n
				st := f.Service[s]
				loads = append(loads, staffing.Load{Service: s, PerHour: n, Mean: st.Mean, CS2: st.CS2, Target: target[s]})
			}
			need := staffing.Needed(loads, adv.TargetSL)
			hr.Groups = append(hr.Groups, StaffingHourCell{Group: g.ID, Arrivals: arrivals, Needed: need, Short: need > len(g.Counters)})
			hr.Needed += need
		}
		adv.Hours = append(adv.Hours, hr)
	}
	return adv
}

// staffingDay reads ?day=YYYY-MM-DD (default today).
func (p *pages) staffingDay(c echo.Context) (time.Time, error) {
	loc := p.cfg.Engine.Site().Location()
	q := c.QueryParam("day")
	if q == "" {
		return p.cfg.Engine.Now().In(loc), nil
	}
	d, err := time.ParseInLocation("2006-01-02", q, loc)
	if err != nil {
		return time.Time{}, hub.FieldError("invalid_day", "day", "day must be YYYY-MM-DD")
	}
	return d, nil
}

// staffingJSON serves GET /api/v1/staffing (supervisor+).
func (p *pages) staffingJSON(c echo.Context) error {
	if _, err := httpapi.Admit(c, "", "", hub.RoleSupervisor); err != nil {
		return err
	}
	day, err := p.staffingDay(c)
	if err != nil {
		return err
	}
	adv, err := p.staffingFor(day)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, adv)
}

// staffingView is the panel of the supervisor page.
type staffingView struct {
	*Staffing
	Error  *hub.Text
	Now    int // the current clock hour
	Labels map[string]hub.Text
	Names  map[string]string // group id → its services' names
	Chart  template.HTML
	Basis  hub.Text
}

func (p *pages) staffingView() staffingView {
	site := p.cfg.Engine.Site()
	now := p.cfg.Engine.Now().In(site.Location())
	v := staffingView{Now: now.Hour(), Labels: map[string]hub.Text{}, Names: map[string]string{}}
	adv, err := p.staffingFor(now)
	if err != nil {
		msg := hub.Text{IT: "Consiglio non disponibile: " + errorMessage(err), EN: "Advice not available: " + errorMessage(err)}
		v.Error = &msg
		return v
	}
	v.Staffing = adv
	switch adv.Basis {
	case kpi.BasisSameWeekday:
		v.Basis = hub.Text{IT: "media dello stesso giorno della settimana nelle ultime settimane (" + strconv.Itoa(len(adv.HistoryDays)) + " giorni)",
			EN: "mean of the same weekday over the last weeks (" + strconv.Itoa(len(adv.HistoryDays)) + " days)"}
	case kpi.BasisRecentDays:
		v.Basis = hub.Text{IT: "media dei giorni recenti (" + strconv.Itoa(len(adv.HistoryDays)) + " giorni): nessuno storico per questo giorno della settimana",
			EN: "mean of the recent days (" + strconv.Itoa(len(adv.HistoryDays)) + " days): no history for this weekday"}
	}
	fronts := 0
	for _, g := range adv.Groups {
		if !g.Rooms {
			fronts++
		}
	}
	n := 0
	for _, g := range adv.Groups {
		var names []string
		for _, s := range g.Services {
			if sv, ok := site.Service(s); ok {
				names = append(names, sv.Name.IT)
			}
		}
		v.Names[g.ID] = strings.Join(names, ", ")
		switch {
		case g.Rooms:
			v.Labels[g.ID] = hub.Text{IT: "Stanze", EN: "Rooms"}
		case fronts > 1:
			n++
			v.Labels[g.ID] = hub.Text{IT: "Sportelli " + strconv.Itoa(n), EN: "Desks " + strconv.Itoa(n)}
		default:
			v.Labels[g.ID] = hub.Text{IT: "Sportelli", EN: "Desks"}
		}
	}
	ch := kpi.Chart{ID: "staffing-chart", Unit: "",
		Title: hub.Text{IT: "Postazioni necessarie per ora", EN: "Places needed by hour"},
		Desc:  hub.Text{IT: "Barre: postazioni necessarie in ciascuna ora; linea: postazioni aperte ora.", EN: "Bars: places needed in each hour; line: places open now."}}
	top := float64(adv.OpenNow)
	for _, h := range adv.Hours {
		ch.Bars = append(ch.Bars, kpi.Bar{Label: fmt.Sprintf("%02d:00", h.Hour), Value: kpi.Value{V: float64(h.Needed), OK: true}, Text: strconv.Itoa(h.Needed)})
		top = max(top, float64(h.Needed))
	}
	ch.Max = niceCount(top)
	ch.Ref = float64(adv.OpenNow)
	v.Chart = ch.SVG()
	return v
}

// niceCount is an axis maximum for counts of counters: a multiple of 4
// (the chart has four grid steps), at least 4.
func niceCount(v float64) float64 {
	n := int(v+3) / 4 * 4
	if n < 4 {
		n = 4
	}
	return float64(n)
}
