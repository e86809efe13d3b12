package sim

import (
	"math"
	"sort"
	"sync"
	"time"

	"github.com/comune-rc/sportello/hub"
)

// PolicyIDs is the row order of the report (README §7, §11.2).
var PolicyIDs = []string{"R", "R2", "B0", "B1", "B2", "B2m", "B3", "P"}

// DefaultPolicies are run when --policy is not given.
var DefaultPolicies = []string{"R", "R2", "B0", "B1", "B2", "B2m", "B3", "P"}

func knownPolicy(id string) bool {
	for _, p := range PolicyIDs {
		if p == id {
			return true
		}
	}
	return false
}

// registry maps the engine's ticket ids to the simulator's visitors, so
// that the reference policies can read the ticket number, kind and slot
// (all visible to any ticket system). The engine's periodic refresh may
// call Order from its writer goroutine while the simulator registers a
// ticket, hence the lock.
type registry struct {
	mu      sync.RWMutex
	byID    map[string]*Visitor
	clock   *simClock
	sc      *Scenario
	homeOf  map[string]int // counter id → home service
	callsOf map[string]int // counter id → consecutive priority calls (B3)
}

func (r *registry) get(id string) *Visitor {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.byID[id]
}

func (r *registry) put(id string, v *Visitor) {
	r.mu.Lock()
	r.byID[id] = v
	r.mu.Unlock()
}

// refPolicy implements hub.Policy for the reference policies R, R2, B0,
// B1, B2, B2m and B3 through the same engine interface as the product's.
type refPolicy struct {
	id  string
	reg *registry
}

func (p *refPolicy) Name() string { return "sim-" + p.id }

// key returns the sort key of ticket v for counter home (smaller first).
func (p *refPolicy) key(v *Visitor, home int) [5]float64 {
	n := float64(v.Num)
	switch p.id {
	case "R2":
		return [5]float64{p.mean(v), n}
	case "B2", "B2m":
		a, s := 1.0, 0.0
		if v.Kind == KindAppt {
			a, s = 0, v.Slot
		}
		if p.id == "B2m" {
			a = 1 - a
		}
		h := 1.0
		if v.Service == home {
			h = 0
		}
		pr := 1.0
		if v.Kind == KindWalkIn && v.Priority {
			pr = 0
		}
		return [5]float64{a, s, h, pr, n}
	}
	return [5]float64{n}
}

func (p *refPolicy) mean(v *Visitor) float64 {
	if v.Service < 0 {
		return p.reg.sc.Room.Mean
	}
	return p.reg.sc.Services[v.Service].Mean
}

func less(a, b [5]float64) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// Pick implements hub.Policy.
func (p *refPolicy) Pick(now time.Time, c *hub.Counter, eligible []*hub.Ticket) *hub.Ticket {
	vs := make([]*Visitor, len(eligible))
	for i, t := range eligible {
		vs[i] = p.reg.get(t.ID)
		if vs[i] == nil {
			return nil // not yet known: cannot happen on CallNext
		}
	}
	home := p.reg.homeOf[c.ID]
	best := -1
	if p.id == "B3" {
		best = p.pickB3(c.ID, vs, home)
	} else {
		for i, v := range vs {
			if best < 0 || less(p.key(v, home), p.key(vs[best], home)) {
				best = i
			}
		}
	}
	if best < 0 {
		return nil
	}
	return eligible[best]
}

// pickB3 applies the Qmatic-like rules of README §7.2 and updates the
// counter's consecutive-priority count.
func (p *refPolicy) pickB3(counter string, vs []*Visitor, home int) int {
	t := p.reg.clock.minutes()
	pick := func(ok func(v *Visitor) bool, bySlot bool) int {
		best := -1
		for i, v := range vs {
			if !ok(v) {
				continue
			}
			if best < 0 {
				best = i
				continue
			}
			b := vs[best]
			if bySlot && v.Slot != b.Slot {
				if v.Slot < b.Slot {
					best = i
				}
				continue
			}
			if v.Num < b.Num {
				best = i
			}
		}
		return best
	}
	appt := func(v *Visitor) bool { return v.HasSlot }
	prio := func(v *Visitor) bool { return v.Walk() && v.Priority }
	normal := func(v *Visitor) bool { return v.Walk() && !v.Priority }
	var got int
	consecutive := p.reg.callsOf[counter]
	if i := pick(func(v *Visitor) bool { return appt(v) && v.Slot <= t+2 }, true); i >= 0 {
		got = i
	} else if i := pick(prio, false); i >= 0 && consecutive < 2 {
		got = i
	} else if i := pick(func(v *Visitor) bool { return normal(v) && v.Service == home }, false); i >= 0 {
		got = i
	} else if i := pick(normal, false); i >= 0 {
		got = i
	} else if i := pick(prio, false); i >= 0 {
		got = i
	} else {
		got = pick(appt, true)
	}
	if got >= 0 {
		if prio(vs[got]) {
			p.reg.callsOf[counter] = consecutive + 1
		} else {
			p.reg.callsOf[counter] = 0
		}
	}
	return got
}

// Order implements hub.Policy: ticket-number order (the reference
// policies' queue positions are not scored).
// Each ticket's number is looked up once, not at every comparison.
func (p *refPolicy) Order(now time.Time, waiting []*hub.Ticket) {
	type numbered struct {
		num float64
		t   *hub.Ticket
	}
	ns := make([]numbered, len(waiting))
	p.reg.mu.RLock()
	for i, t := range waiting {
		ns[i] = numbered{math.Inf(1), t}
		if v := p.reg.byID[t.ID]; v != nil {
			ns[i].num = float64(v.Num)
		}
	}
	p.reg.mu.RUnlock()
	sort.SliceStable(ns, func(i, j int) bool { return ns[i].num < ns[j].num })
	for i := range ns {
		waiting[i] = ns[i].t
	}
}
