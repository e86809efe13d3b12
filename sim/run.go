package sim

import (
	"container/heap"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"sort"
	"sync/atomic"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/memstore"
)

// simClock is the simulated time in minutes since open; the engine's Clock
// reads it. It is atomic because the engine's writer goroutine reads it.
type simClock struct {
	bits atomic.Uint64
	base time.Time
}

func (c *simClock) minutes() float64 { return math.Float64frombits(c.bits.Load()) }
func (c *simClock) set(t float64)    { c.bits.Store(math.Float64bits(t)) }
func (c *simClock) now() time.Time {
	return c.base.Add(time.Duration(math.Round(c.minutes() * float64(time.Minute))))
}

// Event ranks (README §6.2).
const (
	evComplete = iota
	evBreakEnd
	evOutageEnd
	evOutageStart
	evBreakDue
	evArrival
	evTick
)

type event struct {
	t       float64
	rank    int
	seq     int
	counter int
	v       *Visitor
}

type eventQueue []*event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	a, b := q[i], q[j]
	if a.t != b.t {
		return a.t < b.t
	}
	if a.rank != b.rank {
		return a.rank < b.rank
	}
	return a.seq < b.seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(*event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

type cstate int

const (
	stIdle cstate = iota
	stBusy
	stBreak
	stClosed
)

type counterRT struct {
	spec         *CounterSpec
	id, clerk    string
	eligible     []int // service indexes; -1 = room service
	eligibleSet  map[int]bool
	state        cstate
	breakPending bool
	closePending bool
	idleSince    float64
	cur          *Visitor
	curPresent   bool
}

// Record is the outcome of one ticket.
type Record struct {
	V         *Visitor
	Call      float64 // call time (or hard-stop time)
	Called    bool
	Present   bool
	Skipped   bool
	Counter   int
	Pred      [nPred]float64 // EWT predictions at issue (front-office walk-ins)
	Advice    bool           // the ticket carried the overload advice at issue
	Completed float64
}

// Predictors of README §10.2, in report order.
var PredNames = []string{"QL", "LES", "HOL", "AVG10", "P"}

const nPred = 5

// DayResult is one simulated day under one policy.
type DayResult struct {
	Day        int
	Records    []*Record // in ticket-number order
	FrontEnd   float64   // last front-office COMPLETE
	RoomEnd    float64
	Unfinished int
}

// engineIDs maps the scenario to valid engine ids.
func svcEngineID(i int) string {
	if i < 0 {
		return "ROOM"
	}
	return fmt.Sprintf("S%d", i)
}

func prefix(i int) string {
	// A, B, …, Z, AA, AB, …: unique 1–3 uppercase letters.
	s := ""
	i++
	for i > 0 {
		i--
		s = string(rune('A'+i%26)) + s
		i /= 26
	}
	return s
}

func clampDur(m float64) time.Duration {
	d := time.Duration(m * float64(time.Minute))
	if d < time.Second {
		d = time.Second
	}
	if d > 480*time.Minute {
		d = 480 * time.Minute
	}
	return d
}

// eligibleSet returns counter c's eligible services under policy (§6.1).
func (sc *Scenario) eligibleFor(c *CounterSpec, policy string) []int {
	if c.Room {
		return []int{-1}
	}
	switch policy {
	case "R", "R2":
		all := make([]int, len(sc.Services))
		for i := range all {
			all[i] = i
		}
		return all
	case "B0":
		return []int{c.Line}
	}
	return append([]int(nil), c.Services...)
}

// Site builds the engine's site for a policy: the counters' skill sets
// are the eligible sets of §6.1.
func (sc *Scenario) Site(policy string) *hub.Site {
	s := &hub.Site{ID: "sim", Name: hub.Text{IT: sc.Name, EN: sc.Name}, Comune: "Comune di Reggio Calabria", Timezone: "UTC", Seats: sc.Seats}
	for i, sv := range sc.Services {
		s.Services = append(s.Services, hub.Service{ID: svcEngineID(i), Prefix: prefix(i), Name: hub.Text{IT: sv.ID, EN: sv.ID}, Category: hub.Dispositivo, TargetWait: sv.target(), ServiceTime: clampDur(sv.Mean)})
	}
	if sc.HasRooms {
		s.Services = append(s.Services, hub.Service{ID: svcEngineID(-1), Prefix: prefix(len(sc.Services)), Name: hub.Text{IT: sc.Room.ID, EN: sc.Room.ID}, Category: hub.Informativo, TargetWait: sc.Room.target(), ServiceTime: clampDur(sc.Room.Mean), Room: true})
	}
	if sc.HasBreaks && sc.BreakLength > 0 {
		// §3.6 counts the break from the opening; the site from midnight.
		s.Breaks = &hub.BreakPlan{Length: time.Duration(sc.BreakLength * float64(time.Minute)), First: time.Duration(sc.Open)*time.Minute + time.Duration(sc.BreakFirst*float64(time.Minute)), Stagger: time.Duration(sc.BreakStagger * float64(time.Minute)), Waves: sc.BreakWaves}
	}
	for i := range sc.Counters {
		c := &sc.Counters[i]
		def := hub.CounterDef{ID: fmt.Sprintf("c%d", c.Num), Kind: hub.KindCounter, Name: hub.Text{IT: c.ID, EN: c.ID}}
		if c.Room {
			def.Kind = hub.KindRoom
		}
		for _, k := range sc.eligibleFor(c, policy) {
			def.Services = append(def.Services, svcEngineID(k))
		}
		s.Counters = append(s.Counters, def)
	}
	return s
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type daySim struct {
	sc       *Scenario
	policy   string
	eng      *hub.Engine
	clock    *simClock
	reg      *registry
	ctx      context.Context
	q        eventQueue
	seq      int
	counters []*counterRT
	waiting  map[*Visitor]*Record
	waitCnt  map[int]int // service → waiting tickets
	ids      map[*Visitor]string
	codes    map[*Visitor]string
	recs     []*Record
	arrived  int
	busy     int
	res      *DayResult
	// EWT history, per front-office service, current day only.
	lastServed map[int]float64
	served10   map[int][]float64
}

func (d *daySim) push(t float64, rank, counter int, v *Visitor) {
	d.seq++
	heap.Push(&d.q, &event{t: t, rank: rank, seq: d.seq, counter: counter, v: v})
}

// RunDay simulates one generated day under policy through the real engine.
func (sc *Scenario) RunDay(ctx context.Context, day *Day, policy string) (*DayResult, error) {
	site := sc.Site(policy)
	if err := site.Validate(); err != nil {
		return nil, fmt.Errorf("sim: site for %s: %w", policy, err)
	}
	clock := &simClock{base: time.Date(2026, 1, 1, sc.Open/60, sc.Open%60, 0, 0, time.UTC).AddDate(0, 0, day.Index)}
	reg := &registry{byID: map[string]*Visitor{}, clock: clock, sc: sc, homeOf: map[string]int{}, callsOf: map[string]int{}}
	for _, c := range sc.Counters {
		reg.homeOf[fmt.Sprintf("c%d", c.Num)] = c.Home
	}
	var pol hub.Policy
	var est hub.Estimator
	if policy == "P" {
		pol = hub.FairPolicyFor(site, hub.FairPolicyConfig{})
		// The break plan reaches the projection through the site, as in
		// the hub (Site.Breaks).
		est = hub.NewProjectionEstimator()
	} else {
		// The reference policies keep state of their own and read the
		// simulator's registry, so the projection cannot replay them: they
		// get the engine's simple capacity estimate (the P predictor is
		// meaningful only under P).
		pol = &refPolicy{id: policy, reg: reg}
		est = hub.CapacityEstimator{}
	}
	eng, err := hub.New(hub.Config{Site: site, Store: memstore.New(memstore.Options{KeepEvents: 1000}), Clock: clock.now, Policy: pol, Estimator: est, MaxBatch: 1, Logger: quiet})
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	d := &daySim{sc: sc, policy: policy, eng: eng, clock: clock, reg: reg, ctx: ctx, waiting: map[*Visitor]*Record{}, waitCnt: map[int]int{}, ids: map[*Visitor]string{}, codes: map[*Visitor]string{}, res: &DayResult{Day: day.Index}, lastServed: map[int]float64{}, served10: map[int][]float64{}}
	if err := d.setup(day); err != nil {
		return nil, err
	}
	if err := d.loop(len(day.Visitors)); err != nil {
		return nil, err
	}
	d.res.Records = d.recs
	return d.res, nil
}

func (d *daySim) setup(day *Day) error {
	sc := d.sc
	// Bookings are known from opening.
	for _, b := range day.Bookings {
		a, err := d.eng.Book(d.ctx, hub.BookRequest{Service: svcEngineID(b.Service), Slot: d.clock.base.Add(time.Duration(b.Slot * float64(time.Minute))), Channel: hub.ChannelWeb, By: "sim"})
		if err != nil {
			return fmt.Errorf("sim: book: %w", err)
		}
		if b.Visitor != nil {
			d.codes[b.Visitor] = a.Code
		}
	}
	for i := range sc.Counters {
		c := &sc.Counters[i]
		rt := &counterRT{spec: c, id: fmt.Sprintf("c%d", c.Num), clerk: fmt.Sprintf("clerk%d", c.Num), eligible: sc.eligibleFor(c, d.policy), eligibleSet: map[int]bool{}}
		for _, k := range rt.eligible {
			rt.eligibleSet[k] = true
		}
		if _, err := d.eng.OpenCounter(d.ctx, rt.id, rt.clerk); err != nil {
			return fmt.Errorf("sim: open %s: %w", c.ID, err)
		}
		d.counters = append(d.counters, rt)
	}
	for _, v := range day.Visitors {
		d.push(v.Arrival, evArrival, -1, v)
	}
	if sc.HasBreaks {
		for i, c := range d.counters {
			if c.spec.Room {
				continue
			}
			k := c.spec.Num
			d.push(sc.BreakFirst+float64((k-1)%sc.BreakWaves)*sc.BreakStagger, evBreakDue, i, nil)
		}
	}
	for _, o := range sc.Outages {
		d.push(o.From, evOutageStart, o.Counter, nil)
		if o.HasUntil {
			d.push(o.To, evOutageEnd, o.Counter, nil)
		}
	}
	d.push(1, evTick, -1, nil)
	return nil
}

func (d *daySim) loop(nVisitors int) error {
	for d.q.Len() > 0 {
		if err := d.ctx.Err(); err != nil {
			return err
		}
		ev := heap.Pop(&d.q).(*event)
		d.clock.set(ev.t)
		var err error
		switch ev.rank {
		case evComplete:
			err = d.complete(ev.counter)
		case evBreakEnd:
			c := d.counters[ev.counter]
			if c.state == stBreak {
				err = d.toIdle(c, ev.t)
			}
		case evOutageEnd:
			c := d.counters[ev.counter]
			if c.state == stClosed {
				err = d.toIdle(c, ev.t)
			} else if c.state == stBusy && c.closePending {
				c.closePending = false
			}
		case evOutageStart:
			c := d.counters[ev.counter]
			switch c.state {
			case stIdle, stBreak:
				c.state = stClosed
				_, err = d.eng.CloseCounter(d.ctx, c.id, c.clerk)
			case stBusy:
				c.closePending, c.breakPending = true, false
			}
		case evBreakDue:
			c := d.counters[ev.counter]
			switch {
			case c.state == stIdle:
				err = d.toBreak(c, ev.t)
			case c.state == stBusy && !c.closePending:
				c.breakPending = true
			}
		case evArrival:
			err = d.arrive(ev.v)
		case evTick:
			if ev.t >= d.sc.hardStop() && len(d.waiting) > 0 {
				d.hardStop(ev.t)
			}
			d.push(ev.t+1, evTick, -1, nil)
		}
		if err != nil {
			return err
		}
		if err := d.dispatch(ev.t); err != nil {
			return err
		}
		if d.arrived == nVisitors && len(d.waiting) == 0 && d.busy == 0 {
			return nil
		}
	}
	return nil
}

func (d *daySim) toIdle(c *counterRT, t float64) error {
	c.state, c.idleSince = stIdle, t
	_, err := d.eng.OpenCounter(d.ctx, c.id, c.clerk)
	return err
}

func (d *daySim) toBreak(c *counterRT, t float64) error {
	c.state, c.breakPending = stBreak, false
	d.push(t+d.sc.BreakLength, evBreakEnd, c.spec.Num-1, nil)
	_, err := d.eng.PauseCounter(d.ctx, c.id, c.clerk, "break")
	return err
}

func (d *daySim) hardStop(t float64) {
	for v, r := range d.waiting {
		r.Call, r.Called, r.Present = t, true, false
		d.res.Unfinished++
		delete(d.waiting, v)
		d.waitCnt[v.Service]--
		if id, ok := d.ids[v]; ok {
			_, _ = d.eng.Cancel(d.ctx, id, "sim")
		}
	}
}

// predict computes the harness predictors of README §10.2 for a new
// front-office walk-in of service s, before it joins the waiting set.
func (d *daySim) predict(v *Visitor, r *Record) {
	s := v.Service
	now := d.clock.minutes()
	n := d.waitCnt[s]
	cs := 0
	for _, c := range d.counters {
		if (c.state == stIdle || c.state == stBusy) && c.eligibleSet[s] {
			cs++
		}
	}
	r.Pred[0] = float64(n+1) * d.sc.Services[s].Mean / math.Max(1, float64(cs))
	walkWaiting, hol := false, 0.0
	for w := range d.waiting {
		if w.Kind == KindWalkIn && w.Service == s {
			walkWaiting = true
			if e := now - w.Arrival; e > hol {
				hol = e
			}
		}
	}
	if walkWaiting {
		r.Pred[1] = d.lastServed[s]
	}
	r.Pred[2] = hol
	if h := d.served10[s]; len(h) > 0 {
		sum := 0.0
		for _, x := range h {
			sum += x
		}
		r.Pred[3] = sum / float64(len(h))
	}
}

func (d *daySim) arrive(v *Visitor) error {
	d.arrived++
	r := &Record{V: v, Counter: -1}
	if v.Kind == KindWalkIn {
		d.predict(v, r)
	}
	req := hub.IssueRequest{Service: svcEngineID(v.Service), By: "totem", Channel: hub.ChannelTotem}
	if v.Priority {
		req.Priority = hub.PriorityOther
	}
	if code, ok := d.codes[v]; ok {
		req.Appointment = code
	}
	t, _, err := d.eng.Issue(d.ctx, req)
	if err != nil {
		return fmt.Errorf("sim: issue ticket %d: %w", v.Num, err)
	}
	d.reg.put(t.ID, v)
	d.ids[v] = t.ID
	if v.Kind == KindWalkIn {
		tv, err := d.eng.Ticket(t.ID)
		if err != nil {
			return err
		}
		r.Pred[4] = tv.EWT.Minutes()
		r.Advice = tv.Advice()
	}
	d.waiting[v] = r
	d.waitCnt[v.Service]++
	d.recs = append(d.recs, r)
	return nil
}

// dispatch is README §6.3: idle counters, longest idle first, one pass.
func (d *daySim) dispatch(t float64) error {
	if len(d.waiting) == 0 {
		return nil
	}
	idle := make([]*counterRT, 0, len(d.counters))
	for _, c := range d.counters {
		if c.state == stIdle {
			idle = append(idle, c)
		}
	}
	sort.SliceStable(idle, func(i, j int) bool {
		if idle[i].idleSince != idle[j].idleSince {
			return idle[i].idleSince < idle[j].idleSince
		}
		return idle[i].spec.Num < idle[j].spec.Num
	})
	for _, c := range idle {
		if len(d.waiting) == 0 {
			break
		}
		any := false
		for _, k := range c.eligible {
			if d.waitCnt[k] > 0 {
				any = true
				break
			}
		}
		if !any {
			continue
		}
		tk, err := d.eng.CallNext(d.ctx, c.id, c.clerk)
		if err != nil {
			return fmt.Errorf("sim: call next at %s: %w", c.spec.ID, err)
		}
		if tk == nil {
			continue
		}
		v := d.reg.get(tk.ID)
		if v == nil {
			return fmt.Errorf("sim: engine called unknown ticket %s", tk.ID)
		}
		if !c.eligibleSet[v.Service] {
			return fmt.Errorf("sim: policy %s called %s at %s, outside its eligible set", d.policy, d.sc.ServiceID(v), c.spec.ID)
		}
		if err := d.call(c, v, t); err != nil {
			return err
		}
	}
	return nil
}

func (d *daySim) call(c *counterRT, v *Visitor, t float64) error {
	r := d.waiting[v]
	delete(d.waiting, v)
	d.waitCnt[v.Service]--
	r.Call, r.Called, r.Counter = t, true, c.spec.Num-1
	if v.Walk() {
		// Skip (§9.5): waiting walk-ins of the same class with a lower
		// number that this counter could have served.
		for w, wr := range d.waiting {
			if w.Walk() && w.Num < v.Num && w.Priority == v.Priority && c.eligibleSet[w.Service] {
				wr.Skipped = true
			}
		}
	}
	present := !(v.Walk() && (v.Absent || t-v.Arrival > v.Patience))
	r.Present = present
	dur := v.ServiceTime
	if !present {
		dur = d.sc.AbsentCall
	} else {
		if _, err := d.eng.Start(d.ctx, c.id, c.clerk); err != nil {
			return err
		}
		if v.Kind == KindWalkIn {
			w := t - v.Arrival
			d.lastServed[v.Service] = w
			h := append(d.served10[v.Service], w)
			if len(h) > 10 {
				h = h[len(h)-10:]
			}
			d.served10[v.Service] = h
		}
	}
	c.state, c.cur, c.curPresent = stBusy, v, present
	d.busy++
	d.push(t+dur, evComplete, c.spec.Num-1, nil)
	return nil
}

func (d *daySim) complete(ci int) error {
	c := d.counters[ci]
	t := d.clock.minutes()
	var err error
	if c.curPresent {
		_, err = d.eng.Finish(d.ctx, c.id, c.clerk, hub.FinishRequest{})
	} else {
		_, err = d.eng.NoShow(d.ctx, c.id, c.clerk)
	}
	if err != nil {
		return err
	}
	if c.spec.Room {
		d.res.RoomEnd = math.Max(d.res.RoomEnd, t)
	} else {
		d.res.FrontEnd = math.Max(d.res.FrontEnd, t)
	}
	c.cur = nil
	d.busy--
	switch {
	case c.closePending:
		c.state, c.closePending = stClosed, false
		_, err = d.eng.CloseCounter(d.ctx, c.id, c.clerk)
	case c.breakPending:
		err = d.toBreak(c, t)
	default:
		c.state, c.idleSince = stIdle, t
	}
	return err
}
