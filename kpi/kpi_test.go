package kpi_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/kpi"
	"github.com/stretchr/testify/require"
)

// handDay is the morning worked out on paper in TestFiguresByHand.
func handDay() *logSource {
	b := &logBuilder{src: &logSource{}}
	// T1 certificati (target 15): waits 10, served 5 (started), rated 5.
	b.issued("T1", "certificati", "09:00", "")
	b.called("T1", "09:10", "1", "clerk01")
	b.simple(hub.EventTicketStarted, "T1", "09:11", "1")
	b.simple(hub.EventTicketFinished, "T1", "09:16", "1")
	// T2 certificati: waits 20, served 8 from the call (no start), rated 2.
	b.issued("T2", "certificati", "09:05", "")
	// T3 certificati: waits 24 at counter 2, no-show.
	b.issued("T3", "certificati", "09:06", "")
	b.add(hub.EventTicketRated, at("09:17"), hub.EventData{TicketID: "T1", Score: 5})
	b.called("T2", "09:25", "1", "clerk01")
	b.called("T3", "09:30", "2", "clerk02")
	b.simple(hub.EventTicketFinished, "T2", "09:33", "1")
	b.simple(hub.EventTicketNoShow, "T3", "09:35", "2")
	b.add(hub.EventTicketRated, at("09:40"), hub.EventData{TicketID: "T2", Score: 2})
	// T4 cie (target 25) with a 10:10 appointment, checked in 10:00 (on
	// time): waits 5 at counter 3, transferred to counter 4, served 10.
	b.issued("T4", "cie", "10:00", "10:10")
	b.called("T4", "10:05", "3", "clerk03")
	b.add(hub.EventTicketTransferred, at("10:08"), hub.EventData{TicketID: "T4", FromCounter: "3"})
	b.called("T4", "10:20", "4", "clerk04")
	b.simple(hub.EventTicketStarted, "T4", "10:21", "4")
	// T5 certificati: leaves after 20 minutes (beyond the target).
	b.issued("T5", "certificati", "10:30", "")
	b.simple(hub.EventTicketFinished, "T4", "10:31", "4")
	b.add(hub.EventTicketRated, at("10:35"), hub.EventData{TicketID: "T4", Score: 4})
	// T7 cie with a 10:00 appointment, checked in 10:40 (late): waits 5.
	b.issued("T7", "cie", "10:40", "10:00")
	b.called("T7", "10:45", "3", "clerk03")
	b.simple(hub.EventTicketCancelled, "T5", "10:50", "")
	b.simple(hub.EventTicketFinished, "T7", "10:55", "3")
	// T6 informazioni (target 10): still waiting at the end of the day.
	b.issued("T6", "informazioni", "11:00", "")
	b.add(hub.EventTicketCancelled, at("13:00"), hub.EventData{TicketID: "T6", Outcome: "end_of_day"})
	// A ticket issued before the period (no issued event) is ignored.
	b.called("OLD", "11:30", "1", "clerk01")
	return b.src
}

type want struct {
	visits, called, inTarget, missed, served, noShows, transfers, walkOuts, unserved, appts, onTime, late, ratings int
	meanWait, p90Wait, sl, meanService, p90Service, punct, sat, satisfied                                          *float64
}

func f(v float64) *float64 { return &v }

func checkAgg(t *testing.T, name string, a *kpi.Agg, w want) {
	t.Helper()
	got := want{a.Visits, a.Called, a.InTarget, a.Missed, a.Served, a.NoShows, a.Transfers, a.WalkOuts, a.Unserved, a.Appointments, a.OnTime, a.Late, a.RatingCount(),
		nil, nil, nil, nil, nil, nil, nil, nil}
	require.Equal(t, w.visits, got.visits, "%s visits", name)
	counts := func(x want) []int {
		return []int{x.visits, x.called, x.inTarget, x.missed, x.served, x.noShows, x.transfers, x.walkOuts, x.unserved, x.appts, x.onTime, x.late, x.ratings}
	}
	require.Equal(t, counts(w), counts(got), "%s: visits, called, in target, missed, served, no-shows, transfers, walk-outs, unserved, appointments, on time, late, ratings", name)
	for _, c := range []struct {
		what string
		v    kpi.Value
		w    *float64
	}{
		{"mean wait", a.MeanWait(), w.meanWait}, {"p90 wait", a.P90Wait(), w.p90Wait}, {"service level", a.ServiceLevel(), w.sl},
		{"mean service", a.MeanService(), w.meanService}, {"p90 service", a.P90Service(), w.p90Service}, {"punctuality", a.Punctuality(), w.punct},
		{"satisfaction", a.Satisfaction(), w.sat}, {"satisfied", a.Satisfied(), w.satisfied},
	} {
		if c.w == nil {
			require.False(t, c.v.OK, "%s %s should be undefined, is %v", name, c.what, c.v.V)
			continue
		}
		require.True(t, c.v.OK, "%s %s is undefined", name, c.what)
		require.InDelta(t, *c.w, c.v.V, 1e-9, "%s %s", name, c.what)
	}
}

