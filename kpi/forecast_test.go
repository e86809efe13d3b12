package kpi_test

import (
	"testing"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/kpi"
	"github.com/stretchr/testify/require"
)

// on is a time of November 2026 in Rome.
func on(day int, hhmm string) time.Time {
	t, err := time.ParseInLocation("2 15:04", time.Date(2026, 11, day, 0, 0, 0, 0, rome).Format("2")+" "+hhmm, rome)
	if err != nil {
		panic(err)
	}
	return time.Date(2026, 11, day, t.Hour(), t.Minute(), 0, 0, rome)
}

// TestForecastDay: the forecast averages the same weekday of the past
// weeks, falls back to every recent day, says when there is no history,
// and reads stored days that predate the per-service hours.
func TestForecastDay(t *testing.T) {
	b := &logBuilder{src: &logSource{}}
	issue := func(id, service string, day int, hhmm string) {
		b.add(hub.EventTicketIssued, on(day, hhmm), hub.EventData{TicketID: id, Service: service})
	}
	ev := func(typ, id string, day int, hhmm string) {
		b.add(typ, on(day, hhmm), hub.EventData{TicketID: id, Counter: "1", Clerk: "clerk01"})
	}
	// Monday 2 November: two certificates at 9 (served in 6 and 4
	// minutes from the call), an identity card at 10.
	issue("A1", "certificati", 2, "09:00")
	ev(hub.EventTicketCalled, "A1", 2, "09:05")
	issue("A2", "certificati", 2, "09:10")
	ev(hub.EventTicketFinished, "A1", 2, "09:11")
	ev(hub.EventTicketCalled, "A2", 2, "09:15")
	ev(hub.EventTicketFinished, "A2", 2, "09:19")
	issue("C1", "cie", 2, "10:00")
	// Tuesday 3 November: one information visit at 11.
	issue("I1", "informazioni", 3, "11:00")
	// Monday 9 November: four certificates at 9.
	for i, m := range []string{"09:20", "09:30", "09:40", "09:50"} {
		issue("B"+string(rune('1'+i)), "certificati", 9, m)
	}
	site := hub.BuiltinSite()

	f, err := kpi.ForecastDay(b.src, site, on(16, "08:00"), 4)
	require.NoError(t, err)
	require.Equal(t, "2026-11-16", f.Day)
	require.Equal(t, kpi.BasisSameWeekday, f.Basis)
	require.Equal(t, []string{"2026-11-02", "2026-11-09"}, f.Days)
	require.Equal(t, map[int]float64{9: 3}, f.Arrivals["certificati"])
	require.Equal(t, map[int]float64{10: 0.5}, f.Arrivals["cie"])
	require.NotContains(t, f.Arrivals, "informazioni", "a Tuesday is not a Monday")
	cert := f.Service["certificati"]
	require.InDelta(t, 5, cert.Mean, 1e-9)
	require.InDelta(t, 1.0/25, cert.CS2, 1e-9) // times 6 and 4: variance 1, mean 5
	require.Equal(t, 2, cert.Served)
	cie, _ := site.Service("cie")
	require.Equal(t, kpi.ServiceTime{Mean: cie.ServiceTime.Minutes(), CS2: 1}, f.Service["cie"], "nothing served: the site's typical time")

	// A Sunday has no Sunday history: every recent day counts.
	f, err = kpi.ForecastDay(b.src, site, on(15, "08:00"), 4)
	require.NoError(t, err)
	require.Equal(t, kpi.BasisRecentDays, f.Basis)
	require.Equal(t, []string{"2026-11-02", "2026-11-03", "2026-11-09"}, f.Days)
	require.Equal(t, map[int]float64{9: 2}, f.Arrivals["certificati"])
	require.InDelta(t, 1.0/3, f.Arrivals["informazioni"][11], 1e-12)

	// The first day has no history at all.
	f, err = kpi.ForecastDay(b.src, site, on(2, "08:00"), 4)
	require.NoError(t, err)
	require.Equal(t, kpi.BasisNone, f.Basis)
	require.Empty(t, f.Days)
	require.Empty(t, f.Arrivals)

	// A day stored before the per-service hours existed: its hours are
	// split by its services' shares (3 certificates and 1 identity card;
	// 2 visits at 9 and 2 at 10).
	require.NoError(t, b.src.PutAggregates(map[string][]byte{"2026-11-23": []byte(`{"v":1,"day":"2026-11-23","total":{"visits":4},` +
		`"services":{"certificati":{"visits":3},"cie":{"visits":1}},"hours":{"9":{"visits":2},"10":{"visits":2}}}`)}))
	f, err = kpi.ForecastDay(b.src, site, on(30, "08:00"), 4)
	require.NoError(t, err)
	require.Equal(t, []string{"2026-11-02", "2026-11-09", "2026-11-23"}, f.Days)
	require.InDelta(t, (2+4+1.5)/3.0, f.Arrivals["certificati"][9], 1e-12)
	require.InDelta(t, 1.5/3, f.Arrivals["certificati"][10], 1e-12)
	require.InDelta(t, (1+0.5)/3.0, f.Arrivals["cie"][10], 1e-12)
}
