package sim

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
)

// Carried states what the engine carries from one simulated day to the
// next (§6.9).
const Carried = "nothing: every (day, policy) runs on a fresh engine and an empty in-memory store. Under P the engine runs hub.FairPolicy with its defaults (the hard bound 45 min, every service's target 20 min) and hub.ProjectionEstimator, which uses the services' configured mean times and learns within the day only (call outcomes, pauses, arrival rates, bookings' show rate and check-in offset, its own errors); the scenario's break plan reaches the estimator as the site's break rota (hub.Site.Breaks, §6.9), as a site file's does in the hub. The reference policies get the engine's simple CapacityEstimator."

// metricKeys are the §9–§10 keys written to CSV/JSON, in order.
var metricKeys = []string{"n_walkin", "wait_mean", "wait_p50", "wait_p90", "wait_p95", "wait_p99", "wait_max", "p_wait", "sl10", "sl15", "sl20", "abandon",
	"overtake", "skip", "svc_spread", "svc_max_mean", "starve45", "starve60", "normal_max", "prio_ratio", "prio_p95",
	"appt_ontime5", "appt_ontime15", "appt_late_mean", "appt_wait_mean", "overtime_mean", "overtime_max", "seats_over", "seats_p95", "seats_max",
	"room_wait_mean", "room_wait_p95", "room_abandon", "room_appt_ontime5", "room_overtime_mean", "ewt_over45", "advice_missed", "hard_stop_closed"}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		v := bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				v += " " + s.Value
			}
		}
		return v
	}
	return "unknown"
}

// rows returns the report rows in §11.2 order.
func (r *Result) rows() []string {
	var out []string
	for _, p := range PolicyIDs {
		for _, q := range r.Policies {
			if p == q {
				out = append(out, p)
			}
		}
	}
	return out
}

func f(x float64, dec int) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "–"
	}
	return strconv.FormatFloat(x, 'f', dec, 64)
}

func pct(x float64, dec int) string {
	if math.IsNaN(x) {
		return "–"
	}
	return f(100*x, dec)
}

// Paired returns the paired differences A − B over days.
func (r *Result) Paired(a, b string) (Paired, bool) {
	ma, mb := r.Metrics[a], r.Metrics[b]
	if ma == nil || mb == nil {
		return Paired{}, false
	}
	p := Paired{A: a, B: b}
	p.SL15, p.SL15CI = pairedDiff(ma.DaySL15, mb.DaySL15)
	p.SL15, p.SL15CI = 100*p.SL15, 100*p.SL15CI
	p.Mean, p.MeanCI = pairedDiff(ma.DayMean, mb.DayMean)
	return p, true
}

