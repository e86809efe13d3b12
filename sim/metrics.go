package sim

import (
	"math"
	"sort"
)

// NaN marks an undefined value.
var NaN = math.NaN()

// quantile is Hyndman & Fan type 7 on sorted xs.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return NaN
	}
	h := float64(len(xs)-1) * q
	lo := int(math.Floor(h))
	if lo+1 >= len(xs) {
		return xs[len(xs)-1]
	}
	return xs[lo] + (h-float64(lo))*(xs[lo+1]-xs[lo])
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return NaN
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func ratio(a, b int) float64 {
	if b == 0 {
		return NaN
	}
	return float64(a) / float64(b)
}

// EWTScore is one (policy, predictor) row of §10.3.
type EWTScore struct {
	N                              int
	ActualMean, MAE, RMSE, P90AE   float64
	Within5, Under5, Bias          float64
	errs, abs                      []float64
	sumActual, sumAbs, sumSq, sumE float64
	nWithin, nUnder                int
	// calib sums the actual waits by predicted wait (calibBin-minute bins,
	// the last one open-ended) for the predicted-against-actual plot.
	calibSum [calibBins]float64
	calibN   [calibBins]int
}

const (
	calibBin  = 2.0 // minutes
	calibBins = 31  // 0–60 min, and 60 and beyond
)

// Calibration returns, per bin of predicted wait with at least minN
// tickets, the bin's middle and the mean actual wait of its tickets.
func (s *EWTScore) Calibration(minN int) (pred, actual []float64) {
	for b := range calibBins - 1 {
		if s.calibN[b] >= minN && s.calibN[b] > 0 {
			pred = append(pred, (float64(b)+0.5)*calibBin)
			actual = append(actual, s.calibSum[b]/float64(s.calibN[b]))
		}
	}
	return pred, actual
}

func (s *EWTScore) add(pred, actual float64) {
	e := pred - actual
	s.N++
	s.sumActual += actual
	s.sumAbs += math.Abs(e)
	s.sumSq += e * e
	s.sumE += e
	s.abs = append(s.abs, math.Abs(e))
	if math.Abs(e) <= 5 {
		s.nWithin++
	}
	if e < -5 {
		s.nUnder++
	}
	b := calibBins - 1
	if pred >= 0 && pred < calibBin*(calibBins-1) {
		b = int(pred / calibBin)
	}
	s.calibSum[b] += actual
	s.calibN[b]++
}

func (s *EWTScore) finish() {
	n := float64(s.N)
	if s.N == 0 {
		s.ActualMean, s.MAE, s.RMSE, s.P90AE, s.Within5, s.Under5, s.Bias = NaN, NaN, NaN, NaN, NaN, NaN, NaN
		return
	}
	sort.Float64s(s.abs)
	s.ActualMean, s.MAE, s.RMSE, s.P90AE = s.sumActual/n, s.sumAbs/n, math.Sqrt(s.sumSq/n), quantile(s.abs, 0.9)
	s.Within5, s.Under5, s.Bias = float64(s.nWithin)/n, float64(s.nUnder)/n, s.sumE/n
	s.abs = nil
}

// Metrics is one policy's results over the run (§9, §10).
type Metrics struct {
	Policy string
	Days   int
	// Values by CSV/JSON key (§9); NaN when undefined.
	Values map[string]float64
	EWT    map[string]*EWTScore
	// Per-day values for paired differences (§9.11).
	DaySL15, DayMean []float64

	waits, prioWaits, normalCalled, apptLate []float64
	roomWaits                                []float64
	occupancy                                []float64
	overtime, roomOvertime                   []float64
	nWalk, nServed, nWaitPos, nAbandon       int
	sl10, sl15, sl20, nOvertake, nSkip       int
	svcSum                                   map[int]float64
	svcN                                     map[int]int
	normalSum                                float64
	nNormalServed                            int
	apptWaitSum                              float64
	nAppt, nApptOn5, nApptOn15               int
	apptLateSum                              float64
	nRoomWalk, nRoomAband                    int
	nRoomAppt, nRoomOn5                      int
	nEWT45, nAdviceMissed                    int
	unfinished                               int
}

func newMetrics(policy string) *Metrics {
	m := &Metrics{Policy: policy, Values: map[string]float64{}, EWT: map[string]*EWTScore{}, svcSum: map[int]float64{}, svcN: map[int]int{}}
	for _, p := range PredNames {
		m.EWT[p] = &EWTScore{}
	}
	return m
}

