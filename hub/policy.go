package hub

import (
	"math"
	"sort"
	"time"
)

// Policy chooses which waiting ticket a counter calls next. It is
// replaceable: the simulator runs other systems' policies through the same
// engine. Implementations must be deterministic for equal inputs.
type Policy interface {
	Name() string
	// Pick returns the ticket counter c calls among eligible (never empty),
	// or nil to call nobody.
	Pick(now time.Time, c *Counter, eligible []*Ticket) *Ticket
	// Order sorts the waiting tickets of one service, most urgent first:
	// it gives each ticket its position.
	Order(now time.Time, waiting []*Ticket)
}

// FairPolicyConfig tunes FairPolicy. Zero values take the defaults. None
// is fitted to a particular office: they are service standards (targets,
// the hard bound, the appointments' grace and goal) or the shape of the
// rule; the rest (how fast counters free up, the appointments' schedule)
// is derived from the office as it is.
type FairPolicyConfig struct {
	// MaxWait is the hard bound: nobody should wait longer. Default 45 min,
	// the wait from which the totem advises to book or come back
	// (AdviceWait).
	MaxWait time.Duration
	// Guard is the wait from which a walk-in goes before every other
	// walk-in and every appointment that still has time, oldest first.
	// Default three fifths of MaxWait.
	Guard time.Duration
	// PriorityWeight makes the first target's worth of a priority
	// ticket's wait count this many times (aging with a bounded head
	// start, never strict priority). Default 3.
	PriorityWeight float64
	// AppointmentGrace is how late after its slot an appointment may be
	// called (the punctuality standard). Default 5 min.
	AppointmentGrace time.Duration
	// AppointmentLead, when set, makes a checked-in appointment go ahead
	// of walk-ins from this long before its slot. By default it goes
	// ahead as late as still lets it be called within its grace (see
	// Observe).
	AppointmentLead time.Duration
	// AppointmentGoal is the share of appointments to call within their
	// grace. It sets the margin an appointment is called with (see lead):
	// the chance that none of its counters frees up within it is
	// 1 − AppointmentGoal. Default 0.92.
	AppointmentGoal float64
	// PromiseWeight: a walk-in already waiting longer than the estimate
	// printed on its ticket has that lateness × PromiseWeight added to its
	// wait, so that the policy keeps what the ticket said. Default 3;
	// negative disables.
	PromiseWeight float64
	// Targets gives each service's target wait; urgency is wait/target so
	// that a service with a short target is served sooner. Missing
	// services count with DefaultTarget (20 min).
	Targets map[string]time.Duration
}

// FairPolicy is Sportello's policy. In order:
//  0. a walk-in about to reach MaxWait, earliest first: the bound is
//     absolute;
//  1. last chance: a checked-in appointment whose time in the backward
//     schedule has come (see Observe), earliest deadline first;
//  2. walk-ins that waited Guard or more, oldest first;
//  3. checked-in appointments within AppointmentLead of their slot, when
//     that fixed lead is configured instead of the schedule;
//  4. walk-ins (and appointments checked in after their slot) by urgency,
//     highest first: wait ÷ target, the priority head start, and the
//     lateness against the printed estimate;
//  5. appointments that checked in early and are not due yet, earliest
//     slot first: a counter with no walk-in to call takes them.
//
// Ties by arrival, then by number, so the order is total. The keys do not
// depend on the calling counter, so Order (positions) and Pick agree, and
// Pick reads only its arguments and the last Observe, so that the
// ProjectionEstimator can replay it.
type FairPolicy struct {
	cfg FairPolicyConfig
	// From the last Observe.
	skills   map[string]int // open counters per service
	svcTime  map[string]time.Duration
	meanAll  time.Duration
	maxTime  time.Duration
	due      map[string]time.Time // appointment ticket id → when it is due
	promised map[string]time.Time // ticket id → call time its estimate said
	// leadGaps is the lead in completion gaps, from AppointmentGoal.
	leadGaps float64
}

