package sim

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/kpi"
	"github.com/comune-rc/sportello/staffing"
	"github.com/stretchr/testify/require"
)

// forecastSite is a small office: certificates and residence at desks 1–3
// (desk 3 certificates only), taxes at desk 4, one consultation room.
func forecastSite() *hub.Site {
	return &hub.Site{ID: "t", Timezone: "Europe/Rome", Services: []hub.Service{
		{ID: "cert", TargetWait: 15 * time.Minute, ServiceTime: 5 * time.Minute},
		{ID: "res", TargetWait: 20 * time.Minute, ServiceTime: 10 * time.Minute},
		{ID: "tax", TargetWait: 15 * time.Minute, ServiceTime: 8 * time.Minute},
		{ID: "old", Inactive: true},
		{ID: "legal", Room: true, ServiceTime: 30 * time.Minute},
	}, Counters: []hub.CounterDef{
		{ID: "1", Kind: hub.KindCounter, Services: []string{"cert", "res"}},
		{ID: "2", Kind: hub.KindCounter, Services: []string{"cert", "res"}},
		{ID: "3", Kind: hub.KindCounter, Services: []string{"cert"}},
		{ID: "4", Kind: hub.KindCounter, Services: []string{"tax"}},
		{ID: "R1", Kind: hub.KindRoom, Services: []string{"legal"}},
	}}
}

// TestForecastScenario: the forecast day becomes a scenario that parses,
// opens at the first forecast hour, carries the hourly visits as its
// profile and the counters with their skills.
func TestForecastScenario(t *testing.T) {
	f := &kpi.Forecast{Day: "2026-12-02", Basis: kpi.BasisSameWeekday,
		Arrivals: map[string]map[int]float64{
			"cert":  {9: 20, 10: 6},
			"res":   {9: 5, 11: 4},
			"tax":   {10: 4.5},
			"legal": {8: 3, 14: 2},
		},
		Service: map[string]kpi.ServiceTime{"cert": {Mean: 5, CS2: 0.25}, "res": {Mean: 12, CS2: 1}, "tax": {Mean: 8, CS2: 0.49}}}
	for _, tc := range []struct {
		name     string
		counters []staffing.Counter
		groups   int
		counter  []string
		err      string
	}{
		{name: "site counters", groups: 2, counter: []string{"k001-1", "k002-1", "k003-1", "k004-1"}},
		{name: "live skills", counters: []staffing.Counter{{ID: "1", Services: []string{"cert", "res", "tax"}}, {ID: "2", Services: []string{"res"}}}, groups: 1, counter: []string{"k001-1", "k002-1"}},
		{name: "no counter for tax", counters: []staffing.Counter{{ID: "1", Services: []string{"cert", "res"}}}, err: "no open-able counter serves tax"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc, doc, err := ForecastScenario(ForecastCheck{Site: forecastSite(), Counters: tc.counters, Forecast: f, Days: 3})
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err, string(doc))
			again, err := ParseScenario("x", doc)
			require.NoError(t, err)
			require.Equal(t, sc.Profile, again.Profile)
			require.Equal(t, 9*60, sc.Open)
			require.Equal(t, 180.0, sc.LastTicket)
			require.Equal(t, 3, sc.Days)
			require.Equal(t, 40, sc.WalkPerDay) // 39.5 rounded half up
			require.Equal(t, []float64{25, 10.5, 4}, sc.Profile)
			require.Equal(t, 60.0, sc.ProfileMinutes)
			require.Len(t, sc.Services, 3)
			require.InDelta(t, 26/39.5, sc.Services[sc.ServiceIndex["cert"]].Share, 1e-9)
			require.InDelta(t, 0.7, sc.Services[sc.ServiceIndex["tax"]].CV, 1e-9)
			require.Equal(t, 20*time.Minute, sc.Services[sc.ServiceIndex["res"]].Target)
			var got []string
			for _, c := range sc.Counters {
				got = append(got, c.ID)
			}
			require.Equal(t, tc.counter, got)
			require.False(t, sc.HasRooms)
			ids := make([]string, len(sc.Services))
			for i, s := range sc.Services {
				ids[i] = s.ID
			}
			require.Len(t, staffing.Groups(ids, sc.skillCounters()), tc.groups)
			// The scenario's own forecast gives back the hourly visits.
			hours := sc.adviceHours()
			loads := sc.forecast(hours, AdviseOptions{TargetWait: 15})
			for h, want := range []float64{25, 10.5, 4} {
				sum := 0.0
				for _, l := range loads[h] {
					sum += l.PerHour
				}
				require.InDelta(t, want*40/39.5, sum, 1e-9, "hour %d", h)
			}
		})
	}
	_, _, err := ForecastScenario(ForecastCheck{Site: forecastSite(), Forecast: &kpi.Forecast{Day: "2026-12-02", Arrivals: map[string]map[int]float64{"legal": {9: 2}}}})
	require.ErrorContains(t, err, "no front-office visits")
}

