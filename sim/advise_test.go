package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/comune-rc/sportello/staffing"
	"github.com/stretchr/testify/require"
)

// twoDesks is a small two-hour office with two departments that share
// no counter: anagrafe (CERT, RES; 4 counters, one of them CERT only) and
// tributi (TAX; 2 counters).
const twoDesks = `
name: two-desks
seed: 7
days: 30
hours: {open: "08:00", last_ticket: "10:00", close: "10:30"}
services:
  - {id: CERT, share: 0.5, mean: 4, cv: 0.5}
  - {id: RES,  share: 0.3, mean: 10, cv: 0.5}
  - {id: TAX,  share: 0.2, mean: 8, cv: 0.6}
counters:
  - {group: ana, count: 3, services: [CERT, RES], home: RES}
  - {group: cert, count: 1, services: [CERT], home: CERT}
  - {group: tax, count: 2, services: [TAX], home: TAX}
walk_ins:
  per_day: 70
  profile: [3, 2]
appointments: {per_day: 10, slot_minutes: 30, first_slot: "08:00", last_slot: "09:30", no_show: 0.0}
`

// burst is a one-service office where 60 % of the day's walk-ins arrive
// in the first three minutes: Erlang C sees the first hour's rate but not
// the crowd at the door, and under-provisions it.
const burst = `
name: burst
seed: 11
days: 10
hours: {open: "08:00", last_ticket: "10:00", close: "11:00"}
services:
  - {id: ID, share: 1, mean: 10, cv: 0.3}
counters:
  - {group: id, count: 30, services: [ID], home: ID}
walk_ins:
  per_day: 80
  profile: [1, 1]
  opening_burst: {share: 0.6, minutes: 3}
`

func writeScenario(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sc.yaml")
	require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	return p
}

// TestAdviseForecastAndGroups: the forecast day of a scenario is its
// expected demand per hour, and its counters split into the two
// departments.
func TestAdviseForecastAndGroups(t *testing.T) {
	sc, err := LoadScenario(writeScenario(t, twoDesks))
	require.NoError(t, err)
	hours := sc.adviceHours()
	require.Len(t, hours, 2)
	require.Equal(t, "08:00", hours[0].Hour)
	loads := sc.forecast(hours, AdviseOptions{TargetWait: 15})
	// Hour 0: 70 × 3/5 walk-ins + the bookings of slots 08:00 and 08:30
	// (10 / 4 slots each) = 47; hour 1: 28 + 5 = 33.
	sum := func(h int) float64 {
		s := 0.0
		for _, l := range loads[h] {
			s += l.PerHour
		}
		return s
	}
	require.InDelta(t, 47, sum(0), 1e-9)
	require.InDelta(t, 33, sum(1), 1e-9)
	require.InDelta(t, 47*0.2, loads[0][2].PerHour, 1e-9)
	require.Equal(t, 8.0, loads[0][2].Mean)
	require.InDelta(t, 0.36, loads[0][2].CS2, 1e-12)
	g := staffing.Groups([]string{"CERT", "RES", "TAX"}, sc.skillCounters())
	require.Equal(t, []staffing.Group{
		{ID: "g1", Services: []string{"CERT", "RES"}, Counters: []string{"ana-1", "ana-2", "ana-3", "cert-1"}},
		{ID: "g2", Services: []string{"TAX"}, Counters: []string{"tax-1", "tax-2"}},
	}, g)

	// The last hour cut at last_ticket is a rate per hour.
	half := strings.Replace(twoDesks, `last_ticket: "10:00"`, `last_ticket: "09:30"`, 1)
	sc2, err := LoadScenario(writeScenario(t, half))
	require.NoError(t, err)
	h2 := sc2.adviceHours()
	require.Equal(t, 30.0, h2[1].To-h2[1].From)
}

// TestAdvisePlanIsTheEngineStaffing: the plan becomes outages of the
// closed hours, and the breaks go.
func TestAdvisePlanIsTheEngineStaffing(t *testing.T) {
	sc := loadPublic(t, "S2-busy")
	open := make([][]bool, 3)
	for h := range open {
		open[h] = make([]bool, sc.FrontCount)
		for i := range open[h] {
			open[h][i] = true
		}
	}
	open[0][0], open[1][0] = false, false // counter 1 opens at 10:00
	open[1][1] = false                    // counter 2 is out 09:00–10:00
	for h := range open {
		open[h][2] = false // counter 3 is unstaffed
	}
	st := sc.staffed(open)
	require.False(t, st.HasBreaks)
	require.True(t, sc.HasBreaks, "the scenario itself is unchanged")
	require.Equal(t, []Outage{
		{Counter: 0, From: 0, To: 120, HasUntil: true, CounterRef: "reg-id-1"},
		{Counter: 1, From: 60, To: 120, HasUntil: true, CounterRef: "reg-id-2"},
		{Counter: 2, From: 0, To: st.Outages[2].To, Unstaffed: true, CounterRef: "reg-id-3"},
	}, st.Outages)
}