// NewFairPolicy returns the policy with defaults filled in.
func NewFairPolicy(cfg FairPolicyConfig) *FairPolicy {
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = AdviceWait
	}
	if cfg.Guard <= 0 || cfg.Guard > cfg.MaxWait {
		cfg.Guard = cfg.MaxWait * 3 / 5
	}
	if cfg.PriorityWeight <= 0 {
		cfg.PriorityWeight = 3
	}
	if cfg.AppointmentGrace <= 0 {
		cfg.AppointmentGrace = 5 * time.Minute
	}
	if cfg.AppointmentGoal <= 0 || cfg.AppointmentGoal >= 1 {
		cfg.AppointmentGoal = 0.92
	}
	if cfg.PromiseWeight == 0 {
		cfg.PromiseWeight = 3
	}
	if cfg.PromiseWeight < 0 {
		cfg.PromiseWeight = 3
	}
	return &FairPolicy{cfg: cfg, leadGaps: -math.Log(1 - cfg.AppointmentGoal)}
}

// FairPolicyFor builds the fair policy with the targets and typical
// service times of a site.
func FairPolicyFor(site *Site, cfg FairPolicyConfig) *FairPolicy {
	if cfg.Targets == nil {
		cfg.Targets = map[string]time.Duration{}
		for _, s := range site.Services {
			cfg.Targets[s.ID] = s.TargetWait
		}
	}
	p := NewFairPolicy(cfg)
	st := map[string]time.Duration{}
	for _, s := range site.Services {
		st[s.ID] = s.ServiceTime
	}
	p.setServiceTimes(st)
	return p
}

// Name implements Policy.
func (p *FairPolicy) Name() string { return "fair" }

// MaxWait is the policy's hard bound.
func (p *FairPolicy) MaxWait() time.Duration { return p.cfg.MaxWait }

// Config is the policy's configuration with the defaults filled in.
func (p *FairPolicy) Config() FairPolicyConfig { return p.cfg }

// Observe implements OfficeObserver. Besides keeping the counters, the
// service times and the printed estimates, it schedules the waiting
// appointments backwards from their deadlines (slot + grace): each is due
// when its own counters still have time to free one (the lead) before its
// deadline, and with τ, the time between two completions at the open
// counters, τ before the appointment after it by slot is due. Until then
// walk-ins go first; from then on it goes before every walk-in but one at
// the hard bound (its last chance). The schedule, not the deadline alone,
// decides the last chance because appointments come in bunches (every
// booking of a slot has the same deadline): eight due at once with a
// lead of two completions would have most of them late however few the
// walk-ins over the guard. In overload this calls the appointments of a
// bunch one completion apart from their slot on, which is what keeping
// their slots costs; it is still as late as the schedule allows, so that
// the waits they take from walk-ins are the least that keeps them on
// time.
func (p *FairPolicy) Observe(s OfficeState) {
	p.skills = s.Skills()
	p.setServiceTimes(s.ServiceTime)
	p.promised = s.Promised
	p.due = map[string]time.Time{}
	if p.cfg.AppointmentLead > 0 {
		return
	}
	// Rooms and front-office counters are scheduled apart.
	open := map[bool]int{}
	room := map[string]bool{}
	for _, c := range s.Counters {
		if c.State == CounterOpen {
			open[c.Kind == KindRoom]++
		}
		if c.Kind == KindRoom {
			for _, sv := range c.Services {
				room[sv] = true
			}
		}
	}
	var appts []*Ticket
	for _, t := range s.Waiting {
		if onTimeAppointment(t) {
			appts = append(appts, t)
		}
	}
	sort.SliceStable(appts, func(i, j int) bool {
		if !appts[i].Slot.Equal(*appts[j].Slot) {
			return appts[i].Slot.Before(*appts[j].Slot)
		}
		return arrivalBefore(appts[i], appts[j])
	})
	// Backwards from the last: each must be called by its deadline less
	// its counters' lead, and τ before the one after it.
	next := map[bool]time.Time{}
	for i := len(appts) - 1; i >= 0; i-- {
		t := appts[i]
		g := room[t.Service]
		n := open[g]
		if n == 0 {
			n = 1
		}
		st := p.meanAll
		if g {
			st = p.svcTime[t.Service]
		}
		tau := st / time.Duration(n)
		due := t.Slot.Add(p.cfg.AppointmentGrace - p.lead(t.Service))
		if nx, ok := next[g]; ok && nx.Add(-tau).Before(due) {
			due = nx.Add(-tau)
		}
		p.due[t.ID] = due
		next[g] = due
	}
}

