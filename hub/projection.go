package hub

import (
	"math"
	"sort"
	"time"
)

// ProjectionEstimator estimates waits by running the office forward: a
// fast deterministic replay of the engine's own policy over the waiting
// tickets, the bookings still to check in and the walk-ins expected at the
// rate seen so far, with the counters as they are now. The service times
// are the site's typical ones (see learner.observe for why they are not
// learnt from the visits finished so far); the rest is learnt online from
// the day's events (how often a called walk-in is gone, how long a pause
// lasts, the arrival rates, how many bookings come and how early). Its
// errors at issue are fed back into a bias correction by size of the
// estimate.
//
// The projection calls Policy.Pick on pseudo-tickets: the policy must
// decide from its arguments and the last Observe only (FairPolicy and
// FIFOPolicy do), and must not keep them, since the projection reuses
// their memory. It is stateful: one per engine, one Estimate at a time.
type ProjectionEstimator struct {
	l *learner
	// Pauses is the office's break plan, when it has one (by default the
	// site's, Site.Breaks): the projection
	// sends each counter on its break at the first free moment after it
	// falls due, unless it already paused since. Without a plan it
	// assumes that pauses, once they start, come in rotation.
	Pauses []PlannedPause
	// Horizon bounds the projection; tickets not called within it get the
	// horizon as their estimate. Default 8 h.
	Horizon time.Duration
	// scratch is reused by every Estimate (see projectionScratch).
	scratch projectionScratch
}

// NewProjectionEstimator returns an estimator with nothing learnt.
func NewProjectionEstimator() *ProjectionEstimator {
	return &ProjectionEstimator{}
}

// PlannedPause is one counter's break: due At after midnight (site time),
// for Length.
type PlannedPause struct {
	Counter string
	At      time.Duration
	Length  time.Duration
}

// pseudo is a ticket in the projection: a waiting one, or one expected.
type pseudo struct {
	t    *Ticket
	arr  float64 // minutes from now when it can be called
	real bool
	work float64 // minutes of counter time, for expected ones
	wait float64 // minutes already waited, for waiting ones
}

type pcounter struct {
	c       *Counter
	free    float64 // minutes from now
	idle    float64 // when it became free, for the longest-idle order
	n       int     // site order
	off     bool
	pauseAt float64 // takes a pause when free from then (NaN: none)
	rotates bool    // its return sends the next counter on pause
	// pauseLen is the planned length of that pause (0: the learnt one).
	pauseLen float64
}

// projectionDepth bounds the calls a projection replays one by one: the
// replay costs about the square of the queue, which at office sizes (the
// benchmark's busiest day peaks near 100 waiting) is nothing, but at a
// thousand waiting would hold the single writer for seconds on every
// change. Beyond it the estimates follow each service's projected pace.
const projectionDepth = 200

// maxExpectedWalkIns bounds the walk-ins one projection expects. The
// rate is the last half hour's, at least over five minutes, so a burst (a
// school class, a queue at the door at opening, a test issuing hundreds
// in a second) would have the replay expect tens of thousands over the
// hours it spans, each scanned at every call: seconds on the writer. The
// busiest public scenarios expect under 800 in one projection.
const maxExpectedWalkIns = 3000

