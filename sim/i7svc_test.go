package sim

import (
	"context"
	"fmt"
	"os"
	"testing"
)

func TestI7Svc(t *testing.T) {
	sc, _ := LoadScenario("../bench/scenarios/" + os.Getenv("SCEN"))
	sum := map[int]float64{}
	n := map[int]float64{}
	for day := 0; day < 20; day++ {
		r, err := sc.RunDay(context.Background(), sc.Generate(day), os.Getenv("POL"))
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range r.Records {
			if rec.V.Kind == KindWalkIn && rec.Present {
				sum[rec.V.Service] += rec.Call - rec.V.Arrival
				n[rec.V.Service]++
			}
		}
	}
	for s := range sc.Services {
		fmt.Printf("svc %s n %.0f mean %.2f\n", sc.Services[s].ID, n[s], sum[s]/n[s])
	}
}