// onTimeAppointment: an appointment keeps its slot only if it checked in
// by then; one that came late queues like a walk-in from its check-in.
func onTimeAppointment(t *Ticket) bool { return t.Slot != nil && !t.Arrival.After(*t.Slot) }

func (p *FairPolicy) setServiceTimes(st map[string]time.Duration) {
	p.svcTime = st
	var sum time.Duration
	n := 0
	p.maxTime = 0
	for _, d := range st {
		if d > 0 {
			sum += d
			n++
		}
		if d > p.maxTime {
			p.maxTime = d
		}
	}
	p.meanAll = 0
	if n > 0 {
		p.meanAll = sum / time.Duration(n)
	}
}

// Ranking classes, most urgent first.
const (
	classBound = iota
	classLastChance
	classGuard
	classAppointmentDue
	classWalkIn
	classAppointmentEarly
)

type rank struct {
	class int
	key   float64 // higher first
}

func (p *FairPolicy) rank(now time.Time, t *Ticket) rank {
	wait := now.Sub(t.Arrival)
	if onTimeAppointment(t) {
		deadline := t.Slot.Add(p.cfg.AppointmentGrace)
		switch {
		case !now.Before(p.lastChanceAt(t, deadline)):
			return rank{classLastChance, -unixMinutes(deadline)}
		case wait >= p.cfg.Guard:
			return rank{classGuard, wait.Seconds()}
		case !now.Before(p.dueAt(t)):
			return rank{classAppointmentDue, -unixMinutes(*t.Slot)}
		}
		return rank{classAppointmentEarly, -unixMinutes(*t.Slot)}
	}
	if deadline := t.Arrival.Add(p.cfg.MaxWait); !now.Before(deadline.Add(-p.drain(t.Service))) {
		return rank{classBound, -unixMinutes(deadline)}
	}
	if wait >= p.cfg.Guard {
		return rank{classGuard, wait.Seconds()}
	}
	return rank{classWalkIn, p.urgency(wait, t)}
}

func unixMinutes(t time.Time) float64 { return float64(t.UnixNano()) / 6e10 }

// lastChanceAt is when a checked-in appointment goes ahead of walk-ins
// over the guard: its time in the backward schedule, at the latest its
// deadline less its counters' lead.
func (p *FairPolicy) lastChanceAt(t *Ticket, deadline time.Time) time.Time {
	lc := deadline.Add(-p.lead(t.Service))
	if d, ok := p.due[t.ID]; ok && d.Before(lc) {
		return d
	}
	return lc
}

// dueAt is when a checked-in appointment goes ahead of walk-ins.
func (p *FairPolicy) dueAt(t *Ticket) time.Time {
	if p.cfg.AppointmentLead > 0 {
		return t.Slot.Add(-p.cfg.AppointmentLead)
	}
	if d, ok := p.due[t.ID]; ok {
		return d
	}
	// Not scheduled yet (an expected check-in in the projection).
	return t.Slot.Add(p.cfg.AppointmentGrace - p.lead(t.Service))
}

// lead is the margin an appointment needs for one of the open counters
// serving its service to free up: leadGaps mean gaps between their
// completions (mean service time over their number), at least 30 s. With
// completions coming as a Poisson stream, none comes within k gaps with
// probability e^−k, so k = −ln(1 − AppointmentGoal) gaps miss the goal's
// complement of the time (2.5 gaps at the default 92 %): the margin
// follows the standard, not an office.
func (p *FairPolicy) lead(service string) time.Duration {
	st := p.meanAll
	if st <= 0 {
		st = p.svcTime[service]
	}
	n := 1
	if p.skills[service] > 0 {
		n = p.skills[service]
	}
	l := time.Duration(p.leadGaps * float64(st) / float64(n))
	if l < 30*time.Second {
		l = 30 * time.Second
	}
	return l
}

