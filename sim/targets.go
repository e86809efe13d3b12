package sim

import (
	"fmt"
	"math"
	"strings"
)

// Target is one row of the §12 targets table.
type Target struct {
	ID, Metric, Threshold, Value, Met string
}

// Targets evaluates §12 for P. S2-like scenarios (name S2-…, or a
// held-back file where R reaches SL15 ≥ 80 %) use §12.1 and §12.3's S2
// rows; S3-like ones use §12.2 and §12.3's S3 rows. Needs P (and R for
// the relative forms); returns nil without P.
func (r *Result) Targets() []Target {
	p := r.Metrics["P"]
	if p == nil {
		return nil
	}
	rm := r.Metrics["R"]
	rv := func(k string) float64 {
		if rm == nil {
			return NaN
		}
		return rm.Values[k]
	}
	v := p.Values
	name := r.Scenario.Name
	set := ""
	switch {
	case strings.HasPrefix(name, "S2"):
		set = "S2"
	case strings.HasPrefix(name, "S3"):
		set = "S3"
	case strings.HasPrefix(name, "S1"), strings.HasPrefix(name, "V1"):
		return nil
	case rm != nil && rv("sl15") >= 0.8:
		set = "S2"
	default:
		set = "S3"
	}
	var out []Target
	yes := func(b bool, vals ...float64) string {
		for _, x := range vals {
			if math.IsNaN(x) {
				return "undefined"
			}
		}
		if b {
			return "yes"
		}
		return "NO"
	}
	add := func(id, metric, thr, val, met string) {
		out = append(out, Target{id, metric, thr, val, met})
	}
	pc := func(x float64) string { return pct(x, 2) + " %" }
	mn := func(x float64) string { return f(x, 2) + " min" }
	ewtP := p.EWT["P"]
	if set == "S2" {
		a, b := v["sl15"] >= 0.91, v["sl15"] >= rv("sl15")-0.024
		add("S2-1", "sl15", fmt.Sprintf("≥ 91 %% or ≥ R − 2.4 pp (R %s)", pc(rv("sl15"))), pc(v["sl15"]), yes(a || b, v["sl15"]))
		a, b = v["sl10"] >= 0.88, v["sl10"] >= rv("sl10")+0.005
		add("S2-2", "sl10", fmt.Sprintf("≥ 88 %% or ≥ R + 0.5 pp (R %s)", pc(rv("sl10"))), pc(v["sl10"]), yes(a || b, v["sl10"]))
		add("S2-3", "wait_mean", fmt.Sprintf("≤ R (%s)", mn(rv("wait_mean"))), mn(v["wait_mean"]), yes(v["wait_mean"] <= rv("wait_mean"), v["wait_mean"], rv("wait_mean")))
		add("S2-4", "wait_p95", fmt.Sprintf("≤ 17 or ≤ 1.18 × R (%s)", mn(rv("wait_p95"))), mn(v["wait_p95"]), yes(v["wait_p95"] <= 17 || v["wait_p95"] <= 1.18*rv("wait_p95"), v["wait_p95"]))
		add("S2-5", "wait_p99", fmt.Sprintf("≤ 30 or ≤ 1.43 × R (%s)", mn(rv("wait_p99"))), mn(v["wait_p99"]), yes(v["wait_p99"] <= 30 || v["wait_p99"] <= 1.43*rv("wait_p99"), v["wait_p99"]))
		add("S2-6", "wait_max", "≤ 45 min", mn(v["wait_max"]), yes(v["wait_max"] <= 45, v["wait_max"]))
		add("S2-7", "prio_ratio", "0.5 … 0.7", f(v["prio_ratio"], 3), yes(v["prio_ratio"] >= 0.5 && v["prio_ratio"] <= 0.7, v["prio_ratio"]))
		add("S2-8", "starve60", "0", pc(v["starve60"]), yes(v["starve60"] == 0, v["starve60"]))
		add("S2-9", "starve45", "≤ 0.1 %", pc(v["starve45"]), yes(v["starve45"] <= 0.001, v["starve45"]))
		add("S2-10", "svc_spread", "≤ 2.0", f(v["svc_spread"], 2), yes(v["svc_spread"] <= 2, v["svc_spread"]))
		add("S2-11", "abandon", fmt.Sprintf("≤ 3 %% or ≤ R + 0.7 pp (R %s)", pc(rv("abandon"))), pc(v["abandon"]), yes(v["abandon"] <= 0.03 || v["abandon"] <= rv("abandon")+0.007, v["abandon"]))
		add("S2-12", "overtime_mean", "≤ 5 min", mn(v["overtime_mean"]), yes(v["overtime_mean"] <= 5, v["overtime_mean"]))
		add("S2-13", "appt_ontime5", "≥ 95 %", pc(v["appt_ontime5"]), yes(v["appt_ontime5"] >= 0.95, v["appt_ontime5"]))
		add("S2-14", "appt_ontime15", "≥ 99.5 %", pc(v["appt_ontime15"]), yes(v["appt_ontime15"] >= 0.995, v["appt_ontime15"]))
		add("E2-1", "ewt_mae", "≤ 1.5 min", mn(ewtP.MAE), yes(ewtP.MAE <= 1.5, ewtP.MAE))
		add("E2-2", "ewt_p90ae", "≤ 4 min", mn(ewtP.P90AE), yes(ewtP.P90AE <= 4, ewtP.P90AE))
		add("E2-3", "ewt_within5", "≥ 93 %", pc(ewtP.Within5), yes(ewtP.Within5 >= 0.93, ewtP.Within5))
		add("E2-4", "ewt_under5", "≤ 4 %", pc(ewtP.Under5), yes(ewtP.Under5 <= 0.04, ewtP.Under5))
		add("E2-5", "abs(ewt_bias)", "≤ 0.5 min", mn(ewtP.Bias), yes(math.Abs(ewtP.Bias) <= 0.5, ewtP.Bias))
		best := math.Min(p.EWT["LES"].MAE, math.Min(p.EWT["HOL"].MAE, p.EWT["AVG10"].MAE))
		add("E2-6", "ewt_mae", fmt.Sprintf("≤ 0.55 × best delay-history MAE (%s)", mn(best)), mn(ewtP.MAE), yes(ewtP.MAE <= 0.55*best, ewtP.MAE, best))
	} else {
		add("S3-1", "wait_p99", fmt.Sprintf("≤ 1.1 × R (%s)", mn(rv("wait_p99"))), mn(v["wait_p99"]), yes(v["wait_p99"] <= 1.1*rv("wait_p99"), v["wait_p99"], rv("wait_p99")))
		add("S3-2", "wait_max", "≤ 60 min", mn(v["wait_max"]), yes(v["wait_max"] <= 60, v["wait_max"]))
		add("S3-3", "starve60", "0", pc(v["starve60"]), yes(v["starve60"] == 0, v["starve60"]))
		add("S3-4", "abandon", fmt.Sprintf("≤ R + 1.5 pp (R %s)", pc(rv("abandon"))), pc(v["abandon"]), yes(v["abandon"] <= rv("abandon")+0.015, v["abandon"], rv("abandon")))
		add("S3-5", "appt_ontime5", "≥ 90 %", pc(v["appt_ontime5"]), yes(v["appt_ontime5"] >= 0.9, v["appt_ontime5"]))
		add("S3-6", "advice_missed", "0 (hub.AdviceWait: the totem shows it)", f(v["advice_missed"], 0), yes(v["advice_missed"] == 0, v["advice_missed"]))
		add("E3-1", "ewt_mae", "≤ 3.5 min", mn(ewtP.MAE), yes(ewtP.MAE <= 3.5, ewtP.MAE))
		add("E3-2", "ewt_within5", "≥ 78 %", pc(ewtP.Within5), yes(ewtP.Within5 >= 0.78, ewtP.Within5))
		add("E3-3", "ewt_under5", "≤ 8 %", pc(ewtP.Under5), yes(ewtP.Under5 <= 0.08, ewtP.Under5))
	}
	return out
}
