package kpi

import (
	"encoding/csv"
	"io"
	"strconv"
)

// CSVHeader are the columns of the CSV export: one row per slice, the
// dimension and key first, figures with a dot decimal (minutes, percent,
// scores), empty when undefined.
var CSVHeader = []string{"dimension", "key", "name", "visits", "called", "mean_wait_min", "p90_wait_min", "service_level_pct", "target_wait_min",
	"served", "mean_service_min", "p90_service_min", "no_shows", "transfers", "walk_outs", "unserved",
	"appointments", "punctual_pct", "ratings", "satisfaction", "satisfied_pct"}

// WriteCSV writes the report as CSV: the total, then services, counters,
// clerks (only when withClerks: supervisors), hours and days.
func (r *Report) WriteCSV(w io.Writer, withClerks bool) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	row := func(dim string, x Row) error {
		target := ""
		if x.Target > 0 {
			target = strconv.Itoa(int(x.Target.Minutes()))
		}
		a := x.Agg
		return cw.Write([]string{dim, x.Key, x.Label.IT, strconv.Itoa(a.Visits), strconv.Itoa(a.Called),
			machine(a.MeanWait(), 1), machine(a.P90Wait(), 1), machine(a.ServiceLevel(), 100), target,
			strconv.Itoa(a.Served), machine(a.MeanService(), 1), machine(a.P90Service(), 1),
			strconv.Itoa(a.NoShows), strconv.Itoa(a.Transfers), strconv.Itoa(a.WalkOuts), strconv.Itoa(a.Unserved),
			strconv.Itoa(a.Appointments), machine(a.Punctuality(), 100), strconv.Itoa(a.RatingCount()),
			machine(a.Satisfaction(), 1), machine(a.Satisfied(), 100)})
	}
	if err := row("total", Row{Key: r.From + "/" + r.To, Agg: r.Total}); err != nil {
		return err
	}
	groups := []struct {
		dim  string
		rows []Row
	}{{"service", r.Services}, {"counter", r.Counters}, {"hour", r.Hours}, {"day", r.Days}}
	if withClerks {
		groups = append(groups[:2], append([]struct {
			dim  string
			rows []Row
		}{{"clerk", r.Clerks}}, groups[2:]...)...)
	}
	for _, g := range groups {
		for _, x := range g.rows {
			if err := row(g.dim, x); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}
