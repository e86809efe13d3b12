package staffing_test

import (
	"math"
	"testing"

	"github.com/comune-rc/sportello/staffing"
	"github.com/stretchr/testify/require"
)

// TestErlangC against values worked out by hand and published ones.
func TestErlangC(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    int
		a    float64
		want float64
		tol  float64
	}{
		{"M/M/1 waits with probability ρ", 1, 0.7, 0.7, 1e-12},
		{"M/M/2 at a=1: (1/2·2)/(1+1+1)", 2, 1, 1.0 / 3, 1e-12},
		{"saturated", 3, 3, 1, 0},
		{"overloaded", 3, 4.5, 1, 0},
		// bench/README.md §8: S2 at c = 18, λ 117.76/h, E[S] 8.17 min.
		{"S2 at 18 counters", 18, 117.76 * 8.17 / 60, 0.538, 0.001},
		// §13.6: V1, ρ 0.905 at 18 counters.
		{"V1 at 18 counters", 18, 0.905 * 18, 0.5887, 0.002},
		{"call centre, 10 Erlangs at 14 agents", 14, 10, 0.1741, 0.0005},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.InDelta(t, tc.want, staffing.ErlangC(tc.c, tc.a), tc.tol)
		})
	}
}

// TestNeeded: the fewest counters for a target, against the textbook
// call-centre example (200 calls an hour of 3 minutes, 80 % answered in
// 20 seconds: 13 agents give 79.6 %, 14 give 88.9 %) and S2's §8 values.
func TestNeeded(t *testing.T) {
	call := []staffing.Load{{Service: "x", PerHour: 200, Mean: 3, CS2: 1, Target: 20.0 / 60}}
	require.InDelta(t, 0.796, staffing.ServiceLevel(13, call), 0.002)
	require.InDelta(t, 0.889, staffing.ServiceLevel(14, call), 0.002)
	require.Equal(t, 14, staffing.Needed(call, 0.8))
	require.Equal(t, 13, staffing.Needed(call, 0.79))
	require.Equal(t, 0.0, staffing.ServiceLevel(10, call), "unstable at c = a")

	// S2's mix as one load: at 18 counters SL15 99.6 % (§8), at 17 it is
	// still above 80 %, at 16 (ρ 1.0) it is unstable.
	s2 := []staffing.Load{{Service: "mix", PerHour: 117.76, Mean: 8.17, CS2: 0.5036, Target: 15}}
	require.InDelta(t, 0.996, staffing.ServiceLevel(18, s2), 0.001)
	require.Equal(t, 17, staffing.Needed(s2, 0.8))
	require.Equal(t, 18, staffing.Needed(s2, 0.99))

	// A mix of services is pooled by rate: E[S] and E[S²] of the mix.
	two := []staffing.Load{
		{Service: "a", PerHour: 60, Mean: 4, CS2: 0.36, Target: 15},
		{Service: "b", PerHour: 30, Mean: 12, CS2: 0.16, Target: 15},
	}
	require.InDelta(t, (60*4+30*12)/60.0, staffing.Erlangs(two), 1e-9)
	es := (60*4 + 30*12) / 90.0
	es2 := (60*16*1.36 + 30*144*1.16) / 90.0
	one := []staffing.Load{{Service: "ab", PerHour: 90, Mean: es, CS2: es2/(es*es) - 1, Target: 15}}
	for c := 11; c <= 14; c++ {
		require.InDelta(t, staffing.ServiceLevel(c, one), staffing.ServiceLevel(c, two), 1e-12, "c=%d", c)
	}
	// A tighter target for one service asks for more.
	tight := append([]staffing.Load(nil), two...)
	tight[0].Target = 1
	require.Greater(t, staffing.Needed(tight, 0.8), staffing.Needed(two, 0.8))
	require.Equal(t, 0, staffing.Needed(nil, 0.8))
	require.Equal(t, 0, staffing.Needed([]staffing.Load{{Service: "z", Mean: 5, Target: 15}}, 0.8))
	require.Equal(t, 1.0, staffing.ServiceLevel(0, nil))
	require.False(t, math.IsNaN(staffing.ServiceLevel(1000, s2)))
}

// TestGroups: the grouping rule — services linked by a chain of counters
// are one group; disjoint departments are separate; rooms apart.
func TestGroups(t *testing.T) {
	for _, tc := range []struct {
		name     string
		services []string
		counters []staffing.Counter
		want     []staffing.Group
	}{
		{
			name:     "disjoint departments and an unserved service",
			services: []string{"CERT", "RES", "TAX", "WATER", "LOST"},
			counters: []staffing.Counter{{"1", []string{"CERT", "RES"}}, {"2", []string{"TAX"}}, {"3", []string{"RES"}}, {"4", []string{"WATER", "TAX"}}},
			want: []staffing.Group{
				{ID: "g1", Services: []string{"CERT", "RES"}, Counters: []string{"1", "3"}},
				{ID: "g2", Services: []string{"TAX", "WATER"}, Counters: []string{"2", "4"}},
				{ID: "g3", Services: []string{"LOST"}},
			},
		},
		{
			name:     "a chain links A to C through B",
			services: []string{"A", "B", "C", "ROOM"},
			counters: []staffing.Counter{{"1", []string{"A"}}, {"2", []string{"C", "B"}}, {"3", []string{"B", "A"}}, {"R1", []string{"ROOM"}}, {"x", []string{"UNKNOWN"}}},
			want: []staffing.Group{
				{ID: "g1", Services: []string{"A", "B", "C"}, Counters: []string{"1", "2", "3"}},
				{ID: "g2", Services: []string{"ROOM"}, Counters: []string{"R1"}},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, staffing.Groups(tc.services, tc.counters))
		})
	}
	require.Equal(t, "CERT+RES", staffing.Groups([]string{"CERT", "RES"}, []staffing.Counter{{"1", []string{"RES", "CERT"}}})[0].Label())
}

// TestChoose: capacity follows the load, specialists before generalists.
func TestChoose(t *testing.T) {
	cs := []staffing.Counter{
		{"gen", []string{"A", "B", "C"}},
		{"a1", []string{"A"}},
		{"a2", []string{"A"}},
		{"b1", []string{"B"}},
		{"c1", []string{"C"}},
	}
	load := map[string]float64{"A": 2, "B": 1, "C": 0.1}
	// First the generalist (it adds A, B and C at once), then A's
	// specialists, then B's.
	require.Equal(t, []string{"gen"}, staffing.Choose(cs, load, 1))
	require.Equal(t, []string{"gen", "a1"}, staffing.Choose(cs, load, 2))
	require.Equal(t, []string{"gen", "a1", "a2", "b1"}, staffing.Choose(cs, load, 4))
	require.Len(t, staffing.Choose(cs, load, 9), 5)
	require.Empty(t, staffing.Choose(cs, load, 0))
	// Equal gains: the narrower counter first.
	require.Equal(t, []string{"a1"}, staffing.Choose([]staffing.Counter{{"ab", []string{"A", "B"}}, {"a1", []string{"A"}}}, map[string]float64{"A": 1}, 1))
}
