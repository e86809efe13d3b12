package kpi

import (
	"time"

	"github.com/comune-rc/sportello/hub"
)

// Day is the stored aggregate of one day (in the site's time zone): the
// day's total and its slices. It holds counts only — no ticket numbers, no
// citizen data, no comments — so it is kept when the events behind it are
// pruned and the visits' personal data purged.
type Day struct {
	Version  int             `json:"v"`
	Day      string          `json:"day"`
	Total    *Agg            `json:"total"`
	Services map[string]*Agg `json:"services"`
	Counters map[string]*Agg `json:"counters"`
	Clerks   map[string]*Agg `json:"clerks"`
	Hours    map[int]*Agg    `json:"hours"`
	// Arrivals counts the visits issued per service and hour: the
	// staffing forecast's demand (Forecast). Days stored before it
	// existed lack it; the forecast then splits Hours by Services.
	Arrivals map[string]map[int]int `json:"arrivals,omitempty"`
}

// dayVersion is the shape of Day that this code writes.
const dayVersion = 1

func newDay(day string) *Day {
	return &Day{Version: dayVersion, Day: day, Total: newAgg(), Services: map[string]*Agg{}, Counters: map[string]*Agg{}, Clerks: map[string]*Agg{}, Hours: map[int]*Agg{}, Arrivals: map[string]map[int]int{}}
}

// arrive counts a visit issued for service in hour h.
func (d *Day) arrive(service string, h int) {
	if d.Arrivals == nil {
		d.Arrivals = map[string]map[int]int{}
	}
	m, ok := d.Arrivals[service]
	if !ok {
		m = map[int]int{}
		d.Arrivals[service] = m
	}
	m[h]++
}

func slot(m map[string]*Agg, k string) *Agg {
	if k == "" {
		return nil
	}
	a, ok := m[k]
	if !ok {
		a = newAgg()
		m[k] = a
	}
	return a
}

func (d *Day) hour(h int) *Agg {
	a, ok := d.Hours[h]
	if !ok {
		a = newAgg()
		d.Hours[h] = a
	}
	return a
}

// visit is what the event replay keeps of one ticket to attribute its
// later events: where it was issued, first called, and served.
type visit struct {
	day          *Day
	service      string
	hour         int
	issued       time.Time
	target       time.Duration
	called       bool
	wait         time.Duration
	stepCounter  string
	stepClerk    string
	stepCalled   time.Time
	stepStarted  time.Time
	serveCounter string
	serveClerk   string
	ended        bool
}

// visitAggs are the slices a visit's issue-side figures go to: the day,
// its service and its hour.
func (v *visit) base() []*Agg {
	return []*Agg{v.day.Total, slot(v.day.Services, v.service), v.day.hour(v.hour)}
}

// with adds the counter's and clerk's slices to the base ones.
func (v *visit) with(counter, clerk string) []*Agg {
	out := v.base()
	if a := slot(v.day.Counters, counter); a != nil {
		out = append(out, a)
	}
	if a := slot(v.day.Clerks, clerk); a != nil {
		out = append(out, a)
	}
	return out
}

// replay turns events into days. Only visits issued on a day in want (nil:
// every day) are counted; events of tickets issued before the replay
// started are ignored.
type replay struct {
	site   *hub.Site
	loc    *time.Location
	want   map[string]bool
	days   map[string]*Day
	visits map[string]*visit
}

func newReplay(site *hub.Site, want map[string]bool) *replay {
	return &replay{site: site, loc: site.Location(), want: want, days: map[string]*Day{}, visits: map[string]*visit{}}
}

// defaultTarget is the service level target of a service the catalogue
// no longer knows.
const defaultTarget = 15 * time.Minute

func (r *replay) target(service string) time.Duration {
	if sv, ok := r.site.Service(service); ok && sv.TargetWait > 0 {
		return sv.TargetWait
	}
	return defaultTarget
}

func each(as []*Agg, f func(a *Agg)) {
	for _, a := range as {
		if a != nil {
			f(a)
		}
	}
}

func (r *replay) add(ev hub.Event) {
	d := ev.Data
	if ev.Type == hub.EventTicketIssued {
		at := ev.At.In(r.loc)
		day := at.Format("2006-01-02")
		if r.want != nil && !r.want[day] {
			return
		}
		dd, ok := r.days[day]
		if !ok {
			dd = newDay(day)
			r.days[day] = dd
		}
		v := &visit{day: dd, service: d.Service, hour: at.Hour(), issued: ev.At, target: r.target(d.Service)}
		r.visits[d.TicketID] = v
		dd.arrive(d.Service, v.hour)
		each(v.base(), func(a *Agg) {
			a.Visits++
			if d.Slot != nil {
				a.Appointments++
				switch delta := ev.At.Sub(*d.Slot); {
				case delta < -EarlyBound:
					a.Early++
				case delta > LateBound:
					a.Late++
				default:
					a.OnTime++
				}
			}
		})
		return
	}
	v, ok := r.visits[d.TicketID]
	if !ok || d.TicketID == "" {
		return
	}
	switch ev.Type {
	case hub.EventTicketCalled:
		v.stepCounter, v.stepClerk, v.stepCalled, v.stepStarted = d.Counter, d.Clerk, ev.At, time.Time{}
		if v.called {
			return
		}
		v.called = true
		v.wait = ev.At.Sub(v.issued)
		each(v.with(d.Counter, d.Clerk), func(a *Agg) {
			a.Called++
			a.WaitSum += int64(v.wait / time.Second)
			a.Waits.add(v.wait)
			if v.wait <= v.target {
				a.InTarget++
			}
		})
		// Counters and clerks count the visits they called first.
		for _, a := range []*Agg{slot(v.day.Counters, d.Counter), slot(v.day.Clerks, d.Clerk)} {
			if a != nil {
				a.Visits++
			}
		}
	case hub.EventTicketStarted:
		v.stepStarted = ev.At
	case hub.EventTicketFinished:
		from := v.stepStarted
		if from.IsZero() {
			from = v.stepCalled
		}
		dur := ev.At.Sub(from)
		v.serveCounter, v.serveClerk, v.ended = d.Counter, v.stepClerk, true
		each(v.with(d.Counter, v.stepClerk), func(a *Agg) {
			a.Served++
			a.ServiceSum += int64(dur / time.Second)
			a.ServiceTimes.add(dur)
		})
	case hub.EventTicketNoShow:
		v.ended = true
		each(v.with(d.Counter, v.stepClerk), func(a *Agg) { a.NoShows++ })
	case hub.EventTicketTransferred:
		each(v.with(d.FromCounter, v.stepClerk), func(a *Agg) { a.Transfers++ })
		v.stepCounter, v.stepClerk = "", ""
	case hub.EventTicketCancelled:
		if v.ended {
			return
		}
		v.ended = true
		waited := ev.At.Sub(v.issued)
		each(v.base(), func(a *Agg) {
			if d.Outcome == "end_of_day" {
				a.Unserved++
			} else {
				a.WalkOuts++
			}
			if !v.called && waited > v.target {
				a.Missed++
			}
		})
	case hub.EventTicketRated:
		if d.Score < 1 || d.Score > 5 {
			return
		}
		band := waitBand(v.wait)
		each(v.with(v.serveCounter, v.serveClerk), func(a *Agg) {
			a.Ratings[d.Score]++
			if v.called {
				a.ByWait[band][d.Score]++
			}
		})
	}
}
