package hub

import (
	"math"
	"slices"
	"strings"
	"time"
)

// Estimator computes the estimated wait of every waiting ticket. It is
// replaceable so that the simulator can compare predictors.
type Estimator interface {
	Estimate(in EstimateInput) map[string]time.Duration
}

// EstimateInput is what an estimator may look at: the ordered queues, the
// counters and the observed service times.
type EstimateInput struct {
	Now      time.Time
	Site     *Site
	Queues   map[string][]*Ticket // service → waiting tickets, in policy order
	Counters []*Counter
	// ServiceTime is the current mean service time per service.
	ServiceTime map[string]time.Duration
	// Busy is, per counter id, the ticket it is calling or serving.
	Busy map[string]*Ticket
	// Policy is the engine's policy, for estimators that replay it.
	Policy Policy
	// Office is the rest of the office state (bookings to come).
	Office OfficeState

	// Off the writer (Config.AsyncEstimates) the tickets are copies that
	// each commit replaces: tickets is the worker's copy of the day's
	// tickets, for estimators that follow a ticket after it left the
	// queue, and changed are those that changed since the last estimate,
	// by arrival, so that one issued and called in between is still
	// counted. On the writer both are nil: the tickets are the engine's.
	tickets map[string]*Ticket
	changed []*Ticket
}

// CapacityEstimator spreads each counter's capacity over the services it
// serves that have someone waiting, then lets each ticket wait for the
// tickets ahead of it in its own service: ewt = (ahead + ½) × mean service
// time ÷ capacity. With no open counter it assumes the counters that could
// serve the service at a quarter of their capacity, so that the estimate
// stays finite and honest-looking rather than zero.
type CapacityEstimator struct{}

// Estimate implements Estimator.
func (CapacityEstimator) Estimate(in EstimateInput) map[string]time.Duration {
	n := 0
	for _, q := range in.Queues {
		n += len(q)
	}
	out := make(map[string]time.Duration, n)
	capacity := make(map[string]float64, len(in.Queues))
	var waiting []bool // per service of the counter: someone waits
	for _, c := range in.Counters {
		if c.State != CounterOpen {
			continue
		}
		waiting = waiting[:0]
		active := 0
		for _, s := range c.Services {
			w := len(in.Queues[s]) > 0
			waiting = append(waiting, w)
			if w {
				active++
			}
		}
		for i, s := range c.Services {
			if waiting[i] {
				capacity[s] += 1 / float64(active)
			}
		}
	}
	for svc, q := range in.Queues {
		capa := capacity[svc]
		if capa == 0 {
			for _, c := range in.Counters {
				for _, s := range c.Services {
					if s == svc {
						capa += 0.25 / float64(len(c.Services))
					}
				}
			}
		}
		if capa == 0 {
			capa = 0.25
		}
		st := in.ServiceTime[svc]
		for i, t := range q {
			ewt := time.Duration((float64(i) + 0.5) * float64(st) / capa)
			out[t.ID] = ewt
		}
	}
	return out
}

// serviceStats keeps the mean service time per service, seeded with the
// site's typical times and moved by each finished service (an exponential
// moving average, so the estimate follows the day).
type serviceStats struct {
	mean map[string]time.Duration
}

func newServiceStats(site *Site) *serviceStats {
	s := &serviceStats{mean: map[string]time.Duration{}}
	for _, sv := range site.Services {
		st := sv.ServiceTime
		if st <= 0 {
			st = 10 * time.Minute
		}
		s.mean[sv.ID] = st
	}
	return s
}

func (s *serviceStats) observe(t *Ticket) {
	if t.Status != StatusDone || len(t.Steps) == 0 {
		return
	}
	st := t.Steps[len(t.Steps)-1]
	if st.EndedAt == nil {
		return
	}
	begin := st.CalledAt
	if st.StartedAt != nil {
		begin = *st.StartedAt
	}
	d := st.EndedAt.Sub(begin)
	if d <= 0 || d > 4*time.Hour {
		return
	}
	const alpha = 0.1
	old := s.mean[st.Service]
	if old == 0 {
		s.mean[st.Service] = d
		return
	}
	s.mean[st.Service] = time.Duration((1-alpha)*float64(old) + alpha*float64(d))
}

