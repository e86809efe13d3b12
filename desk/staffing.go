package desk

import (
	"context"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/httpapi"
	"github.com/comune-rc/sportello/kpi"
	"github.com/comune-rc/sportello/sim"
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
	// Check is the check by simulation of the front-office advice.
	Check StaffingCheck `json:"check"`
}

// Check states: the check by simulation runs in the background, so the
// first answers carry Erlang C alone.
const (
	CheckPending = "pending" // running, or waiting for another day's
	CheckChecked = "checked"
	CheckFailed  = "failed"
	CheckNone    = "none" // no front-office visits forecast: nothing to check
)

// StaffingCheck is the state of the check by simulation: the forecast
// day as a scenario, Erlang C's desks simulated under policy P over Days
// days and corrected where they miss the target (sim.CheckForecast, the
// code of `sportello sim --advise`).
type StaffingCheck struct {
	Status string `json:"status"`
	Policy string `json:"policy,omitempty"`
	Days   int    `json:"days,omitempty"`
	Rounds int    `json:"rounds,omitempty"`
	// Met is true when every judged hour and group meets the target
	// with the checked desks.
	Met   bool   `json:"met"`
	Error string `json:"error,omitempty"`
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
	// Checked is Needed with the checked desks in place of Erlang C's
	// (rooms stay Erlang C's); absent until the check is done.
	Checked *int `json:"checked,omitempty"`
}

// StaffingHourCell is one group in one hour.
type StaffingHourCell struct {
	Group string `json:"group"`
	// Arrivals is the forecast visits in the hour.
	Arrivals float64 `json:"arrivals"`
	Needed   int     `json:"needed"`
	// Short is true when the group has fewer counters than needed.
	Short bool `json:"short"`
	// Check is the simulation's verdict on the cell, once checked.
	Check *CellCheck `json:"check,omitempty"`
}

// CellCheck is one hour and front-office group as the simulation saw it.
type CellCheck struct {
	// ErlangC is Erlang C's desks for the scenario's demand, where the
	// check starts: the hour's mix of services is the day's there, so it
	// may differ from the cell's Needed by a desk.
	ErlangC int `json:"erlang_c"`
	// Advised is the desks the check advises (ErlangC, plus one per
	// round that missed the target, at most the group's).
	Advised int `json:"advised"`
	// SLErlang and SL are the simulated service levels (walk-ins called
	// within their service's target) with Erlang C's and the advised
	// desks; Judged is false with too few simulated visits to tell.
	SLErlang float64 `json:"sl_erlang"`
	SL       float64 `json:"sl"`
	Tickets  int     `json:"tickets"`
	Judged   bool    `json:"judged"`
	Met      bool    `json:"met"`
}

// staffingCache keeps a day's advice for a few minutes: the forecast
// reads weeks of aggregates, and the console reloads often.
type staffingCache struct {
	mu     sync.Mutex
	day    string
	at     time.Time
	advice *Staffing
	skills string // the counters' skills it was computed for
	fc     sim.ForecastCheck
	// checks are the checks by simulation by day and skills; one runs
	// at a time (running), never in a request.
	checks  map[string]*staffingCheck
	order   []string // keys of checks, oldest first
	running bool
}

// staffingCheck is one check by simulation.
type staffingCheck struct {
	done bool
	adv  *sim.Advice
	err  error
}

// maxChecks is how many days' checks are kept: today, tomorrow and a
// few looked up.
const maxChecks = 8

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
	cached, fc := p.staffing.advice, p.staffing.fc
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
		var front []staffing.Counter
		for _, c := range counters {
			if kind[c.ID] != hub.KindRoom {
				front = append(front, c)
			}
		}
		p.staffing.mu.Lock()
		p.staffing.day, p.staffing.at, p.staffing.advice, p.staffing.skills = key, eng.Now(), adv, skills.String()
		fc = sim.ForecastCheck{Site: site, Counters: front, Forecast: f, Workers: 1}
		p.staffing.fc = fc
		cp := *adv
		cp.Groups = append([]StaffingGroup(nil), adv.Groups...)
		adv = &cp
		p.staffing.mu.Unlock()
	}
	adv.Hours = append([]StaffingHour{}, adv.Hours...)
	// The check is kept for the day, the skills and the history the
	// forecast averaged (a day kept since changes nothing it reads).
	p.applyCheck(adv, key+"|"+skills.String()+"|"+adv.Basis+":"+strings.Join(adv.HistoryDays, ","), fc)
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

