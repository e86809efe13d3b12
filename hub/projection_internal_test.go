package hub

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// projectionOffice is a site with one 10-min service "a", n counters
// serving it and the tickets waiting, as the engine hands it over.
type projectionOffice struct {
	now      time.Time
	site     *Site
	counters []*Counter
	queue    []*Ticket
	busy     map[string]*Ticket
	booked   []*Appointment
}

func newProjectionOffice(n, waiting int) *projectionOffice {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	o := &projectionOffice{now: now, busy: map[string]*Ticket{},
		site: &Site{ID: "t", Services: []Service{{ID: "a", Prefix: "A", ServiceTime: 10 * time.Minute}}}}
	for i := 0; i < n; i++ {
		o.counters = append(o.counters, &Counter{ID: fmt.Sprint("c", i+1), Kind: KindCounter, Services: []string{"a"}, State: CounterOpen, Since: now.Add(-time.Hour)})
	}
	for i := 0; i < waiting; i++ {
		at := now.Add(-time.Duration(waiting-i) * time.Second)
		o.queue = append(o.queue, &Ticket{ID: fmt.Sprint("t", i+1), Number: fmt.Sprintf("A%03d", i+1), Service: "a", Status: StatusWaiting, Prio: PriorityNone, Arrival: at, IssuedAt: at})
	}
	return o
}

func (o *projectionOffice) input(p Policy) EstimateInput {
	booked := o.booked
	return EstimateInput{Now: o.now, Site: o.site, Queues: map[string][]*Ticket{"a": o.queue}, Counters: o.counters,
		ServiceTime: map[string]time.Duration{"a": 10 * time.Minute}, Busy: o.busy, Policy: p,
		Office: OfficeState{Now: o.now, Counters: o.counters, booked: func() []*Appointment { return booked }}}
}

func minutesOf(ewt map[string]time.Duration, ids ...string) []float64 {
	var out []float64
	for _, id := range ids {
		out = append(out, ewt[id].Minutes())
	}
	return out
}

// TestProjection: the estimate replays the office forward — idle counters
// call at once, then each waits for a counter to free; a planned break
// takes its counter away; a booking due soon goes ahead of walk-ins.
func TestProjection(t *testing.T) {
	ids := []string{"t1", "t2", "t3", "t4"}
	cases := []struct {
		name  string
		setup func(o *projectionOffice, e *ProjectionEstimator)
		want  []float64 // minutes, ±0.01
	}{
		// A walk-in called takes 9.82 min: with the prior 2 % gone when
		// called, 0.98 × 10 + 0.02 × 1 (the prior time lost on a call).
		{"two idle counters, four tickets of 10 min", func(o *projectionOffice, e *ProjectionEstimator) {}, []float64{0, 0, 9.82, 9.82}},
		{"a break due now takes one counter for 30 min", func(o *projectionOffice, e *ProjectionEstimator) {
			e.Pauses = []PlannedPause{{Counter: "c2", At: 10 * time.Hour, Length: 30 * time.Minute}}
		}, []float64{0, 9.82, 19.64, 29.46}},
		{"the site's break rota, when the estimator is given none", func(o *projectionOffice, e *ProjectionEstimator) {
			o.site.Counters = []CounterDef{{ID: "c1", Kind: KindCounter, Services: []string{"a"}}, {ID: "c2", Kind: KindCounter, Services: []string{"a"}}}
			o.site.Breaks = &BreakPlan{Length: 30 * time.Minute, First: 10 * time.Hour, Stagger: time.Hour, Waves: 2}
		}, []float64{0, 9.82, 19.64, 29.46}},
		{"a counter on its break comes back when the plan says", func(o *projectionOffice, e *ProjectionEstimator) {
			o.counters[1].State, o.counters[1].Since = CounterPaused, o.now.Add(-25*time.Minute)
			e.Pauses = []PlannedPause{{Counter: "c2", At: 9*time.Hour + 35*time.Minute, Length: 30 * time.Minute}}
		}, []float64{0, 5, 9.82, 14.82}},
		{"a closed counter does not come back", func(o *projectionOffice, e *ProjectionEstimator) {
			o.counters[1].State = CounterClosed
		}, []float64{0, 9.82, 19.64, 29.46}},
		{"a booking checking in before the walk-ins' turn goes ahead of them", func(o *projectionOffice, e *ProjectionEstimator) {
			// Slot in 1 min: due on check-in (its lead is two 5-min gaps
			// between completions); with the prior show rate 0.9 it takes
			// 9 min of the first counter to free.
			o.booked = []*Appointment{{Code: "B1", Kind: "slot", Service: "a", Slot: o.now.Add(time.Minute), Status: "booked"}}
		}, []float64{0, 0, 9.82, 18.82}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := newProjectionOffice(2, 4)
			e := NewProjectionEstimator()
			tc.setup(o, e)
			p := FairPolicyFor(o.site, FairPolicyConfig{})
			in := o.input(p)
			p.Observe(in.Office)
			got := minutesOf(e.Estimate(in), ids...)
			require.InDeltaSlice(t, tc.want, got, 0.01, "estimates in minutes")
		})
	}
}