// queueView is the queue as of the last commit: per service the waiting
// tickets in policy order, with positions and estimates.
type queueView struct {
	at       time.Time
	order    map[string][]*Ticket
	position map[string]int
	ewt      map[string]time.Duration
	// estAt is when ewt was computed, for the counter states in states;
	// between changes of the waiting set or of a counter's state the
	// estimates only count down (see refreshView).
	estAt  time.Time
	states []CounterState
	// promised is, per waiting ticket, the call time its first estimate
	// gave (issue + EWT): what the ticket told the citizen.
	promised map[string]time.Time
	// today's slot bookings by slot, for the appointment count appts,
	// collected and sorted on first use (then sorted is set): most
	// policies never ask.
	today  []*Appointment
	sorted bool
	appts  int
	from   time.Time
}

func (v *queueView) entry(service string) QueueEntry {
	q := QueueEntry{Service: service}
	tickets := v.order[service]
	q.Waiting = len(tickets)
	for _, t := range tickets {
		if w := int(v.at.Sub(t.Arrival).Minutes()); w > q.LongestWaitMin {
			q.LongestWaitMin = w
		}
	}
	// The wait a citizen taking a ticket now should expect: that of a
	// ticket behind the whole queue. Off the writer the newest tickets
	// may not have their estimate yet: the last one that has stands in.
	for i := len(tickets) - 1; i >= 0; i-- {
		if d, ok := v.ewt[tickets[i].ID]; ok {
			q.EWTMin = ceilMinutes(d)
			break
		}
	}
	return q
}

// estimate is t's estimate. Off the writer a ticket may not have its own
// yet (the projection is behind, or took longer than EstimateWait): the
// nearest ticket ahead of it in its service that has one stands in, so
// that it never reads as no wait at all.
func (v *queueView) estimate(t *Ticket) time.Duration {
	if d, ok := v.ewt[t.ID]; ok {
		return d
	}
	q := v.order[t.Service]
	for i := v.position[t.ID] - 2; i >= 0 && i < len(q); i-- {
		if d, ok := v.ewt[q[i].ID]; ok {
			return d
		}
	}
	return 0
}

func (v *queueView) entries(site *Site) []QueueEntry {
	out := make([]QueueEntry, 0, len(site.Services))
	for _, s := range site.Services {
		out = append(out, v.entry(s.ID))
	}
	return out
}

func ceilMinutes(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int(math.Ceil(d.Minutes()))
}

// refreshView recomputes positions and estimates; it runs after every
// commit, so every event updates them.
func (e *Engine) refreshView(now time.Time) {
	// Sized up front: this runs after every commit.
	v := &queueView{at: now, order: make(map[string][]*Ticket, len(e.site.Services)), position: make(map[string]int, len(e.waiting)), promised: make(map[string]time.Time, len(e.waiting))}
	if prev := e.view; prev != nil {
		for id, at := range prev.promised {
			if _, ok := e.waiting[id]; ok {
				v.promised[id] = at
			}
		}
	}
	office := e.officeState(now, v)
	office.Promised = v.promised
	// A deterministic start, by arrival: map order is random, and
	// policies may use a stable sort.
	for _, t := range office.Waiting {
		v.order[t.Service] = append(v.order[t.Service], t)
	}
	if o, ok := e.policy.(OfficeObserver); ok {
		o.Observe(office)
	}
	for svc, q := range v.order {
		e.policy.Order(now, q)
		for i, t := range q {
			v.position[t.ID] = i + 1
		}
		v.order[svc] = q
	}
	counters := make([]*Counter, 0, len(e.counters))
	v.states = make([]CounterState, 0, len(e.site.Counters))
	busy := make(map[string]*Ticket, len(e.site.Counters))
	for _, def := range e.site.Counters {
		c := e.counters[def.ID]
		counters = append(counters, c)
		v.states = append(v.states, c.State)
		if t, ok := e.tickets[c.Ticket]; ok && c.Ticket != "" {
			busy[c.ID] = t
		}
	}
	if e.estw != nil {
		// Off the writer: the last estimates counted down until the
		// worker has projected this state.
		if prev := e.view; prev != nil {
			v.estAt, v.ewt = prev.estAt, prev.countDown(v, now)
		} else {
			v.ewt = map[string]time.Duration{}
		}
		if prev := e.view; prev == nil || !e.reuseEstimates(prev, v, now) {
			e.estw.submit(e.asyncJob(now, v, office))
		}
		e.view = v
		return
	}
	if prev := e.view; prev != nil && e.reuseEstimates(prev, v, now) {
		// Nothing the estimates depend on changed but the clock: count
		// down, and project again at least once a minute.
		v.estAt, v.ewt = prev.estAt, prev.countDown(v, now)
	} else {
		v.estAt = now
		v.ewt = e.est.Estimate(EstimateInput{Now: now, Site: e.site, Queues: v.order, Counters: counters, ServiceTime: e.stats.mean, Busy: busy, Policy: e.policy, Office: office})
	}
	for id := range v.position {
		if _, ok := v.promised[id]; !ok {
			v.promised[id] = now.Add(v.ewt[id])
		}
	}
	e.view = v
}