// WriteMarkdown writes the §11.2 report.
func (r *Result) WriteMarkdown(w io.Writer) error {
	sc := r.Scenario
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", sc.Name)
	if sc.Description != "" {
		fmt.Fprintf(&b, "%s\n\n", sc.Description)
	}
	fmt.Fprintf(&b, "- days: %d (file: %d), seed: %d (file: %d)\n- product: sportello %s\n- carried across days: %s\n- run time: %s\n\n", r.Days, sc.Days, sc.Seed, sc.FileSeed, version(), Carried, r.Elapsed.Round(1e9))
	e := r.Erlang
	b.WriteString("## Erlang reference (§8)\n\n")
	fmt.Fprintf(&b, "λ = %.2f /h, E[S] = %.2f min, c_s² = %.3f, ρ_peak = %.3f\n\n", e.LambdaPerH, e.ES, e.Cs2, e.RhoPeak)
	b.WriteString("| counters | ρ | C | W_q | SL10 % | SL15 % | SL20 % |\n|---|---|---|---|---|---|---|\n")
	for _, at := range []ErlangAt{e.AtC, e.AtCEff} {
		if at.Unstable {
			fmt.Fprintf(&b, "| %s | %.3f | unstable | unstable | unstable | unstable | unstable |\n", f(at.C, 1), at.Rho)
			continue
		}
		fmt.Fprintf(&b, "| %s | %.3f | %.3f | %s | %s | %s | %s |\n", f(at.C, 1), at.Rho, at.PWait, f(at.Wq, 2), pct(at.SL10, 1), pct(at.SL15, 1), pct(at.SL20, 1))
	}
	rows := r.rows()
	table := func(title, header string, cells func(m *Metrics) []string) {
		fmt.Fprintf(&b, "\n## %s\n\n| policy | %s |\n|---|%s\n", title, header, strings.Repeat("---|", strings.Count(header, "|")+1))
		for _, p := range rows {
			m := r.Metrics[p]
			if m == nil {
				fmt.Fprintf(&b, "| %s |%s\n", p, strings.Repeat(" n/a |", strings.Count(header, "|")+1))
				continue
			}
			fmt.Fprintf(&b, "| %s | %s |\n", p, strings.Join(cells(m), " | "))
		}
	}
	table("Table A: walk-in waits and service level", "tickets | mean | p50 | p90 | p95 | p99 | max | SL10 % | SL15 % | SL20 % | abandon %", func(m *Metrics) []string {
		v := m.Values
		return []string{f(v["n_walkin"], 0), f(v["wait_mean"], 2), f(v["wait_p50"], 1), f(v["wait_p90"], 1), f(v["wait_p95"], 1), f(v["wait_p99"], 1), f(v["wait_max"], 1), pct(v["sl10"], 1), pct(v["sl15"], 1), pct(v["sl20"], 1), pct(v["abandon"], 2)}
	})
	table("Table B: fairness, priority and starvation", "overtake % | skip % | svc spread | svc max mean | normal >45 % | normal >60 % | normal max | prio/normal | prio p95", func(m *Metrics) []string {
		v := m.Values
		return []string{pct(v["overtake"], 2), pct(v["skip"], 2), f(v["svc_spread"], 2), f(v["svc_max_mean"], 2), pct(v["starve45"], 2), pct(v["starve60"], 2), f(v["normal_max"], 1), f(v["prio_ratio"], 2), f(v["prio_p95"], 1)}
	})
	table("Table C: appointments, operations, waiting room, rooms", fmt.Sprintf("appt ≤5 %% | appt ≤15 %% | appt late mean | appt wait mean | overtime mean | overtime max | seats>%d %% | seats p95 | seats max | room wait mean | room wait p95 | room abandon %% | room appt ≤5 %% | room overtime", sc.Seats), func(m *Metrics) []string {
		v := m.Values
		return []string{pct(v["appt_ontime5"], 1), pct(v["appt_ontime15"], 1), f(v["appt_late_mean"], 2), f(v["appt_wait_mean"], 2), f(v["overtime_mean"], 2), f(v["overtime_max"], 1), pct(v["seats_over"], 2), f(v["seats_p95"], 1), f(v["seats_max"], 0), f(v["room_wait_mean"], 2), f(v["room_wait_p95"], 1), pct(v["room_abandon"], 2), pct(v["room_appt_ontime5"], 1), f(v["room_overtime_mean"], 2)}
	})
	b.WriteString("\n## Table D: EWT (§10)\n\nPredictor P is the engine's own estimate (TicketView.EWT read right after Issue); it is scored under every policy but is meaningful only under P.\n\n| policy | predictor | n | actual mean | MAE | RMSE | P90 abs err | within ±5 % | under >5 % | bias |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, p := range rows {
		m := r.Metrics[p]
		if m == nil {
			continue
		}
		best := ""
		for _, n := range PredNames {
			if s := m.EWT[n]; s.N > 0 && (best == "" || s.MAE < m.EWT[best].MAE) {
				best = n
			}
		}
		for _, n := range PredNames {
			s := m.EWT[n]
			mae := f(s.MAE, 2)
			if n == best {
				mae = "**" + mae + "**"
			}
			fmt.Fprintf(&b, "| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s |\n", p, n, s.N, f(s.ActualMean, 2), mae, f(s.RMSE, 2), f(s.P90AE, 2), pct(s.Within5, 1), pct(s.Under5, 1), f(s.Bias, 2))
		}
	}
	b.WriteString("\n## Table E: paired differences over days (mean ± 95 % CI half-width)\n\n| pair | SL15 (pp) | mean wait (min) |\n|---|---|---|\n")
	for _, pr := range [][2]string{{"P", "R"}, {"P", "B2"}, {"P", "B1"}} {
		if p, ok := r.Paired(pr[0], pr[1]); ok {
			fmt.Fprintf(&b, "| %s − %s | %s ± %s | %s ± %s |\n", pr[0], pr[1], f(p.SL15, 2), f(p.SL15CI, 2), f(p.Mean, 2), f(p.MeanCI, 2))
		}
	}
	if ts := r.Targets(); len(ts) > 0 {
		fmt.Fprintf(&b, "\n## Targets (§12), measured on %d days", r.Days)
		if r.Days != sc.Days || sc.Seed != sc.FileSeed {
			fmt.Fprintf(&b, " — NOT the file's %d-day run with seed %d that the targets are defined on", sc.Days, sc.FileSeed)
		}
		b.WriteString("\n\n| target | metric | threshold | value | met? |\n|---|---|---|---|---|\n")
		for _, t := range ts {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", t.ID, t.Metric, t.Threshold, t.Value, t.Met)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func csvVal(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "nan"
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

// WriteCSV writes the §11.3 long-format CSV.
func (r *Result) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"scenario", "policy", "predictor", "metric", "value"})
	name := r.Scenario.Name
	for _, p := range r.rows() {
		m := r.Metrics[p]
		if m == nil {
			continue
		}
		for _, k := range metricKeys {
			_ = cw.Write([]string{name, p, "", k, csvVal(m.Values[k])})
		}
		for _, n := range PredNames {
			s := m.EWT[n]
			for _, kv := range []struct {
				k string
				v float64
			}{{"ewt_n", float64(s.N)}, {"ewt_actual_mean", s.ActualMean}, {"ewt_mae", s.MAE}, {"ewt_rmse", s.RMSE}, {"ewt_p90ae", s.P90AE}, {"ewt_within5", s.Within5}, {"ewt_under5", s.Under5}, {"ewt_bias", s.Bias}} {
				_ = cw.Write([]string{name, p, n, kv.k, csvVal(kv.v)})
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// jnum is a float that marshals NaN as null.
type jnum float64

func (x jnum) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
		return []byte("null"), nil
	}
	return []byte(strconv.FormatFloat(float64(x), 'g', -1, 64)), nil
}

func erlangJSON(a ErlangAt) map[string]any {
	if a.Unstable {
		return map[string]any{"c": jnum(a.C), "rho": jnum(a.Rho), "unstable": true}
	}
	return map[string]any{"c": jnum(a.C), "rho": jnum(a.Rho), "C": jnum(a.PWait), "Wq": jnum(a.Wq), "sl10": jnum(a.SL10), "sl15": jnum(a.SL15), "sl20": jnum(a.SL20)}
}

// WriteJSON writes the §11.4 document.
func (r *Result) WriteJSON(w io.Writer) error {
	e := r.Erlang
	pol := map[string]any{}
	for _, p := range r.rows() {
		m := r.Metrics[p]
		if m == nil {
			pol[p] = nil
			continue
		}
		obj := map[string]any{}
		for _, k := range metricKeys {
			obj[k] = jnum(m.Values[k])
		}
		ewt := map[string]any{}
		for _, n := range PredNames {
			s := m.EWT[n]
			ewt[n] = map[string]any{"n": s.N, "actual_mean": jnum(s.ActualMean), "mae": jnum(s.MAE), "rmse": jnum(s.RMSE), "p90ae": jnum(s.P90AE), "within5": jnum(s.Within5), "under5": jnum(s.Under5), "bias": jnum(s.Bias)}
		}
		obj["ewt"] = ewt
		pol[p] = obj
	}
	var targets []map[string]string
	for _, t := range r.Targets() {
		targets = append(targets, map[string]string{"id": t.ID, "metric": t.Metric, "threshold": t.Threshold, "value": t.Value, "met": t.Met})
	}
	doc := map[string]any{
		"scenario": r.Scenario.Name, "seed": r.Scenario.Seed, "days": r.Days, "carried": Carried, "version": version(),
		"erlang": map[string]any{"lambda_per_h": jnum(e.LambdaPerH), "ES": jnum(e.ES), "cs2": jnum(e.Cs2), "staffed": e.Staffed, "c_eff": jnum(e.CEff),
			"at_c": erlangJSON(e.AtC), "at_c_eff": erlangJSON(e.AtCEff), "rho_peak": jnum(e.RhoPeak)},
		"policies": pol,
		"targets":  targets,
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// WriteFiles writes DIR/<name>.md, .csv and .json.
func (r *Result) WriteFiles(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	paths, err := writeReports(filepath.Join(dir, safeName(r.Scenario.Name)), []reportFile{{".md", r.WriteMarkdown}, {".csv", r.WriteCSV}, {".json", r.WriteJSON}})
	sort.Strings(paths)
	return paths, err
}

// reportFile is one format of a report: its file extension and writer.
type reportFile struct {
	ext   string
	write func(io.Writer) error
}

// writeReports writes base+ext for each format and returns the paths
// written.
func writeReports(base string, files []reportFile) ([]string, error) {
	var paths []string
	for _, x := range files {
		p := base + x.ext
		fh, err := os.Create(p)
		if err != nil {
			return paths, err
		}
		err = x.write(fh)
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return paths, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 || r == ':' {
			return '_'
		}
		return r
	}, s)
}

// report is what each mode of `sportello sim` (a scenario, a replay, the
// staffing advice) hands back: its files for --out and its markdown for
// stdout.
type report interface {
	WriteFiles(dir string) ([]string, error)
	WriteMarkdown(w io.Writer) error
}

// emit writes r's files into out when it is set, then what also writes
// there, and r's markdown on stdout; it returns the exit code.
func emit(r report, out string, also func(dir string) error, stdout, stderr io.Writer) int {
	if out != "" {
		paths, err := r.WriteFiles(out)
		if err != nil {
			fmt.Fprintf(stderr, "sportello sim: write report: %v\n", err)
			return 1
		}
		if also != nil {
			if err := also(out); err != nil {
				fmt.Fprintf(stderr, "sportello sim: %v\n", err)
				return 1
			}
		}
		for _, p := range paths {
			fmt.Fprintf(stderr, "wrote %s\n", p)
		}
	}
	if err := r.WriteMarkdown(stdout); err != nil {
		fmt.Fprintf(stderr, "sportello sim: %v\n", err)
		return 1
	}
	return 0
}
