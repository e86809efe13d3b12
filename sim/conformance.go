package sim

import (
	"context"
	"fmt"
	"io"
)

// Checksums are the day-0 outcome checksums of README §13.4.
type Checksums struct {
	Served, NotPresent int
	SumWaitServed      float64
	SumCallAll         float64
	FrontEnd           float64
}

// DayChecksums computes the checksums of one day result.
func DayChecksums(r *DayResult) Checksums {
	var c Checksums
	for _, rec := range r.Records {
		c.SumCallAll += rec.Call
		if rec.V.Kind != KindWalkIn {
			continue
		}
		if rec.Present {
			c.Served++
			c.SumWaitServed += rec.Call - rec.V.Arrival
		} else {
			c.NotPresent++
		}
	}
	c.FrontEnd = r.FrontEnd
	return c
}

// Conformance writes the day checksums for each policy (§11.1).
func (sc *Scenario) Conformance(ctx context.Context, w io.Writer, day int, policies []string) error {
	fmt.Fprintf(w, "%s seed %d day %d\n", sc.Name, sc.Seed, day)
	d := sc.Generate(day)
	for _, p := range policies {
		if p == "B0" && !sc.B0Defined {
			fmt.Fprintf(w, "  %-4s n/a\n", p)
			continue
		}
		r, err := sc.RunDay(ctx, d, p)
		if err != nil {
			return err
		}
		c := DayChecksums(r)
		fmt.Fprintf(w, "  %-4s walk-ins served %d not-present %d sum_wait_served %.6f sum_call_all %.6f front_end %.6f\n", p, c.Served, c.NotPresent, c.SumWaitServed, c.SumCallAll, c.FrontEnd)
	}
	return nil
}