// Estimate implements Estimator.
func (p *ProjectionEstimator) Estimate(in EstimateInput) map[string]time.Duration {
	if p.l == nil || p.l.day != in.Now.YearDay() || p.l.year != in.Now.Year() {
		p.l = newLearner(in)
	}
	l := p.l
	l.observe(in)
	pol := in.Policy
	if pol == nil {
		pol = FIFOPolicy{}
	}
	horizon := p.Horizon
	if horizon <= 0 {
		horizon = 8 * time.Hour
	}
	H := horizon.Minutes()
	now := in.Now
	at := func(m float64) time.Time { return now.Add(time.Duration(m * float64(time.Minute))) }

	sc := &p.scratch
	sc.reset()

	// Waiting tickets.
	pool := sc.pool[:0]
	nReal := 0
	qs := make([]string, 0, len(in.Queues))
	for s := range in.Queues {
		qs = append(qs, s)
	}
	sort.Strings(qs)
	for _, s := range qs {
		for _, t := range in.Queues[s] {
			pool = append(pool, sc.pseudos.put(pseudo{t: t, real: true, wait: now.Sub(t.Arrival).Minutes()}))
			nReal++
		}
	}
	defer func() { sc.pool = pool[:0] }()
	out := make(map[string]time.Duration, nReal)
	if nReal == 0 {
		return out
	}
	// Bookings still to check in, at their usual check-in time and
	// weighted by the share of bookings that come, by check-in time (the
	// day's bookings come by slot, so they are in order already). Their
	// pseudo-tickets are made only when they join the pool: most lie
	// beyond the calls the projection replays.
	bks := sc.bookings[:0]
	off := l.checkInOffset()
	for _, a := range in.Office.Booked() {
		arr := a.Slot.Add(off).Sub(now).Minutes()
		if arr < 0 {
			// Not here yet although others would be: less and less likely
			// to come.
			if a.Slot.Sub(now) < -15*time.Minute {
				continue
			}
			arr = 0
		}
		bks = append(bks, booking{a: a, arr: arr, seq: len(bks) + 1})
	}
	sc.bookings = bks
	if !sort.SliceIsSorted(bks, func(i, j int) bool { return bks[i].arr < bks[j].arr }) {
		sort.SliceStable(bks, func(i, j int) bool { return bks[i].arr < bks[j].arr })
	}
	seq := len(bks)
	showRate := l.showRate()
	arrived := func(b booking) *pseudo {
		slot := sc.slots.put(b.a.Slot)
		t := sc.tickets.put(Ticket{ID: sc.bookingID(b.seq), Number: "~", Service: b.a.Service, Prio: b.a.Priority, Arrival: at(b.arr), Slot: slot})
		return sc.pseudos.put(pseudo{t: t, arr: b.arr, work: showRate * l.mean(b.a.Service)})
	}
	// Walk-ins expected at the rate of the last half hour, by service in
	// a fixed order (the projection must not depend on map order).
	var svcs []string
	for s, r := range l.rate {
		if r > 1e-6 {
			svcs = append(svcs, s)
		}
	}
	sort.Strings(svcs)
	rate := make([]float64, len(svcs))
	next := make([]float64, len(svcs))
	prioAcc := make([]float64, len(svcs))
	for i, s := range svcs {
		rate[i] = l.rate[s]
		next[i] = 0.5 / rate[i]
	}
	generated := 0
	// genUntil adds the walk-ins expected by tau to the pool.
	genUntil := func(tau float64) {
		for i, s := range svcs {
			r := rate[i]
			for next[i] <= tau && next[i] < H && generated < maxExpectedWalkIns {
				generated++
				arr := next[i]
				prio := PriorityNone
				prioAcc[i] += l.prioShare()
				if prioAcc[i] >= 1 {
					prioAcc[i]--
					prio = PriorityOther
				}
				seq++
				t := sc.tickets.put(Ticket{ID: sc.walkInID(s, seq), Number: "~", Service: s, Prio: prio, Arrival: at(arr)})
				sc.walk = append(sc.walk, sc.pseudos.put(pseudo{t: t, arr: arr, work: l.walkInWork(s, 0)}))
				next[i] += 1 / r
			}
		}
	}
	fi := 0 // bks[fi:] have not checked in yet

	// Counters as they are now. Pauses come in rotation: while counters
	// are pausing (one started within a pause length), each return from
	// a pause sends one counter that has not paused today on pause, in
	// site order, until none is left.
	var cs, pausers []*pcounter
	pcs := sc.counters(len(in.Counters))
	pm := l.pauseMean()
	pauses := p.Pauses
	if pauses == nil && in.Site != nil {
		pauses = in.Site.PlannedPauses()
	}
	rotating := len(pauses) == 0 && !l.lastPause.IsZero() && now.Sub(l.lastPause).Minutes() < pm
	y, mo, d := now.Date()
	midnight := time.Date(y, mo, d, 0, 0, 0, 0, now.Location())
	plan := map[string]PlannedPause{}
	for _, pp := range pauses {
		due := midnight.Add(pp.At)
		if last, ok := l.lastPauseOf[pp.Counter]; ok && !last.Before(due) {
			continue // taken
		}
		plan[pp.Counter] = pp
	}
	// Before the office opens (every counter closed) the first citizens
	// are told the wait as if the counters opened now, not "never": the
	// day's staffing is the site's, and an estimate of the horizon would
	// send them home with the overload advice.
	opening := true
	for _, c := range in.Counters {
		opening = opening && c.State == CounterClosed
	}
	for i, c := range in.Counters {
		pc := &pcs[i]
		*pc = pcounter{c: c, n: i, pauseAt: math.NaN()}
		switch c.State {
		case CounterClosed:
			if !opening {
				continue
			}
		case CounterPaused:
			length := pm
			if pp, ok := l.planned(pauses, c.ID); ok {
				length = pp.Length.Minutes()
			}
			rest := length - now.Sub(c.Since).Minutes()
			pc.free = math.Max(rest, 1)
			pc.rotates = rotating
		case CounterOpen:
			if t := in.Busy[c.ID]; t != nil {
				pc.free = l.residual(t, now)
			}
			if rotating && !l.pausedToday[c.ID] {
				pausers = append(pausers, pc)
			}
			if pp, ok := plan[c.ID]; ok {
				pc.pauseAt = math.Max(midnight.Add(pp.At).Sub(now).Minutes(), 0)
				pc.pauseLen = pp.Length.Minutes()
			}
		}
		pc.idle = pc.free
		if pc.free == 0 {
			pc.idle = -now.Sub(c.Since).Minutes()
		}
		cs = append(cs, pc)
	}
	// The counters in service free up in some order: the i-th of n to
	// free gets the (i+1)/(n+1) quantile of its own remaining time rather
	// than its mean, since the first of many to free comes much sooner
	// than any one's mean.
	{
		var busy []*pcounter
		for _, pc := range cs {
			if t := in.Busy[pc.c.ID]; t != nil && pc.c.State == CounterOpen {
				if _, ok := l.residualAt(t, now, 0.5); ok {
					busy = append(busy, pc)
				}
			}
		}
		sort.SliceStable(busy, func(i, j int) bool { return busy[i].free < busy[j].free })
		for i, pc := range busy {
			q := float64(i+1) / float64(len(busy)+1)
			pc.free, _ = l.residualAt(in.Busy[pc.c.ID], now, q)
			pc.idle = pc.free
		}
	}
	rotate := func(at float64) {
		if len(pausers) > 0 {
			pausers[0].pauseAt = at
			pausers = pausers[1:]
		}
	}
	for _, pc := range cs {
		if pc.rotates {
			rotate(pc.free)
		}
	}
	called := 0
	var elig []*Ticket
	var eligAt []int
	for called < nReal && called < projectionDepth {
		// The counter free first (longest idle first among equals).
		var c *pcounter
		for _, x := range cs {
			if x.off {
				continue
			}
			if c == nil || x.free < c.free || (x.free == c.free && (x.idle < c.idle || (x.idle == c.idle && x.n < c.n))) {
				c = x
			}
		}
		if c == nil || c.free >= H {
			break
		}
		tau := c.free
		if c.pauseAt <= tau {
			c.pauseAt = math.NaN()
			length := pm
			if c.pauseLen > 0 {
				length = c.pauseLen
			}
			c.free = tau + length
			c.idle = c.free
			rotate(c.free)
			continue
		}
		// Expected tickets that have arrived join the pool: the bookings
		// checked in by now, then the walk-ins that came.
		genUntil(tau)
		for fi < len(bks) && bks[fi].arr <= tau {
			pool = append(pool, arrived(bks[fi]))
			fi++
		}
		pool = append(pool, sc.walk...)
		sc.walk = sc.walk[:0]
		elig, eligAt = elig[:0], eligAt[:0]
		for i, x := range pool {
			if Eligible(c.c, x.t) {
				eligAt = append(eligAt, i)
				elig = append(elig, x.t)
			}
		}
		if len(elig) == 0 {
			// Idle until something it may serve arrives.
			// The first booking it serves is the earliest (a booking's
			// pseudo-ticket is neither parked nor sent to a counter).
			nextArr := math.Inf(1)
			for _, b := range bks[fi:] {
				if c.c.serves(b.a.Service) {
					nextArr = b.arr
					break
				}
			}
			for i, s := range svcs {
				if c.c.serves(s) && next[i] < nextArr {
					nextArr = next[i]
				}
			}
			if math.IsInf(nextArr, 1) || nextArr >= H {
				c.off = true
				continue
			}
			c.free, c.idle = nextArr, nextArr
			continue
		}
		t := pol.Pick(at(tau), c.c, elig)
		if t == nil {
			c.free, c.idle = tau+1, tau+1
			continue
		}
		i := -1
		for j, et := range elig {
			if et == t {
				i = eligAt[j]
				break
			}
		}
		if i < 0 {
			c.free, c.idle = tau+1, tau+1 // not one it was offered
			continue
		}
		x := pool[i]
		pool[i] = pool[len(pool)-1]
		pool = pool[:len(pool)-1]
		work := x.work
		if x.real {
			called++
			out[t.ID] = time.Duration(tau * float64(time.Minute))
			if t.Slot != nil {
				work = l.mean(t.Service)
			} else {
				work = l.walkInWork(t.Service, x.wait+tau)
			}
		}
		c.free = tau + work
		c.idle = c.free
	}
	// Beyond the projection's depth each service's remaining tickets, in
	// the policy's order, follow at the pace the projection found for
	// that service; a service it never reached gets the horizon.
	for _, s := range qs {
		var last time.Duration
		k := 0
		for _, t := range in.Queues[s] {
			if d, ok := out[t.ID]; ok {
				k++
				last = max(last, d)
			}
		}
		j := 0
		for _, t := range in.Queues[s] {
			if _, ok := out[t.ID]; ok {
				continue
			}
			j++
			if k == 0 || called < projectionDepth {
				out[t.ID] = horizon
				continue
			}
			out[t.ID] = min(last+time.Duration(j)*(last/time.Duration(k)), horizon)
		}
	}
	l.record(in, out)
	for id, d := range out {
		out[id] = l.correct(d)
	}
	return out
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// projectionScratch is the memory an Estimate works in, kept from one
// to the next: the projection runs after every change of the office, and
// allocating its pseudo-tickets anew each time was most of its cost.
// Nothing in it outlives the Estimate that filled it.
type projectionScratch struct {
	pseudos  arena[pseudo]
	tickets  arena[Ticket]
	slots    arena[time.Time]
	pool     []*pseudo
	walk     []*pseudo
	bookings []booking
	pcs      []pcounter
	// The pseudo-tickets' ids, by seq (and service, for walk-ins): the
	// same strings every time.
	bookIDs []string
	walkIDs map[string][]string
}

// booking is a booking still to check in, before it becomes a pseudo.
type booking struct {
	a   *Appointment
	arr float64 // minutes from now when it checks in
	seq int
}

func (s *projectionScratch) reset() {
	s.pseudos.reset()
	s.tickets.reset()
	s.slots.reset()
	s.walk = s.walk[:0]
}

func (s *projectionScratch) counters(n int) []pcounter {
	if cap(s.pcs) < n {
		s.pcs = make([]pcounter, n)
	}
	return s.pcs[:n]
}

func (s *projectionScratch) bookingID(seq int) string {
	for len(s.bookIDs) < seq {
		s.bookIDs = append(s.bookIDs, "~b"+itoa(len(s.bookIDs)+1))
	}
	return s.bookIDs[seq-1]
}

func (s *projectionScratch) walkInID(service string, seq int) string {
	if s.walkIDs == nil {
		s.walkIDs = map[string][]string{}
	}
	ids := s.walkIDs[service]
	if len(ids) < seq {
		for len(ids) < seq {
			ids = append(ids, "~w"+service+itoa(len(ids)+1))
		}
		s.walkIDs[service] = ids
	}
	return ids[seq-1]
}

// arena hands out pointers into chunks that are reused after reset: the
// pointers stay valid until then.
type arena[T any] struct {
	chunks [][]T
	n      int
}

const arenaChunk = 64

func (a *arena[T]) reset() { a.n = 0 }

func (a *arena[T]) put(v T) *T {
	i := a.n / arenaChunk
	if i == len(a.chunks) {
		a.chunks = append(a.chunks, make([]T, arenaChunk))
	}
	p := &a.chunks[i][a.n%arenaChunk]
	a.n++
	*p = v
	return p
}
