package sim

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// replayKeys are the metrics of the replay's CSV and JSON, in order (the
// §9 keys of the scenario report that a replay can measure).
var replayKeys = []string{"n_walkin", "n_served", "wait_mean", "wait_p50", "wait_p90", "wait_p95", "wait_p99", "wait_max", "sl10", "sl15", "sl20", "abandon",
	"overtake", "skip", "svc_spread", "svc_max_mean", "starve45", "starve60", "normal_max", "prio_ratio", "prio_p95",
	"appt_ontime5", "appt_ontime15", "appt_late_mean", "appt_wait_mean", "seats_p95", "seats_max",
	"room_wait_mean", "room_wait_p95", "room_abandon", "room_appt_ontime5", "hard_stop_closed", "front_end"}

// value returns row's metric k (NaN when undefined or the row did not run).
func (res *ReplayResult) value(row, k string) float64 {
	m := res.Metrics[row]
	if m == nil {
		return NaN
	}
	switch k {
	case "n_served":
		return float64(m.nServed)
	case "front_end":
		return res.Days[row].FrontEnd
	}
	return m.Values[k]
}

// WriteMarkdown writes the comparison tables.
func (res *ReplayResult) WriteMarkdown(w io.Writer) error {
	r := res.Day
	c := r.Counts
	var b strings.Builder
	fmt.Fprintf(&b, "# Replay of %s — %s\n\n", r.Date, r.Site.Name.IT)
	fmt.Fprintf(&b, "- store: %s (read-only); site: %s, time zone %s\n", r.Store, r.SiteName, r.Site.Timezone)
	fmt.Fprintf(&b, "- the day: %d tickets (%d walk-ins, %d appointments, %d room visits), %d bookings never checked in; %d served, %d no-shows, %d walk-outs, %d unserved\n", c.Tickets, c.WalkIns, c.Appointments, c.RoomTickets, c.BookedNoShow, c.Served, c.NoShows, c.WalkOuts, c.Unserved)
	fmt.Fprintf(&b, "- counters opened: %d of %d; first activity %s, last counter closed %s\n", c.CountersUsed, len(r.Scenario.Counters), r.clock(0), r.clock(r.Scenario.Close))
	b.WriteString("- rows: **actual** is the log itself, scored by the simulator's metric code (bench README §9); every other row replays the same visitors through the real engine under that policy (§7), with the counters open when they were.\n")
	table := func(title, header string, cells func(row string) []string) {
		n := strings.Count(header, "|") + 1
		fmt.Fprintf(&b, "\n## %s\n\n| row | %s |\n|---|%s\n", title, header, strings.Repeat("---|", n))
		for _, row := range res.Rows {
			if _, ok := res.NotRun[row]; ok {
				fmt.Fprintf(&b, "| %s |%s\n", row, strings.Repeat(" n/a |", n))
				continue
			}
			name := row
			if row == ActualRow {
				name = "**actual**"
			}
			fmt.Fprintf(&b, "| %s | %s |\n", name, strings.Join(cells(row), " | "))
		}
	}
	v := res.value
	table("Walk-in waits and service level (minutes)", "walk-ins | served | mean | p50 | p90 | p95 | p99 | max | SL10 % | SL15 % | abandon % | unserved", func(row string) []string {
		return []string{f(v(row, "n_walkin"), 0), f(v(row, "n_served"), 0), f(v(row, "wait_mean"), 2), f(v(row, "wait_p50"), 1), f(v(row, "wait_p90"), 1), f(v(row, "wait_p95"), 1), f(v(row, "wait_p99"), 1), f(v(row, "wait_max"), 1), pct(v(row, "sl10"), 1), pct(v(row, "sl15"), 1), pct(v(row, "abandon"), 1), f(v(row, "hard_stop_closed"), 0)}
	})
	table("Fairness, priority and appointments", "svc spread | svc max mean | overtake % | skip % | prio/normal | normal max | appt ≤5 % | appt ≤15 % | appt late mean | room wait mean | room appt ≤5 % | last service", func(row string) []string {
		return []string{f(v(row, "svc_spread"), 2), f(v(row, "svc_max_mean"), 2), pct(v(row, "overtake"), 1), pct(v(row, "skip"), 1), f(v(row, "prio_ratio"), 2), f(v(row, "normal_max"), 1), pct(v(row, "appt_ontime5"), 1), pct(v(row, "appt_ontime15"), 1), f(v(row, "appt_late_mean"), 2), f(v(row, "room_wait_mean"), 2), pct(v(row, "room_appt_ontime5"), 1), r.clock(v(row, "front_end"))}
	})
	seen := r.servicesSeen()
	if len(seen) > 0 {
		var hdr []string
		for _, i := range seen {
			hdr = append(hdr, r.Scenario.Services[i].ID)
		}
		table("Mean walk-in wait per service (minutes)", strings.Join(hdr, " | "), func(row string) []string {
			ms := res.ServiceMeans(row)
			var out []string
			for _, i := range seen {
				out = append(out, f(ms[i], 2))
			}
			return out
		})
	}
	if len(res.NotRun) > 0 {
		b.WriteString("\n")
		for _, row := range res.Rows {
			if why, ok := res.NotRun[row]; ok {
				fmt.Fprintf(&b, "- %s: %s\n", row, why)
			}
		}
	}
	b.WriteString("\n## What a replay cannot know\n\n")
	for _, l := range r.Limits() {
		fmt.Fprintf(&b, "- %s\n", l)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteCSV writes the long-format CSV: date, row, service, metric, value
// (service is empty except for the per-service mean waits).
func (res *ReplayResult) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"date", "row", "service", "metric", "value"})
	for _, row := range res.Rows {
		if _, ok := res.NotRun[row]; ok {
			continue
		}
		for _, k := range replayKeys {
			_ = cw.Write([]string{res.Day.Date, row, "", k, csvVal(res.value(row, k))})
		}
		ms := res.ServiceMeans(row)
		for _, i := range res.Day.servicesSeen() {
			_ = cw.Write([]string{res.Day.Date, row, res.Day.Scenario.Services[i].ID, "wait_mean", csvVal(ms[i])})
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteJSON writes the replay as one JSON document.
func (res *ReplayResult) WriteJSON(w io.Writer) error {
	r := res.Day
	rows := map[string]any{}
	for _, row := range res.Rows {
		if why, ok := res.NotRun[row]; ok {
			rows[row] = map[string]any{"not_run": why}
			continue
		}
		obj := map[string]any{}
		for _, k := range replayKeys {
			obj[k] = jnum(res.value(row, k))
		}
		per := map[string]any{}
		ms := res.ServiceMeans(row)
		for _, i := range r.servicesSeen() {
			per[r.Scenario.Services[i].ID] = jnum(ms[i])
		}
		obj["wait_mean_by_service"] = per
		rows[row] = obj
	}
	doc := map[string]any{
		"date": r.Date, "site": r.Site.ID, "site_source": r.SiteName, "store": r.Store, "time_zone": r.Site.Timezone,
		"first_activity": r.clock(0), "counters_closed": r.clock(r.Scenario.Close),
		"counts": r.Counts, "absent_call_minutes": jnum(r.AbsentCall),
		"rows": res.Rows, "results": rows, "limits": r.Limits(),
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// WriteFiles writes DIR/replay-DATE.md, .csv and .json.
func (res *ReplayResult) WriteFiles(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return writeReports(filepath.Join(dir, "replay-"+res.Day.Date), []reportFile{{".csv", res.WriteCSV}, {".json", res.WriteJSON}, {".md", res.WriteMarkdown}})
}