// drain is how long the counters serving service may take, at worst, to
// free one of them: twice the longest mean service time over their
// number, but never more than from the guard to the bound (an office with
// one counter and long services would otherwise have every walk-in at its
// bound). A walk-in this close to the hard bound goes first.
func (p *FairPolicy) drain(service string) time.Duration {
	n := 1
	if p.skills[service] > 0 {
		n = p.skills[service]
	}
	d := 2 * p.maxTime / time.Duration(n)
	if m := p.cfg.MaxWait - p.cfg.Guard; d > m {
		d = m
	}
	return d
}

// urgency is a walk-in's key in the walk-in class: its wait in units of
// its service's target; a priority ticket's first target's worth counts
// PriorityWeight times (beyond it the head start stays fixed, so that in
// overload the order tends to first come, first served); and the lateness
// against its printed estimate counts PromiseWeight times more.
func (p *FairPolicy) urgency(wait time.Duration, t *Ticket) float64 {
	target := p.target(t.Service).Seconds()
	w := wait.Seconds() / target
	u := w
	if t.Prio != PriorityNone && t.Prio != "" {
		u += (p.cfg.PriorityWeight - 1) * math.Min(w, 1)
	}
	if p.cfg.PromiseWeight > 0 {
		if at, ok := p.promised[t.ID]; ok {
			if late := wait - at.Sub(t.Arrival); late > 0 {
				u += p.cfg.PromiseWeight * late.Seconds() / target
			}
		}
	}
	return u
}

func (p *FairPolicy) target(service string) time.Duration {
	if t := p.cfg.Targets[service]; t > 0 {
		return t
	}
	return DefaultTarget
}

// DefaultTarget is the target wait of a service that has none.
const DefaultTarget = 20 * time.Minute

func rankBefore(ra, rb rank, a, b *Ticket) bool {
	if ra.class != rb.class {
		return ra.class < rb.class
	}
	if ra.key != rb.key {
		return ra.key > rb.key
	}
	return arrivalBefore(a, b)
}

// Pick implements Policy.
func (p *FairPolicy) Pick(now time.Time, c *Counter, eligible []*Ticket) *Ticket {
	best, br := eligible[0], p.rank(now, eligible[0])
	for _, t := range eligible[1:] {
		if r := p.rank(now, t); rankBefore(r, br, t, best) {
			best, br = t, r
		}
	}
	return best
}

// Order implements Policy. Each ticket's rank is computed once, not at
// every comparison: the queue view is rebuilt after every commit.
func (p *FairPolicy) Order(now time.Time, waiting []*Ticket) {
	type ranked struct {
		r rank
		t *Ticket
	}
	rs := make([]ranked, len(waiting))
	for i, t := range waiting {
		rs[i] = ranked{p.rank(now, t), t}
	}
	sort.Slice(rs, func(i, j int) bool { return rankBefore(rs[i].r, rs[j].r, rs[i].t, rs[j].t) })
	for i := range rs {
		waiting[i] = rs[i].t
	}
}

// FIFOPolicy calls the longest-waiting eligible ticket: the reference that
// most systems implement.
type FIFOPolicy struct{}

// Name implements Policy.
func (FIFOPolicy) Name() string { return "fifo" }

// Pick implements Policy.
func (FIFOPolicy) Pick(now time.Time, c *Counter, eligible []*Ticket) *Ticket {
	best := eligible[0]
	for _, t := range eligible[1:] {
		if arrivalBefore(t, best) {
			best = t
		}
	}
	return best
}

// Order implements Policy.
func (FIFOPolicy) Order(now time.Time, waiting []*Ticket) {
	sort.SliceStable(waiting, func(i, j int) bool { return arrivalBefore(waiting[i], waiting[j]) })
}

// arrivalBefore is the total tie-break: arrival, then number, then id.
func arrivalBefore(a, b *Ticket) bool {
	if !a.Arrival.Equal(b.Arrival) {
		return a.Arrival.Before(b.Arrival)
	}
	if a.Number != b.Number {
		return a.Number < b.Number
	}
	return a.ID < b.ID
}
