// Package kpi measures how the office performs, from the hub's event log:
// visits, waits (mean and 90th percentile), the service level against each
// service's target, service times, no-shows, transfers, walk-outs,
// appointment punctuality and the citizens' satisfaction, per service,
// counter, clerk, hour and day. Daily aggregates are stored beside the
// events, so the reports survive event pruning and the purge of personal
// data. The same figures feed the /reports pages, the CSV export and the
// monthly PDF for the management.
package kpi

import (
	"math"
	"sort"
	"time"
)

// Hist counts values in whole seconds: an exact, mergeable distribution,
// so that percentiles over a month are the same whether computed from the
// events or from the stored days.
type Hist map[int]int

func (h Hist) add(d time.Duration) {
	s := int(d / time.Second)
	if s < 0 {
		s = 0
	}
	h[s]++
}

func (h Hist) merge(o Hist) {
	for k, v := range o {
		h[k] += v
	}
}

// Percentile is the nearest-rank p-th percentile (0 < p ≤ 100) in seconds:
// the smallest value such that at least p % of the values are at most it.
// ok is false for an empty histogram.
func (h Hist) Percentile(p float64) (seconds int, ok bool) {
	n := 0
	keys := make([]int, 0, len(h))
	for k, v := range h {
		if v > 0 {
			keys = append(keys, k)
			n += v
		}
	}
	if n == 0 {
		return 0, false
	}
	sort.Ints(keys)
	rank := int(math.Ceil(p / 100 * float64(n)))
	if rank < 1 {
		rank = 1
	}
	seen := 0
	for _, k := range keys {
		seen += h[k]
		if seen >= rank {
			return k, true
		}
	}
	return keys[len(keys)-1], true
}

// WaitBands are the wait bands of satisfaction against wait (minutes:
// [0,5), [5,15), [15,30), [30,∞)).
var WaitBands = []struct {
	From, To int // minutes; To 0 is open-ended
	Label    string
}{{0, 5, "0–5 min"}, {5, 15, "5–15 min"}, {15, 30, "15–30 min"}, {30, 0, "≥ 30 min"}}

func waitBand(d time.Duration) int {
	m := d.Minutes()
	for i := len(WaitBands) - 1; i > 0; i-- {
		if m >= float64(WaitBands[i].From) {
			return i
		}
	}
	return 0
}

// Punctuality bounds: an appointment is on time from EarlyBound before
// its slot to LateBound after it.
const (
	EarlyBound = 15 * time.Minute
	LateBound  = 5 * time.Minute
)

// Agg holds the additive counts of one slice of visits (a day, a service,
// a counter, a clerk, an hour); every figure of the reports derives from
// them, so slices merge by adding.
type Agg struct {
	// Visits are the tickets issued (for counters and clerks: the visits
	// they called first).
	Visits int `json:"visits"`
	// Called visits were called at least once; their wait is from issue
	// to the first call.
	Called  int   `json:"called"`
	WaitSum int64 `json:"wait_sum_s"`
	Waits   Hist  `json:"waits"`
	// InTarget were called within their service's target wait; Missed
	// left or stayed unserved after waiting longer than it. The service
	// level is InTarget / (Called + Missed).
	InTarget int `json:"in_target"`
	Missed   int `json:"missed"`
	// Served are the services finished, with their durations (from the
	// start, or the call when the clerk did not press start).
	Served       int   `json:"served"`
	ServiceSum   int64 `json:"service_sum_s"`
	ServiceTimes Hist  `json:"service_times"`
	NoShows      int   `json:"no_shows"`
	Transfers    int   `json:"transfers"`
	// WalkOuts left the queue (cancelled before being served); Unserved
	// were still waiting at the end of the day.
	WalkOuts int `json:"walk_outs"`
	Unserved int `json:"unserved"`
	// Appointments checked in, by punctuality against the slot.
	Appointments int `json:"appointments"`
	OnTime       int `json:"on_time"`
	Early        int `json:"early"`
	Late         int `json:"late"`
	// Ratings counts the survey's answers by score (index 1…5); ByWait
	// splits them by the visit's wait band (WaitBands).
	Ratings [6]int    `json:"ratings"`
	ByWait  [4][6]int `json:"ratings_by_wait"`
}

