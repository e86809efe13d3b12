// Package staffing says how many counters an office needs, hour by hour,
// to meet a service-level target on a forecast day: Erlang C with the
// Allen–Cunneen M/G/c correction (the benchmark's reference value,
// bench/README.md §8) applied per skill group (Groups). It is plain
// arithmetic on forecast loads, so that `sportello sim --advise` (the
// forecast day of a scenario, then checked by simulation) and the
// supervisor console (a forecast from the hub's own history) compute the
// same numbers in one place; it imports neither the simulator nor the hub.
package staffing

import "math"

// DefaultServiceLevel is the share of visits to call within their
// target wait when nobody says otherwise: 80 %, the threshold of the
// monitoring alert (docs/monitoring.md) and the reference line of the
// reports' service-level chart.
const DefaultServiceLevel = 0.8

// Load is one service's forecast demand in one hour.
type Load struct {
	Service string
	// PerHour is the arrival rate, visits per hour.
	PerHour float64
	// Mean is the mean service time in minutes; CS2 the squared
	// coefficient of variation of the service time (1 for exponential
	// times, M/M/c).
	Mean, CS2 float64
	// Target is the wait, in minutes, within which a visit should be
	// called.
	Target float64
}

// ErlangC is C(c, a), the probability that an arrival waits at c
// counters offered a Erlangs (1 when c ≤ a: the queue is unstable).
func ErlangC(c int, a float64) float64 {
	if c <= 0 || float64(c) <= a {
		return 1
	}
	// Sum aᵏ/k! iteratively so that large c stays finite.
	term, sum := 1.0, 0.0
	for k := 0; k < c; k++ {
		sum += term
		term *= a / float64(k+1)
	}
	top := term * float64(c) / (float64(c) - a) // aᶜ/c! · c/(c − a)
	return top / (sum + top)
}

// mix is a group's pooled demand: total rate, mean and c_s² of the
// service time of the mix (README §8's E[S] and E[S²] weighted by rate).
func mix(loads []Load) (lambda, es, cs2 float64) {
	var es2 float64
	for _, l := range loads {
		if l.PerHour <= 0 {
			continue
		}
		lambda += l.PerHour
		es += l.PerHour * l.Mean
		es2 += l.PerHour * l.Mean * l.Mean * (1 + l.CS2)
	}
	if lambda == 0 || es == 0 {
		return 0, 0, 0
	}
	es, es2 = es/lambda, es2/lambda
	return lambda, es, es2/(es*es) - 1
}

// Erlangs is the offered load of loads: arrivals per hour times the mean
// service time in hours.
func Erlangs(loads []Load) float64 {
	lambda, es, _ := mix(loads)
	return lambda * es / 60
}

// ServiceLevel is the share of the loads' visits called within their
// targets with c counters pooled: each service's
// SL(T) = 1 − C(c, a)·exp(−(cμ − λ)·T / ((1 + c_s²)/2)) of README §8,
// weighted by its arrival rate, for the mix's μ and c_s². It is 1 with no
// demand and 0 when the queue is unstable (c ≤ a).
func ServiceLevel(c int, loads []Load) float64 {
	lambda, es, cs2 := mix(loads)
	if lambda == 0 {
		return 1
	}
	mu := 60 / es
	a := lambda / mu
	if float64(c) <= a {
		return 0
	}
	C := ErlangC(c, a)
	stretch := (1 + cs2) / 2
	sl := 0.0
	for _, l := range loads {
		if l.PerHour <= 0 {
			continue
		}
		sl += l.PerHour * (1 - C*math.Exp(-(float64(c)*mu-lambda)*(l.Target/60)/stretch))
	}
	return sl / lambda
}

// Needed is the fewest counters whose pooled service level meets sl
// (0 … 1): 0 without demand, else at least 1 and more than the offered
// load.
func Needed(loads []Load, sl float64) int {
	lambda, _, _ := mix(loads)
	if lambda == 0 {
		return 0
	}
	a := Erlangs(loads)
	c := int(math.Floor(a)) + 1
	// SL grows with c towards 1; a target of 1 is met only in the limit,
	// so the search stops well past any real office.
	for limit := c + 1000; c < limit; c++ {
		if ServiceLevel(c, loads) >= sl {
			return c
		}
	}
	return c
}
