package sim

import (
	"context"
	"fmt"
	"math"
	"os"
	"testing"
)

func TestI7Dbg(t *testing.T) {
	sc, err := LoadScenario("../bench/scenarios/" + os.Getenv("SCEN"))
	if err != nil {
		t.Fatal(err)
	}
	type agg struct{ n, abs, e float64 }
	byHour := map[int]*agg{}
	byBand := map[int]*agg{}
	for day := 0; day < 10; day++ {
		d := sc.Generate(day)
		r, err := sc.RunDay(context.Background(), d, "P")
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range r.Records {
			if rec.V.Kind != KindWalkIn || !rec.Present {
				continue
			}
			w := rec.Call - rec.V.Arrival
			e := rec.Pred[4] - w
			h := int(rec.V.Arrival / 60)
			b := 0
			switch {
			case w >= 30:
				b = 3
			case w >= 10:
				b = 2
			case w >= 3:
				b = 1
			}
			for _, m := range []map[int]*agg{byHour, byBand} {
				k := h
				if m == nil {
					continue
				}
				_ = k
			}
			if byHour[h] == nil {
				byHour[h] = &agg{}
			}
			if byBand[b] == nil {
				byBand[b] = &agg{}
			}
			for _, a := range []*agg{byHour[h], byBand[b]} {
				a.n++
				a.abs += math.Abs(e)
				a.e += e
			}
		}
	}
	for h := 0; h < 10; h++ {
		if a := byHour[h]; a != nil {
			fmt.Printf("hour %d n %.0f mae %.2f bias %.2f\n", h, a.n, a.abs/a.n, a.e/a.n)
		}
	}
	for b := 0; b < 4; b++ {
		if a := byBand[b]; a != nil {
			fmt.Printf("band %d n %.0f mae %.2f bias %.2f\n", b, a.n, a.abs/a.n, a.e/a.n)
		}
	}
}
