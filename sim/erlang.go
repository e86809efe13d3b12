package sim

import (
	"math"

	"github.com/comune-rc/sportello/staffing"
)

// ErlangAt is the stationary reference at one number of counters (§8).
type ErlangAt struct {
	C, Rho, PWait, Wq, SL10, SL15, SL20 float64
	Unstable                            bool
}

// Erlang is the report's Erlang C / M/G/c block.
type Erlang struct {
	LambdaPerH, ES, ES2, Cs2 float64
	Staffed                  int
	CEff                     float64
	AtC, AtCEff              ErlangAt
	RhoPeak                  float64
}

// erlangC is C(c, a) for integer c (the staffing advice's Erlang C).
func erlangC(c int, a float64) float64 { return staffing.ErlangC(c, a) }

func erlangAt(c float64, lambda, mu, cs2 float64) ErlangAt {
	out := ErlangAt{C: c, Rho: lambda / mu / c}
	if out.Rho >= 1 {
		out.Unstable = true
		out.PWait, out.Wq, out.SL10, out.SL15, out.SL20 = NaN, NaN, NaN, NaN, NaN
		return out
	}
	a := lambda / mu
	// C is interpolated linearly between ⌊c⌋ and ⌊c⌋+1 (C = 1 where ⌊c⌋
	// is saturated); W_q and SL then use c itself.
	lo := int(math.Floor(c))
	C := erlangC(lo, a)
	if frac := c - float64(lo); frac > 0 {
		C += (erlangC(lo+1, a) - C) * frac
	}
	W := C / (c*mu - lambda) * 60 * (1 + cs2) / 2
	out.PWait, out.Wq = C, W
	sl := func(T float64) float64 {
		return 1 - C*math.Exp(-(c*mu-lambda)*(T/60)/((1+cs2)/2))
	}
	out.SL10, out.SL15, out.SL20 = sl(10), sl(15), sl(20)
	return out
}

// ErlangReference computes §8 for the scenario.
func (sc *Scenario) ErlangReference() Erlang {
	H := sc.LastTicket / 60
	e := Erlang{}
	e.LambdaPerH = (float64(sc.WalkPerDay) + float64(sc.ApptPerDay)*(1-sc.ApptNoShow)) / H
	for _, s := range sc.Services {
		e.ES += s.Share * s.Mean
		e.ES2 += s.Share * s.Mean * s.Mean * (1 + s.CV*s.CV)
	}
	e.Cs2 = e.ES2/(e.ES*e.ES) - 1
	e.Staffed = sc.StaffedAtOpen
	c := float64(e.Staffed)
	mu := 60 / e.ES
	e.CEff = c
	if sc.HasBreaks {
		e.CEff = c - c*sc.BreakLength/sc.LastTicket
	}
	e.AtC = erlangAt(c, e.LambdaPerH, mu, e.Cs2)
	e.AtCEff = erlangAt(e.CEff, e.LambdaPerH, mu, e.Cs2)
	wsum := 0.0
	for _, w := range sc.Profile {
		wsum += w
	}
	peak := 0.0
	for k, w := range sc.Profile {
		lenK := math.Min(sc.ProfileMinutes, sc.LastTicket-float64(k)*sc.ProfileMinutes)
		if wsum > 0 {
			peak = math.Max(peak, float64(sc.WalkPerDay)*(1-sc.BurstShare)*w/wsum/lenK*60)
		}
	}
	lp := peak + float64(sc.ApptPerDay)*(1-sc.ApptNoShow)/H
	e.RhoPeak = lp * e.ES / 60 / c
	return e
}