// specialistSite has one desk for passports ("pass") and seven for
// certificates only: Erlang C pools the eight desks of the group, the
// simulation sees the passports queue at the one desk that can serve it.
func specialistSite() *hub.Site {
	site := &hub.Site{ID: "t", Timezone: "Europe/Rome", Services: []hub.Service{
		{ID: "cert", TargetWait: 15 * time.Minute}, {ID: "pass", TargetWait: 15 * time.Minute}}}
	site.Counters = append(site.Counters, hub.CounterDef{ID: "1", Kind: hub.KindCounter, Services: []string{"cert", "pass"}})
	for i := 2; i <= 8; i++ {
		site.Counters = append(site.Counters, hub.CounterDef{ID: strconv.Itoa(i), Kind: hub.KindCounter, Services: []string{"cert"}})
	}
	return site
}

// SpecialistForecast is 8 certificates (5 min) and 5.8 passports (10 min)
// an hour from 9 to 11: 1.7 Erlangs, 3 desks by Erlang C.
func specialistForecast() *kpi.Forecast {
	return &kpi.Forecast{Day: "2026-12-02", Basis: kpi.BasisSameWeekday,
		Arrivals: map[string]map[int]float64{"cert": {9: 8, 10: 8}, "pass": {9: 5.8, 10: 5.8}},
		Service:  map[string]kpi.ServiceTime{"cert": {Mean: 5, CS2: 0.5}, "pass": {Mean: 10, CS2: 0.5}}}
}

// TestCheckForecastCorrectsErlangC: the console's check is Advise on
// the forecast scenario; where Erlang C's pooled desks miss the target in
// simulation it adds desks (here up to the group's eight, and says the
// target is still missed: the bottleneck is a skill, not a headcount).
func TestCheckForecastCorrectsErlangC(t *testing.T) {
	adv, err := CheckForecast(context.Background(), ForecastCheck{Site: specialistSite(), Forecast: specialistForecast()})
	require.NoError(t, err)
	require.Equal(t, ForecastCheckDays, adv.Days)
	require.Equal(t, "P", adv.Policy)
	require.Len(t, adv.Hours, 2)
	require.Greater(t, adv.Rounds, 0)
	for _, h := range adv.Hours {
		g := h.Groups[0]
		require.Equal(t, 3, g.Erlang, "%s: %+v", h.Hour, g)
		require.True(t, g.Judged)
		require.Less(t, g.SLErlang, staffing.DefaultServiceLevel, "%s: Erlang C's desks should miss in simulation: %+v", h.Hour, g)
		require.Greater(t, g.Advised, g.Erlang, "%s: %+v", h.Hour, g)
	}
	require.False(t, adv.Met)

	// Where Erlang C's desks meet the target, the check keeps them.
	easy := specialistForecast()
	easy.Arrivals["pass"] = map[int]float64{9: 2, 10: 2}
	adv, err = CheckForecast(context.Background(), ForecastCheck{Site: specialistSite(), Forecast: easy})
	require.NoError(t, err)
	require.True(t, adv.Met)
	for _, h := range adv.Hours {
		require.Equal(t, h.Groups[0].Erlang, h.Groups[0].Advised, "%s", h.Hour)
		require.GreaterOrEqual(t, h.Groups[0].SLErlang, staffing.DefaultServiceLevel)
	}
}
