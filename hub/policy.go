package hub

import (
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

// FairPolicyConfig tunes FairPolicy. Zero values take the defaults.
type FairPolicyConfig struct {
	// MaxWait is the hard bound: a ticket waiting this long is called
	// before anything else, oldest first. Default 60 min.
	MaxWait time.Duration
	// PriorityWeight makes a priority ticket's wait count this many times
	// a normal one's (aging with a head start, never strict priority).
	// Default 2.
	PriorityWeight float64
	// AppointmentEarly is how long before its slot an appointment starts
	// to go ahead of walk-ins. Default 5 min.
	AppointmentEarly time.Duration
	// Targets gives each service's target wait; urgency is wait/target so
	// that a service with a short target is served sooner. Missing
	// services count with DefaultTarget (20 min).
	Targets map[string]time.Duration
}

// FairPolicy is Sportello's policy. In order:
//  1. anybody who waited MaxWait or more, oldest arrival first — the bound
//     that keeps everybody from starving;
//  2. appointments whose slot is near (from AppointmentEarly before it),
//     earliest slot first;
//  3. everyone else by urgency = wait / target × weight (priority
//     categories weigh PriorityWeight), highest first;
//
// ties by arrival, then by number, so the order is total.
type FairPolicy struct {
	cfg FairPolicyConfig
}

// NewFairPolicy returns the policy with defaults filled in.
func NewFairPolicy(cfg FairPolicyConfig) *FairPolicy {
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = 60 * time.Minute
	}
	if cfg.PriorityWeight <= 0 {
		cfg.PriorityWeight = 2
	}
	if cfg.AppointmentEarly <= 0 {
		cfg.AppointmentEarly = 5 * time.Minute
	}
	return &FairPolicy{cfg: cfg}
}

// FairPolicyFor builds the fair policy with the targets of a site.
func FairPolicyFor(site *Site, cfg FairPolicyConfig) *FairPolicy {
	if cfg.Targets == nil {
		cfg.Targets = map[string]time.Duration{}
		for _, s := range site.Services {
			cfg.Targets[s.ID] = s.TargetWait
		}
	}
	return NewFairPolicy(cfg)
}

// Name implements Policy.
func (p *FairPolicy) Name() string { return "fair" }

// MaxWait is the policy's hard bound.
func (p *FairPolicy) MaxWait() time.Duration { return p.cfg.MaxWait }

type rank struct {
	class int // 0 = over the bound, 1 = appointment due, 2 = the rest
	key   float64
}

func (p *FairPolicy) rank(now time.Time, t *Ticket) rank {
	wait := now.Sub(t.Arrival)
	if wait >= p.cfg.MaxWait {
		return rank{0, wait.Seconds()}
	}
	if t.Slot != nil && !now.Before(t.Slot.Add(-p.cfg.AppointmentEarly)) {
		return rank{1, -float64(t.Slot.Unix())}
	}
	target := p.cfg.Targets[t.Service]
	if target <= 0 {
		target = DefaultTarget
	}
	u := wait.Seconds() / target.Seconds()
	if t.Prio != PriorityNone && t.Prio != "" {
		u *= p.cfg.PriorityWeight
	}
	return rank{2, u}
}

// DefaultTarget is the target wait of a service that has none.
const DefaultTarget = 20 * time.Minute

func (p *FairPolicy) before(now time.Time, a, b *Ticket) bool {
	ra, rb := p.rank(now, a), p.rank(now, b)
	if ra.class != rb.class {
		return ra.class < rb.class
	}
	if ra.key != rb.key {
		return ra.key > rb.key
	}
	return arrivalBefore(a, b)
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

// Pick implements Policy.
func (p *FairPolicy) Pick(now time.Time, c *Counter, eligible []*Ticket) *Ticket {
	best := eligible[0]
	for _, t := range eligible[1:] {
		if p.before(now, t, best) {
			best = t
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
	sort.Slice(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		if a.r.class != b.r.class {
			return a.r.class < b.r.class
		}
		if a.r.key != b.r.key {
			return a.r.key > b.r.key
		}
		return arrivalBefore(a.t, b.t)
	})
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