func newAgg() *Agg { return &Agg{Waits: Hist{}, ServiceTimes: Hist{}} }

// Merge adds o into a.
func (a *Agg) Merge(o *Agg) {
	if o == nil {
		return
	}
	if a.Waits == nil {
		a.Waits = Hist{}
	}
	if a.ServiceTimes == nil {
		a.ServiceTimes = Hist{}
	}
	a.Visits += o.Visits
	a.Called += o.Called
	a.WaitSum += o.WaitSum
	a.Waits.merge(o.Waits)
	a.InTarget += o.InTarget
	a.Missed += o.Missed
	a.Served += o.Served
	a.ServiceSum += o.ServiceSum
	a.ServiceTimes.merge(o.ServiceTimes)
	a.NoShows += o.NoShows
	a.Transfers += o.Transfers
	a.WalkOuts += o.WalkOuts
	a.Unserved += o.Unserved
	a.Appointments += o.Appointments
	a.OnTime += o.OnTime
	a.Early += o.Early
	a.Late += o.Late
	for i := range a.Ratings {
		a.Ratings[i] += o.Ratings[i]
	}
	for b := range a.ByWait {
		for i := range a.ByWait[b] {
			a.ByWait[b][i] += o.ByWait[b][i]
		}
	}
}

// Value is a figure that may be undefined (no data: shown as "—").
type Value struct {
	V  float64
	OK bool
}

func val(v float64) Value { return Value{V: v, OK: true} }

func ratio(n, d int) Value {
	if d == 0 {
		return Value{}
	}
	return val(float64(n) / float64(d))
}

// MeanWait is the mean wait in minutes of the called visits.
func (a *Agg) MeanWait() Value {
	if a.Called == 0 {
		return Value{}
	}
	return val(float64(a.WaitSum) / float64(a.Called) / 60)
}

// P90Wait is the 90th percentile of the waits, in minutes.
func (a *Agg) P90Wait() Value {
	s, ok := a.Waits.Percentile(90)
	return Value{V: float64(s) / 60, OK: ok}
}

// ServiceLevel is the share (0…1) of visits called within their target.
func (a *Agg) ServiceLevel() Value { return ratio(a.InTarget, a.Called+a.Missed) }

// MeanService is the mean service time in minutes.
func (a *Agg) MeanService() Value {
	if a.Served == 0 {
		return Value{}
	}
	return val(float64(a.ServiceSum) / float64(a.Served) / 60)
}

// P90Service is the 90th percentile of the service times, in minutes.
func (a *Agg) P90Service() Value {
	s, ok := a.ServiceTimes.Percentile(90)
	return Value{V: float64(s) / 60, OK: ok}
}

// Punctuality is the share (0…1) of appointments checked in on time.
func (a *Agg) Punctuality() Value { return ratio(a.OnTime, a.Appointments) }

// RatingCount is the number of survey answers.
func (a *Agg) RatingCount() int {
	n := 0
	for _, c := range a.Ratings[1:] {
		n += c
	}
	return n
}

func meanScore(r [6]int) Value {
	n, sum := 0, 0
	for s := 1; s <= 5; s++ {
		n += r[s]
		sum += s * r[s]
	}
	if n == 0 {
		return Value{}
	}
	return val(float64(sum) / float64(n))
}

// Satisfaction is the mean score (1…5) of the answers.
func (a *Agg) Satisfaction() Value { return meanScore(a.Ratings) }

// Satisfied is the share (0…1) of answers with 4 or 5 faces.
func (a *Agg) Satisfied() Value { return ratio(a.Ratings[4]+a.Ratings[5], a.RatingCount()) }

// SatisfactionByWait is the mean score in wait band b (WaitBands).
func (a *Agg) SatisfactionByWait(b int) Value { return meanScore(a.ByWait[b]) }

// RatingsInBand is the number of answers in wait band b.
func (a *Agg) RatingsInBand(b int) int {
	n := 0
	for _, c := range a.ByWait[b][1:] {
		n += c
	}
	return n
}