// add folds one day in (days must come in order for the per-day lists).
func (m *Metrics) add(sc *Scenario, r *DayResult) {
	m.Days++
	m.unfinished += r.Unfinished
	// Overtake (§9.5): per (service, class), a served walk-in x is
	// overtaken when a higher-numbered one was called strictly earlier.
	overtaken := map[*Record]bool{}
	groups := map[[2]int][]*Record{}
	for _, rec := range r.Records {
		if rec.V.Kind == KindWalkIn {
			k := [2]int{rec.V.Service, b2i(rec.V.Priority)}
			groups[k] = append(groups[k], rec)
		}
	}
	for _, g := range groups {
		minAfter := math.Inf(1)
		for i := len(g) - 1; i >= 0; i-- {
			if minAfter < g[i].Call {
				overtaken[g[i]] = true
			}
			minAfter = math.Min(minAfter, g[i].Call)
		}
	}
	dayN, daySL15, daySum, dayServed := 0, 0, 0.0, 0
	for _, rec := range r.Records {
		v := rec.V
		w := rec.Call - v.Arrival
		switch v.Kind {
		case KindWalkIn:
			if v.Arrival < sc.Warmup {
				continue
			}
			m.nWalk++
			dayN++
			if !v.Priority {
				m.normalCalled = append(m.normalCalled, w)
			}
			// §10.5: every walk-in ticket issued with an EWT over 45 min
			// must carry the engine's overload advice.
			if rec.Pred[4] > 45 {
				m.nEWT45++
				if !rec.Advice {
					m.nAdviceMissed++
				}
			}
			if !rec.Present {
				m.nAbandon++
				continue
			}
			m.nServed++
			dayServed++
			daySum += w
			m.waits = append(m.waits, w)
			if w > 0 {
				m.nWaitPos++
			}
			if w <= 10 {
				m.sl10++
			}
			if w <= 15 {
				m.sl15++
				daySL15++
			}
			if w <= 20 {
				m.sl20++
			}
			if overtaken[rec] {
				m.nOvertake++
			}
			if rec.Skipped {
				m.nSkip++
			}
			m.svcSum[v.Service] += w
			m.svcN[v.Service]++
			if v.Priority {
				m.prioWaits = append(m.prioWaits, w)
			} else {
				m.normalSum += w
				m.nNormalServed++
			}
			for i, p := range PredNames {
				m.EWT[p].add(rec.Pred[i], w)
			}
		case KindAppt:
			m.apptWaitSum += w
			m.nAppt++
			if v.Arrival <= v.Slot {
				late := rec.Call - v.Slot
				m.apptLate = append(m.apptLate, late)
				m.apptLateSum += math.Max(0, late)
				if late <= 5 {
					m.nApptOn5++
				}
				if late <= 15 {
					m.nApptOn15++
				}
			}
		case KindRoomWalkIn:
			m.nRoomWalk++
			if rec.Present {
				m.roomWaits = append(m.roomWaits, w)
			} else {
				m.nRoomAband++
			}
		case KindRoomAppt:
			if v.Arrival <= v.Slot {
				m.nRoomAppt++
				if rec.Call-v.Slot <= 5 {
					m.nRoomOn5++
				}
			}
		}
	}
	m.DaySL15 = append(m.DaySL15, ratio(daySL15, dayN))
	m.DayMean = append(m.DayMean, func() float64 {
		if dayServed == 0 {
			return NaN
		}
		return daySum / float64(dayServed)
	}())
	m.overtime = append(m.overtime, math.Max(0, r.FrontEnd-sc.Close))
	m.roomOvertime = append(m.roomOvertime, math.Max(0, r.RoomEnd-sc.Close))
	// Waiting-room occupancy (§9.9), sampled at whole minutes.
	M := int(sc.Close)
	diff := make([]int, M+1)
	for _, rec := range r.Records {
		v := rec.V
		leave := rec.Call
		if rec.Called && !rec.Present {
			if v.Absent {
				leave = v.Arrival
			} else {
				leave = math.Min(rec.Call, v.Arrival+v.Patience)
			}
		}
		from := int(math.Ceil(v.Arrival))
		to := int(math.Ceil(leave)) // first minute m with m ≥ leave
		if from >= M || to <= from {
			continue
		}
		if to > M {
			to = M
		}
		diff[from]++
		diff[to]--
	}
	cur := 0
	for i := 0; i < M; i++ {
		cur += diff[i]
		m.occupancy = append(m.occupancy, float64(cur))
	}
}