// countDown is v's estimates of the tickets waiting in next, less the
// time since v.
func (v *queueView) countDown(next *queueView, now time.Time) map[string]time.Duration {
	out := make(map[string]time.Duration, len(next.position))
	el := now.Sub(v.at)
	for id := range next.position {
		if d, ok := v.ewt[id]; ok {
			out[id] = max(d-el, 0)
		}
	}
	return out
}

// reuseEstimates reports whether v may take prev's estimates counted
// down: only for a costly estimator (the projection), within a minute of
// the last projection, with the same waiting tickets and counter states.
func (e *Engine) reuseEstimates(prev, v *queueView, now time.Time) bool {
	if _, ok := e.est.(*ProjectionEstimator); !ok && e.estw == nil {
		return false
	}
	if prev.ewt == nil || now.Before(prev.at) || now.Sub(prev.estAt) >= time.Minute || len(prev.position) != len(v.position) || len(prev.states) != len(v.states) {
		return false
	}
	for id := range v.position {
		if _, ok := prev.ewt[id]; !ok {
			return false
		}
	}
	for i, s := range v.states {
		if prev.states[i] != s {
			return false
		}
	}
	return true
}

// officeState is the office as of now, for policies and estimators.
func (e *Engine) officeState(now time.Time, v *queueView) OfficeState {
	s := OfficeState{Now: now, ServiceTime: e.stats.mean, Counters: make([]*Counter, 0, len(e.site.Counters)), Waiting: make([]*Ticket, 0, len(e.waiting))}
	for _, def := range e.site.Counters {
		s.Counters = append(s.Counters, e.counters[def.ID])
	}
	for _, t := range e.waiting {
		s.Waiting = append(s.Waiting, t)
	}
	slices.SortFunc(s.Waiting, compareArrival)
	y, m, d := now.In(e.loc).Date()
	from := time.Date(y, m, d, 0, 0, 0, 0, e.loc)
	// Today's slot bookings, collected and sorted when first asked for,
	// and kept while no booking is added (appointments are never deleted,
	// and a change keeps the slot and the kind).
	if prev := e.view; prev != nil && prev.from.Equal(from) && prev.appts == len(e.appointments) {
		v.today, v.sorted = prev.today, prev.sorted
	}
	v.appts, v.from = len(e.appointments), from
	var booked []*Appointment
	done := false
	s.booked = func() []*Appointment {
		if !done {
			done = true
			if !v.sorted {
				to := from.AddDate(0, 0, 1)
				for _, a := range e.appointments {
					if a.Kind != "virtual" && !a.Slot.Before(from) && a.Slot.Before(to) {
						v.today = append(v.today, a)
					}
				}
				// By slot and service: bookings alike in both are interchangeable,
				// so that the random codes never decide an order.
				slices.SortFunc(v.today, func(a, b *Appointment) int {
					if c := a.Slot.Compare(b.Slot); c != 0 {
						return c
					}
					if c := strings.Compare(a.Service, b.Service); c != 0 {
						return c
					}
					return strings.Compare(a.Code, b.Code)
				})
				v.sorted = true
			}
			today := v.today
			// The engine replaces an appointment when it changes: look
			// each one up again.
			for _, a := range today {
				if cur := e.appointments[a.Code]; cur != nil && cur.Status == "booked" && cur.Slot.Equal(a.Slot) {
					booked = append(booked, cur)
				}
			}
		}
		return booked
	}
	return s
}

// compareArrival is arrivalBefore as a comparison, for slices.SortFunc
// (a total order: any sort gives the same result).
func compareArrival(a, b *Ticket) int {
	switch {
	case arrivalBefore(a, b):
		return -1
	case arrivalBefore(b, a):
		return 1
	}
	return 0
}