func TestFiguresByHand(t *testing.T) {
	site := hub.BuiltinSite()
	now := at("23:00").AddDate(0, 0, 5)
	rep, err := kpi.Build(handDay(), site, "2026-11-02", "2026-11-02", now)
	require.NoError(t, err)

	cases := []struct {
		name string
		agg  *kpi.Agg
		want want
	}{
		{"total", rep.Total, want{visits: 7, called: 5, inTarget: 3, missed: 2, served: 4, noShows: 1, transfers: 1, walkOuts: 1, unserved: 1, appts: 2, onTime: 1, late: 1, ratings: 3,
			meanWait: f(64.0 / 5), p90Wait: f(24), sl: f(3.0 / 7), meanService: f(33.0 / 4), p90Service: f(10), punct: f(0.5), sat: f(11.0 / 3), satisfied: f(2.0 / 3)}},
		{"certificati", rep.Service("certificati").Agg, want{visits: 4, called: 3, inTarget: 1, missed: 1, served: 2, noShows: 1, walkOuts: 1, ratings: 2,
			meanWait: f(18), p90Wait: f(24), sl: f(0.25), meanService: f(6.5), p90Service: f(8), sat: f(3.5), satisfied: f(0.5)}},
		{"cie", rep.Service("cie").Agg, want{visits: 2, called: 2, inTarget: 2, served: 2, transfers: 1, appts: 2, onTime: 1, late: 1, ratings: 1,
			meanWait: f(5), p90Wait: f(5), sl: f(1), meanService: f(10), p90Service: f(10), punct: f(0.5), sat: f(4), satisfied: f(1)}},
		{"informazioni", rep.Service("informazioni").Agg, want{visits: 1, missed: 1, unserved: 1, sl: f(0)}},
		{"residenza (no visits)", rep.Service("residenza").Agg, want{}},
		{"counter 1", rep.Counters[0].Agg, want{visits: 2, called: 2, inTarget: 1, served: 2, ratings: 2,
			meanWait: f(15), p90Wait: f(20), sl: f(0.5), meanService: f(6.5), p90Service: f(8), sat: f(3.5), satisfied: f(0.5)}},
		{"counter 2", rep.Counters[1].Agg, want{visits: 1, called: 1, noShows: 1, meanWait: f(24), p90Wait: f(24), sl: f(0)}},
		{"counter 3", rep.Counters[2].Agg, want{visits: 2, called: 2, inTarget: 2, served: 1, transfers: 1,
			meanWait: f(5), p90Wait: f(5), sl: f(1), meanService: f(10), p90Service: f(10)}},
		{"counter 4", rep.Counters[3].Agg, want{served: 1, ratings: 1, meanService: f(10), p90Service: f(10), sat: f(4), satisfied: f(1)}},
		{"hour 9", rep.Hours[0].Agg, want{visits: 3, called: 3, inTarget: 1, served: 2, noShows: 1, ratings: 2,
			meanWait: f(18), p90Wait: f(24), sl: f(1.0 / 3), meanService: f(6.5), p90Service: f(8), sat: f(3.5), satisfied: f(0.5)}},
	}
	for _, c := range cases {
		checkAgg(t, c.name, c.agg, c.want)
	}
	require.Equal(t, "1", rep.Counters[0].Key)
	require.Equal(t, []string{"09:00", "10:00", "11:00"}, []string{rep.Hours[0].Label.IT, rep.Hours[1].Label.IT, rep.Hours[2].Label.IT})
	require.Equal(t, []string{"clerk01", "clerk02", "clerk03", "clerk04"}, []string{rep.Clerks[0].Key, rep.Clerks[1].Key, rep.Clerks[2].Key, rep.Clerks[3].Key})
	checkAgg(t, "clerk03", rep.Clerks[2].Agg, want{visits: 2, called: 2, inTarget: 2, served: 1, transfers: 1,
		meanWait: f(5), p90Wait: f(5), sl: f(1), meanService: f(10), p90Service: f(10)})
	checkAgg(t, "clerk04", rep.Clerks[3].Agg, want{served: 1, ratings: 1, meanService: f(10), p90Service: f(10), sat: f(4), satisfied: f(1)})
	// Satisfaction against wait: T4 (5 min) gave 4 and T1 (10 min) 5 in
	// the 5–15 band, T2 (20 min) gave 2 in the 15–30 band.
	require.False(t, rep.Total.SatisfactionByWait(0).OK)
	require.InDelta(t, 4.5, rep.Total.SatisfactionByWait(1).V, 1e-9)
	require.InDelta(t, 2.0, rep.Total.SatisfactionByWait(2).V, 1e-9)
	require.Equal(t, []int{0, 2, 1, 0}, []int{rep.Total.RatingsInBand(0), rep.Total.RatingsInBand(1), rep.Total.RatingsInBand(2), rep.Total.RatingsInBand(3)})
	require.Len(t, rep.Days, 1)
	require.Equal(t, 7, rep.Days[0].Visits)
}