// applyCheck adds the check by simulation of the advice's day to adv,
// starting it in the background when it has not run and no other check
// is running (a later request starts it then): fc is the forecast and
// counters of the advice.
func (p *pages) applyCheck(adv *Staffing, key string, fc sim.ForecastCheck) {
	front := false
	for _, h := range adv.Hours {
		for j, c := range h.Groups {
			front = front || (c.Arrivals > 0 && !adv.Groups[j].Rooms)
		}
	}
	if !front {
		adv.Check = StaffingCheck{Status: CheckNone}
		return
	}
	p.staffing.mu.Lock()
	ck := p.staffing.checks[key]
	if ck == nil && !p.staffing.running {
		ck = &staffingCheck{}
		if p.staffing.checks == nil {
			p.staffing.checks = map[string]*staffingCheck{}
		}
		p.staffing.checks[key] = ck
		p.staffing.order = append(p.staffing.order, key)
		if len(p.staffing.order) > maxChecks {
			delete(p.staffing.checks, p.staffing.order[0])
			p.staffing.order = p.staffing.order[1:]
		}
		p.staffing.running = true
		go p.runCheck(ck, fc)
	}
	var done bool
	var res *sim.Advice
	var err error
	if ck != nil {
		done, res, err = ck.done, ck.adv, ck.err
	}
	p.staffing.mu.Unlock()
	switch {
	case !done:
		adv.Check = StaffingCheck{Status: CheckPending}
		return
	case err != nil:
		adv.Check = StaffingCheck{Status: CheckFailed, Error: err.Error()}
		return
	}
	adv.Check = StaffingCheck{Status: CheckChecked, Policy: res.Policy, Days: res.Days, Rounds: res.Rounds, Met: res.Met}
	// The simulation's groups are the front-office ones: matched by
	// their services, the hours by the clock hour.
	simGroup := map[string]int{}
	for g, sg := range res.Groups {
		simGroup[strings.Join(sg.Services, ",")] = g
	}
	byGroup := map[string]int{}
	for _, g := range adv.Groups {
		if k, ok := simGroup[strings.Join(g.Services, ",")]; ok && !g.Rooms {
			byGroup[g.ID] = k
		}
	}
	simHour := map[int]sim.AdviceHour{}
	for _, h := range res.Hours {
		if n, err := strconv.Atoi(strings.SplitN(h.Hour, ":", 2)[0]); err == nil {
			simHour[n] = h
		}
	}
	for i := range adv.Hours {
		hr := &adv.Hours[i]
		hr.Groups = append([]StaffingHourCell{}, hr.Groups...)
		total := 0
		sh, okH := simHour[hr.Hour]
		for j := range hr.Groups {
			c := &hr.Groups[j]
			total += c.Needed
			k, okG := byGroup[c.Group]
			if !okH || !okG || k >= len(sh.Groups) {
				continue
			}
			ag := sh.Groups[k]
			c.Check = &CellCheck{ErlangC: min(ag.Erlang, ag.Advised), Advised: ag.Advised, SLErlang: ag.SLErlang, SL: ag.SL, Tickets: ag.Tickets, Judged: ag.Judged, Met: ag.Met}
			total += ag.Advised - c.Needed
		}
		hr.Checked = &total
	}
}

// runCheck runs one check by simulation and records it; it takes
// seconds, so it never runs in a request.
func (p *pages) runCheck(ck *staffingCheck, fc sim.ForecastCheck) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	adv, err := sim.CheckForecast(ctx, fc)
	if err != nil {
		slog.Warn("staffing: check by simulation failed", "day", fc.Forecast.Day, "err", err)
	} else {
		slog.Info("staffing: checked by simulation", "day", fc.Forecast.Day, "days", adv.Days, "rounds", adv.Rounds, "met", adv.Met, "took", time.Since(start).Round(time.Millisecond))
	}
	p.staffing.mu.Lock()
	ck.done, ck.adv, ck.err = true, adv, err
	p.staffing.running = false
	p.staffing.mu.Unlock()
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
	Rooms  map[string]bool   // group id → the group is of rooms (not checked)
	Chart  template.HTML
	Basis  hub.Text
}

func (p *pages) staffingView() staffingView {
	site := p.cfg.Engine.Site()
	now := p.cfg.Engine.Now().In(site.Location())
	v := staffingView{Now: now.Hour(), Labels: map[string]hub.Text{}, Names: map[string]string{}, Rooms: map[string]bool{}}
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
		v.Rooms[g.ID] = g.Rooms
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