func (m *Metrics) finish(sc *Scenario) {
	v := m.Values
	sort.Float64s(m.waits)
	v["n_walkin"] = float64(m.nWalk)
	v["wait_mean"] = mean(m.waits)
	v["wait_p50"] = quantile(m.waits, 0.5)
	v["wait_p90"] = quantile(m.waits, 0.9)
	v["wait_p95"] = quantile(m.waits, 0.95)
	v["wait_p99"] = quantile(m.waits, 0.99)
	v["wait_max"] = NaN
	if len(m.waits) > 0 {
		v["wait_max"] = m.waits[len(m.waits)-1]
	}
	v["p_wait"] = ratio(m.nWaitPos, m.nServed)
	v["sl10"], v["sl15"], v["sl20"] = ratio(m.sl10, m.nWalk), ratio(m.sl15, m.nWalk), ratio(m.sl20, m.nWalk)
	v["abandon"] = ratio(m.nAbandon, m.nWalk)
	v["overtake"] = ratio(m.nOvertake, m.nServed)
	v["skip"] = ratio(m.nSkip, m.nServed)
	mx, mn := math.Inf(-1), math.Inf(1)
	for k, n := range m.svcN {
		mm := m.svcSum[k] / float64(n)
		mx, mn = math.Max(mx, mm), math.Min(mn, mm)
	}
	v["svc_spread"], v["svc_max_mean"] = NaN, NaN
	if len(m.svcN) > 0 {
		v["svc_spread"], v["svc_max_mean"] = mx/math.Max(1, mn), mx
	}
	n45, n60, nmax := 0, 0, math.Inf(-1)
	for _, w := range m.normalCalled {
		if w > 45 {
			n45++
		}
		if w > 60 {
			n60++
		}
		nmax = math.Max(nmax, w)
	}
	v["starve45"], v["starve60"] = ratio(n45, len(m.normalCalled)), ratio(n60, len(m.normalCalled))
	v["normal_max"] = NaN
	if len(m.normalCalled) > 0 {
		v["normal_max"] = nmax
	}
	v["prio_ratio"], v["prio_p95"] = NaN, NaN
	if len(m.prioWaits) > 0 && m.nNormalServed > 0 {
		v["prio_ratio"] = mean(m.prioWaits) / (m.normalSum / float64(m.nNormalServed))
	}
	sort.Float64s(m.prioWaits)
	if len(m.prioWaits) > 0 {
		v["prio_p95"] = quantile(m.prioWaits, 0.95)
	}
	v["appt_ontime5"], v["appt_ontime15"] = ratio(m.nApptOn5, len(m.apptLate)), ratio(m.nApptOn15, len(m.apptLate))
	v["appt_late_mean"] = NaN
	if len(m.apptLate) > 0 {
		v["appt_late_mean"] = m.apptLateSum / float64(len(m.apptLate))
	}
	v["appt_wait_mean"] = NaN
	if m.nAppt > 0 {
		v["appt_wait_mean"] = m.apptWaitSum / float64(m.nAppt)
	}
	v["overtime_mean"] = mean(m.overtime)
	v["overtime_max"] = maxOf(m.overtime)
	over := 0
	for _, o := range m.occupancy {
		if o > float64(sc.Seats) {
			over++
		}
	}
	v["seats_over"] = ratio(over, len(m.occupancy))
	sort.Float64s(m.occupancy)
	v["seats_p95"] = quantile(m.occupancy, 0.95)
	v["seats_max"] = maxOf(m.occupancy)
	sort.Float64s(m.roomWaits)
	v["room_wait_mean"], v["room_wait_p95"] = mean(m.roomWaits), quantile(m.roomWaits, 0.95)
	v["room_abandon"] = ratio(m.nRoomAband, m.nRoomWalk)
	v["room_appt_ontime5"] = ratio(m.nRoomOn5, m.nRoomAppt)
	v["room_overtime_mean"] = NaN
	if sc.HasRooms {
		v["room_overtime_mean"] = mean(m.roomOvertime)
	}
	v["ewt_over45"] = ratio(m.nEWT45, m.nWalk)
	v["advice_missed"] = float64(m.nAdviceMissed)
	v["hard_stop_closed"] = float64(m.unfinished)
	for _, s := range m.EWT {
		s.finish()
	}
	m.waits, m.prioWaits, m.normalCalled, m.apptLate, m.roomWaits, m.occupancy = nil, nil, nil, nil, nil, nil
}

func maxOf(xs []float64) float64 {
	if len(xs) == 0 {
		return NaN
	}
	m := math.Inf(-1)
	for _, x := range xs {
		m = math.Max(m, x)
	}
	return m
}

// Paired is a paired difference over days: mean ± 95 % half-width.
type Paired struct {
	A, B         string
	SL15, SL15CI float64 // percentage points
	Mean, MeanCI float64 // minutes
}

func pairedDiff(a, b []float64) (float64, float64) {
	var ds []float64
	for i := range a {
		if i < len(b) && !math.IsNaN(a[i]) && !math.IsNaN(b[i]) {
			ds = append(ds, a[i]-b[i])
		}
	}
	if len(ds) == 0 {
		return NaN, NaN
	}
	m := mean(ds)
	if len(ds) < 2 {
		return m, NaN
	}
	ss := 0.0
	for _, d := range ds {
		ss += (d - m) * (d - m)
	}
	sd := math.Sqrt(ss / float64(len(ds)-1))
	return m, 1.96 * sd / math.Sqrt(float64(len(ds)))
}