func TestPercentile(t *testing.T) {
	cases := []struct {
		values []int
		p      float64
		want   int
		ok     bool
	}{
		{nil, 90, 0, false},
		{[]int{7}, 90, 7, true},
		{[]int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 90, 9, true},
		{[]int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 90, 10, true},
		{[]int{5, 5, 5, 100}, 90, 100, true},
		{[]int{3, 1, 2}, 50, 2, true},
	}
	for _, c := range cases {
		h := kpi.Hist{}
		for _, v := range c.values {
			h[v]++
		}
		got, ok := h.Percentile(c.p)
		require.Equal(t, c.ok, ok, "%v", c.values)
		require.Equal(t, c.want, got, "p%v of %v", c.p, c.values)
	}
}

// TestStoredDaysMatchReplay: the day Keep stores gives the same report as
// the replay of its events, and survives the loss of the events.
func TestStoredDaysMatchReplay(t *testing.T) {
	site := hub.BuiltinSite()
	src := handDay()
	// Not yet: ratings may still come within the rating window.
	n, err := kpi.Keep(src, src, site, at("23:00"))
	require.NoError(t, err)
	require.Zero(t, n)
	n, err = kpi.Keep(src, src, site, at("23:00").Add(hub.RatingWindow+24*time.Hour))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	var d kpi.Day
	require.NoError(t, json.Unmarshal(src.stored["2026-11-02"], &d))
	require.Equal(t, 7, d.Total.Visits)
	require.NotContains(t, string(src.stored["2026-11-02"]), "T1", "no ticket ids in the aggregates")

	live, err := kpi.Build(handDay(), site, "2026-11-02", "2026-11-02", at("23:00"))
	require.NoError(t, err)
	src.events = nil // pruned
	kept, err := kpi.Build(src, site, "2026-11-02", "2026-11-02", at("23:00"))
	require.NoError(t, err)
	require.Equal(t, mustJSON(live.Total), mustJSON(kept.Total))
	require.Equal(t, mustJSON(live.Services), mustJSON(kept.Services))
	require.Equal(t, mustJSON(live.Clerks), mustJSON(kept.Clerks))
	require.Equal(t, mustJSON(live.Hours), mustJSON(kept.Hours))
	// A second Keep stores nothing more.
	n, err = kpi.Keep(src, src, site, at("23:00").Add(hub.RatingWindow+24*time.Hour))
	require.NoError(t, err)
	require.Zero(t, n)
}

func TestEmptyPeriodAndBadInput(t *testing.T) {
	site := hub.BuiltinSite()
	rep, err := kpi.Month(&logSource{}, site, "2026-02", at("12:00"))
	require.NoError(t, err)
	require.Len(t, rep.Days, 28)
	require.Zero(t, rep.Total.Visits)
	require.False(t, rep.Total.MeanWait().OK)
	require.Len(t, rep.Services, len(site.Services))
	_, err = kpi.Month(&logSource{}, site, "2026-13", at("12:00"))
	require.ErrorContains(t, err, "YYYY-MM")
	_, err = kpi.Build(&logSource{}, site, "2026-11-05", "2026-11-01", at("12:00"))
	require.ErrorContains(t, err, "before it starts")
}