// TestProjectionBusyCounters: counters in service free up in order, the
// first of many much sooner than a mean service: the estimate of the
// first ticket waiting behind ten busy counters is well under the mean
// remaining time of any one of them, and later tickets wait longer.
func TestProjectionBusyCounters(t *testing.T) {
	o := newProjectionOffice(10, 4)
	for i, c := range o.counters {
		started := o.now.Add(-time.Duration(i) * time.Minute)
		tk := &Ticket{ID: fmt.Sprint("s", i), Service: "a", Status: StatusServing, Arrival: started, Steps: []Step{{Service: "a", Counter: c.ID, CalledAt: started, StartedAt: &started}}}
		c.Ticket = tk.ID
		o.busy[c.ID] = tk
	}
	e := NewProjectionEstimator()
	got := minutesOf(e.Estimate(o.input(NewFairPolicy(FairPolicyConfig{}))), "t1", "t2", "t3", "t4")
	l := e.l
	minMean := 1e9
	for _, tk := range o.busy {
		if r := l.residual(tk, o.now); r < minMean {
			minMean = r
		}
	}
	require.Less(t, got[0], minMean, "the first of ten to free comes before any one's mean")
	require.Greater(t, got[0], 0.0)
	for i := 1; i < len(got); i++ {
		require.Greater(t, got[i], got[i-1], "estimates grow with the position")
	}
}

// TestProjectionLearnsAndCorrects: finished services move the learnt mean,
// and the day's earlier errors for estimates of that size correct new
// ones: the median, or where the errors spread wide the shift that keeps
// 95 % of them from falling more than 5 min short.
func TestProjectionLearnsAndCorrects(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	l := newLearner(EstimateInput{Now: now, Site: &Site{Services: []Service{{ID: "a", ServiceTime: 10 * time.Minute}}}})
	require.InDelta(t, 10, l.mean("a"), 1e-9, "the site's time before any service")
	for i := 0; i < 30; i++ {
		l.svc["a"] = addMoment(l.svc["a"], 4)
	}
	require.InDelta(t, (30*4+3*10)/33.0, l.mean("a"), 1e-9, "prior of weight 3")

	require.Equal(t, 7*time.Minute, l.correct(7*time.Minute), "no correction without errors")
	b := band(biasBands[:], 7)
	for _, e := range []float64{1, 2, 2, 3, 4} {
		l.errs[b] = insertSorted(l.errs[b], e)
	}
	require.InDelta(t, 7+2*5.0/15, l.correct(7*time.Minute).Minutes(), 1e-9, "errors within 5 min of the median: the median, shrunk by n/(n+10)")
	require.Equal(t, 3*time.Minute, l.correct(3*time.Minute), "another size, another band")

	// Wide errors: 18 estimates right, 2 short by 20 min (10 % beyond
	// 5 min). The median (0) would leave them there; the shift is the
	// 95th percentile (20) less 5 min, shrunk by 20/(20+40).
	l.errs[b] = nil
	for i := 0; i < 20; i++ {
		e := 0.0
		if i >= 18 {
			e = 20
		}
		l.errs[b] = insertSorted(l.errs[b], e)
	}
	require.InDelta(t, 7+15*20.0/60, l.correct(7*time.Minute).Minutes(), 1e-9, "wide errors: the shift that keeps 95 % within 5 min")
}

func addMoment(m *moments, x float64) *moments {
	if m == nil {
		m = &moments{}
	}
	m.add(x)
	return m
}

func TestAdvice(t *testing.T) {
	tk := &Ticket{ID: "x"}
	for _, tc := range []struct {
		ewt  time.Duration
		pos  int
		want bool
	}{
		{45 * time.Minute, 3, false},
		{45*time.Minute + time.Second, 3, true},
		{2 * time.Hour, 0, false}, // no longer waiting
	} {
		require.Equal(t, tc.want, TicketView{Ticket: tk, Position: tc.pos, EWT: tc.ewt}.Advice(), "ewt %s position %d", tc.ewt, tc.pos)
	}
}

// TestLearnerCountsClosedTicketsOnce: off the writer a ticket that
// joined and left between two estimates still counts as an arrival, and a
// closed visit that changes again (rated) is not counted twice.
func TestLearnerCountsClosedTicketsOnce(t *testing.T) {
	o := newProjectionOffice(1, 1)
	in := o.input(FIFOPolicy{})
	l := newLearner(in)
	l.observe(in)
	require.EqualValues(t, 1, l.walkins)
	called, started, ended := o.now.Add(time.Minute), o.now.Add(2*time.Minute), o.now.Add(14*time.Minute)
	quick := &Ticket{ID: "q", Number: "A900", Service: "a", Status: StatusDone, Prio: PriorityNone, Arrival: o.now, IssuedAt: o.now,
		Steps: []Step{{Service: "a", CalledAt: called, StartedAt: &started, EndedAt: &ended, EndedBy: "finished"}}}
	o.now = ended
	in = o.input(FIFOPolicy{})
	in.changed = []*Ticket{quick}
	l.observe(in)
	require.EqualValues(t, 2, l.walkins, "issued and served between two estimates")
	l.observe(in)
	require.EqualValues(t, 2, l.walkins, "the same closed visit changed again")
}

// TestProjectionBoundsExpectedWalkIns: after a burst (600 tickets in a
// few seconds) the learnt rate would have the replay expect tens of
// thousands of walk-ins over the hours it spans; it expects at most
// maxExpectedWalkIns, and every waiting ticket still gets an estimate.
func TestProjectionBoundsExpectedWalkIns(t *testing.T) {
	o := newProjectionOffice(2, 600)
	e := NewProjectionEstimator()
	ewt := e.Estimate(o.input(FIFOPolicy{}))
	require.Len(t, ewt, 600)
	// No bookings: the walk-ins' ids count the walk-ins expected.
	expected := len(e.scratch.walkIDs["a"])
	// 600 in ten minutes is 60 a minute: about 28,800 over the 8-h
	// horizon without the bound.
	require.Equal(t, maxExpectedWalkIns, expected, "the bound holds the burst")
}
