package hub_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/comune-rc/sportello/hub"
)

// office builds an OfficeState with n open front-office counters serving
// service "a" and the given waiting tickets.
func office(now time.Time, n int, waiting []*hub.Ticket, promised map[string]time.Time) hub.OfficeState {
	s := hub.OfficeState{Now: now, ServiceTime: map[string]time.Duration{"a": 10 * time.Minute}, Waiting: waiting, Promised: promised}
	for i := 0; i < n; i++ {
		s.Counters = append(s.Counters, &hub.Counter{ID: fmt.Sprint(i + 1), Kind: hub.KindCounter, Services: []string{"a"}, State: hub.CounterOpen})
	}
	return s
}

// TestFairPolicyClasses checks each rule of FairPolicy against the one it
// must beat or yield to, with the office observed as the engine does.
func TestFairPolicyClasses(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	tk := func(id string, waited time.Duration, prio hub.Priority) *hub.Ticket {
		return &hub.Ticket{ID: id, Number: id, Service: "a", Prio: prio, Arrival: now.Add(-waited), Status: hub.StatusWaiting}
	}
	appt := func(id string, waited, slotIn time.Duration) *hub.Ticket {
		t := tk(id, waited, hub.PriorityNone)
		s := now.Add(slotIn)
		t.Slot = &s
		return t
	}
	c := &hub.Counter{ID: "1", Kind: hub.KindCounter, Services: []string{"a"}, State: hub.CounterOpen}
	// Ten counters of 10-min services: one frees every minute (τ = 1 min);
	// the lead is −ln(1 − 0.92) ≈ 2.53 of those gaps.
	cases := []struct {
		name     string
		goal     float64 // AppointmentGoal; 0: the default
		in       []*hub.Ticket
		promised map[string]time.Time
		want     string
	}{
		{"an appointment that checked in early waits while walk-ins do", 0,
			[]*hub.Ticket{appt("A", 8*time.Minute, 2*time.Minute), tk("w", time.Minute, "")}, nil, "w"},
		{"a lone appointment goes ahead of walk-ins its counters' lead before its grace ends", 0,
			// slot + 5 − 2.53 (lead: ten 10-min counters free one a
			// minute; 2.53 of those gaps).
			[]*hub.Ticket{appt("A", 8*time.Minute, -3*time.Minute), tk("w", 20*time.Minute, "")}, nil, "A"},
		{"a minute earlier it still lets walk-ins go first", 0,
			[]*hub.Ticket{appt("A", 8*time.Minute, -2*time.Minute), tk("w", 20*time.Minute, "")}, nil, "w"},
		{"a goal of 95 % calls it earlier: three gaps before its grace ends", 0.95,
			[]*hub.Ticket{appt("A", 8*time.Minute, -2*time.Minute-12*time.Second), tk("w", 20*time.Minute, "")}, nil, "A"},
		{"which the default goal does not yet", 0,
			[]*hub.Ticket{appt("A", 8*time.Minute, -2*time.Minute-12*time.Second), tk("w", 20*time.Minute, "")}, nil, "w"},
		{"of two for the same slot the first is due one completion (τ) earlier", 0,
			[]*hub.Ticket{appt("A1", 9*time.Minute, -2*time.Minute), appt("A2", 8*time.Minute, -2*time.Minute), tk("w", 20*time.Minute, "")}, nil, "A1"},
		{"while the second alone is not due yet", 0,
			[]*hub.Ticket{appt("A2", 8*time.Minute, -2*time.Minute), tk("w", 20*time.Minute, "")}, nil, "w"},
		{"an appointment due by the schedule goes before walk-ins over the guard", 0,
			[]*hub.Ticket{appt("A1", 9*time.Minute, -2*time.Minute), appt("A2", 8*time.Minute, -2*time.Minute), tk("g", 37*time.Minute, "")}, nil, "A1"},
		{"but not before its time in the schedule", 0,
			[]*hub.Ticket{appt("A2", 8*time.Minute, -2*time.Minute), tk("g", 37*time.Minute, "")}, nil, "g"},
		{"the hard bound is absolute: a walk-in about to reach it goes before an appointment at the end of its grace", 0,
			// 44 min: within 2 × 10 min ÷ 10 counters of the 45-min bound.
			[]*hub.Ticket{appt("A", 8*time.Minute, -4*time.Minute-30*time.Second), tk("old", 44*time.Minute, "")}, nil, "old"},
		{"a minute before that the appointment goes first", 0,
			[]*hub.Ticket{appt("A", 8*time.Minute, -4*time.Minute-30*time.Second), tk("old", 42*time.Minute+50*time.Second, "")}, nil, "A"},
		{"a priority head start (twice its wait, up to one target) not enough to overtake", 0,
			// 26 min = 1.3 targets; a priority ticket's 8 min count 0.4 + 2 × 0.4.
			[]*hub.Ticket{tk("n", 26*time.Minute, ""), tk("p", 8*time.Minute, hub.PriorityDisability)}, nil, "n"},
		{"and one just enough", 0,
			[]*hub.Ticket{tk("n", 26*time.Minute, ""), tk("p", 9*time.Minute, hub.PriorityDisability)}, nil, "p"},
		{"a walk-in late against its printed estimate overtakes an older one on time", 0,
			[]*hub.Ticket{tk("old", 12*time.Minute, ""), tk("late", 10*time.Minute, "")},
			map[string]time.Time{"old": now.Add(2 * time.Minute), "late": now.Add(-2 * time.Minute)}, "late"},
		{"without estimates first come, first served", 0,
			[]*hub.Ticket{tk("old", 12*time.Minute, ""), tk("late", 10*time.Minute, "")}, nil, "old"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := hub.NewFairPolicy(hub.FairPolicyConfig{AppointmentGoal: tc.goal})
			p.Observe(office(now, 10, tc.in, tc.promised))
			require.Equal(t, tc.want, p.Pick(now, c, tc.in).ID)
			q := append([]*hub.Ticket(nil), tc.in...)
			p.Order(now, q)
			require.Equal(t, tc.want, q[0].ID, "Order agrees with Pick")
		})
	}
}

// TestFairPolicyBoundMargin: with one counter and 30-min services the
// margin before the hard bound would be an hour; it is capped at the
// stretch from the guard to the bound, so that a walk-in waiting less than
// the guard still lets an appointment at the end of its grace go first.
func TestFairPolicyBoundMargin(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	slot := now.Add(-4*time.Minute - 30*time.Second)
	appt := &hub.Ticket{ID: "A", Service: "a", Arrival: slot.Add(-6 * time.Minute), Slot: &slot}
	c := &hub.Counter{ID: "1", Kind: hub.KindCounter, Services: []string{"a"}, State: hub.CounterOpen}
	for _, tc := range []struct {
		waited time.Duration
		want   string
	}{{26 * time.Minute, "A"}, {28 * time.Minute, "w"}} {
		p := hub.NewFairPolicy(hub.FairPolicyConfig{})
		s := hub.OfficeState{Now: now, ServiceTime: map[string]time.Duration{"a": 30 * time.Minute}, Counters: []*hub.Counter{c}}
		w := &hub.Ticket{ID: "w", Service: "a", Arrival: now.Add(-tc.waited)}
		s.Waiting = []*hub.Ticket{w, appt}
		p.Observe(s)
		require.Equal(t, tc.want, p.Pick(now, c, []*hub.Ticket{appt, w}).ID, "walk-in waited %s", tc.waited)
	}
}