// TestAdviseSimulationCorrectsErlangC: with the opening crowd Erlang C's
// counters miss the first hour in simulation; the check adds counters to
// that hour until it meets the target, and leaves the second alone.
func TestAdviseSimulationCorrectsErlangC(t *testing.T) {
	sc, err := LoadScenario(writeScenario(t, burst))
	require.NoError(t, err)
	adv, err := sc.Advise(context.Background(), AdviseOptions{TargetSL: 0.8, TargetWait: 15, Days: 3, Rounds: 30})
	require.NoError(t, err)
	require.Len(t, adv.Hours, 2)
	first := adv.Hours[0].Groups[0]
	// 48 at the door + 16 over the hour: 64/h, 10.7 Erlangs.
	require.InDelta(t, 64, first.Arrivals, 1e-9)
	require.Equal(t, staffing.Needed([]staffing.Load{{PerHour: 64, Mean: 10, CS2: 0.09, Target: 15}}, 0.8), first.Erlang)
	require.Less(t, first.SLErlang, 0.8, "Erlang C's counters should miss the crowd: %+v", first)
	require.Greater(t, first.Advised, first.Erlang)
	require.GreaterOrEqual(t, first.SL, 0.8)
	require.True(t, first.Judged)
	require.Greater(t, adv.Rounds, 0)
	require.True(t, adv.Met)
	second := adv.Hours[1].Groups[0]
	require.Equal(t, second.Erlang, second.Advised, "the quiet hour keeps Erlang C's counters: %+v", second)
	require.Equal(t, first.Advised, adv.Hours[0].Advised)

	// Without correction rounds the advice is Erlang C's, and says it
	// misses.
	adv0, err := sc.Advise(context.Background(), AdviseOptions{TargetSL: 0.8, TargetWait: 15, Days: 3, Rounds: 0})
	require.NoError(t, err)
	require.Equal(t, first.Erlang, adv0.Hours[0].Groups[0].Advised)
	require.False(t, adv0.Met)
	require.Equal(t, first.SLErlang, adv0.Hours[0].Groups[0].SL, "common random numbers: the same days give the same SL")
}

// TestAdviseCLI: `sportello sim --advise` on a small scenario, its
// files, and its refusals.
func TestAdviseCLI(t *testing.T) {
	path := writeScenario(t, twoDesks)
	dir := t.TempDir()
	var out, errb bytes.Buffer
	code := Main(context.Background(), []string{"--scenario", path, "--advise", "--days", "2", "--target-sl", "0.85", "--target-wait", "10m", "--out", dir}, &out, &errb)
	require.Equal(t, 0, code, errb.String())
	md := out.String()
	for _, want := range []string{
		"## Staffing advice: two-desks", "Target: 85 % of walk-ins called within 10 min", "2 days under policy P",
		"- **g1**: CERT, RES — 4 counters", "- **g2**: TAX — 2 counters",
		"| hour | g1 arrivals/h | g1 Erlang C |", "| 08:00 | 37.6 |", "| 09:00 | 26.4 |",
	} {
		require.Contains(t, md, want)
	}
	require.Contains(t, errb.String(), "advise two-desks: round 0")
	for _, ext := range []string{".md", ".csv", ".json"} {
		_, err := os.Stat(filepath.Join(dir, "two-desks-advice"+ext))
		require.NoError(t, err, ext)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "two-desks-advice.json"))
	require.NoError(t, err)
	var adv Advice
	require.NoError(t, json.Unmarshal(raw, &adv))
	require.Equal(t, 0.85, adv.TargetSL)
	require.Contains(t, string(raw), `"id": "g2",`)
	require.Equal(t, []string{"tax-1", "tax-2"}, adv.Groups[1].Counters)
	require.Equal(t, 10.0, adv.TargetWait)
	require.Len(t, adv.Hours, 2)
	require.Len(t, adv.Hours[0].Groups, 2)
	for _, h := range adv.Hours {
		total := 0
		for _, g := range h.Groups {
			require.GreaterOrEqual(t, g.Advised, min(g.Erlang, 4))
			total += g.Advised
		}
		require.Equal(t, total, h.Advised)
	}
	csvRaw, err := os.ReadFile(filepath.Join(dir, "two-desks-advice.csv"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(csvRaw)), "\n")
	require.Len(t, lines, 5)
	require.True(t, strings.HasPrefix(lines[1], "two-desks,08:00,g1,CERT RES,37.6000,"), lines[1])

	// Same seed, same advice, byte for byte.
	var again bytes.Buffer
	require.Equal(t, 0, Main(context.Background(), []string{"--scenario", path, "--advise", "--days", "2", "--target-sl", "0.85", "--target-wait", "10m", "--quiet"}, &again, &errb))
	require.Equal(t, md, again.String())

	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--target-sl", "0.9"}, "--target-sl needs --advise"},
		{[]string{"--advise", "--target-sl", "1.5"}, "--target-sl must be a fraction in (0, 1)"},
		{[]string{"--advise", "--target-sl", "0"}, "--target-sl must be a fraction in (0, 1)"},
		{[]string{"--advise", "--target-wait", "0s"}, "--target-wait must be in (0, 8h]"},
		{[]string{"--advise", "--target-wait", "ten"}, "invalid value"},
		{[]string{"--advise", "--rounds", "-1"}, "--rounds must be in 0 … 100"},
		{[]string{"--advise", "--min-tickets", "0"}, "--min-tickets must be ≥ 1"},
		{[]string{"--advise", "--conformance", "0"}, "--advise does not combine"},
		{[]string{"--advise", "--policy", "R,P"}, "--advise checks one policy"},
	} {
		var o, e bytes.Buffer
		args := append([]string{"--scenario", path, "--days", "1", "--quiet"}, c.args...)
		got := Main(context.Background(), args, &o, &e)
		require.Equal(t, 2, got, "%v: %s", c.args, e.String())
		require.Contains(t, e.String(), c.msg, "%v", c.args)
	}
}
