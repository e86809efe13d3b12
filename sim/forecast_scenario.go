package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"math"

	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/kpi"
	"github.com/comune-rc/sportello/staffing"
)

// ForecastCheck is what CheckForecast needs: the site, the front-office
// counters with the skills they have now (nil: the site file's), the
// forecast day and how to check it.
type ForecastCheck struct {
	Site     *hub.Site
	Counters []staffing.Counter
	Forecast *kpi.Forecast
	TargetSL float64 // default staffing.DefaultServiceLevel
	Days     int     // simulated days, default ForecastCheckDays
	Rounds   int     // correction rounds, default 8
	Workers  int
}

// ForecastCheckDays is how many days the supervisor console's check
// simulates: enough to judge the busy hours, few enough to finish in
// seconds on a small hub.
const ForecastCheckDays = 8

// ForecastScenario writes the forecast day of a site as a scenario
// document (bench/README.md §3) and parses it with ParseScenario, so
// that every rule of a scenario file holds for it. The document opens
// at the first forecast hour and takes tickets to the end of the last;
// every forecast visit is a walk-in (the history does not tell the
// bookings apart), the profile is the forecast's visits per clock hour
// and each service's share is its share of the day, so the mix of an
// hour is the day's. Each front-office counter is a group of one with
// its current skills; consultation rooms are left out (they are booked
// by slot, and the advice counts them by Erlang C alone). It returns
// the document too, for the reports and the tests.
func ForecastScenario(fc ForecastCheck) (*Scenario, []byte, error) {
	site, f := fc.Site, fc.Forecast
	if site == nil || f == nil {
		return nil, nil, fmt.Errorf("forecast scenario: no site or forecast")
	}
	front := map[string]bool{}
	var ids []string
	for _, sv := range site.Services {
		if sv.Inactive || sv.Room {
			continue
		}
		front[sv.ID] = true
		ids = append(ids, sv.ID)
	}
	counters := fc.Counters
	if counters == nil {
		for _, c := range site.Counters {
			if c.Kind != hub.KindRoom {
				counters = append(counters, staffing.Counter{ID: c.ID, Services: c.Services})
			}
		}
	}
	lo, hi := 24, -1
	total := 0.0
	perService := map[string]float64{}
	for _, s := range ids {
		for h, n := range f.Arrivals[s] {
			if n > 0 && h >= 0 && h < 24 {
				lo, hi = min(lo, h), max(hi, h)
				total += n
				perService[s] += n
			}
		}
	}
	if hi < 0 {
		return nil, nil, fmt.Errorf("forecast scenario: no front-office visits forecast for %s", f.Day)
	}
	doc := scenarioDoc{
		Name:        "forecast " + f.Day,
		Description: "forecast day " + f.Day + " (" + f.Basis + ")",
		Seed:        forecastSeed(f.Day),
		Days:        max(fc.Days, 1),
		WalkIns:     walkInsDoc{PerDay: max(1, roundHalfUp(total)), ProfileMinutes: 60},
	}
	if fc.Days <= 0 {
		doc.Days = ForecastCheckDays
	}
	doc.Hours.Open = fmt.Sprintf("%02d:00", lo)
	doc.Hours.LastTicket = clockOf((hi + 1) * 60)
	doc.Hours.Close = clockOf(min((hi+2)*60, 24*60-1))
	for h := lo; h <= hi; h++ {
		w := 0.0
		for _, s := range ids {
			w += max(0, f.Arrivals[s][h])
		}
		doc.WalkIns.Profile = append(doc.WalkIns.Profile, w)
	}
	served := map[string]bool{}
	for i, c := range counters {
		var sk []string
		for _, s := range c.Services {
			if front[s] {
				sk = append(sk, s)
			}
		}
		if len(sk) == 0 {
			continue
		}
		for _, s := range sk {
			served[s] = true
		}
		doc.Counters = append(doc.Counters, counterDoc{Group: fmt.Sprintf("k%03d", i+1), Count: 1, Services: sk, Home: sk[0]})
	}
	for _, s := range ids {
		share := perService[s] / total
		if !served[s] {
			if share > 0 {
				return nil, nil, fmt.Errorf("forecast scenario: no open-able counter serves %s", s)
			}
			continue
		}
		st := f.Service[s]
		mean := st.Mean
		if !(mean > 0) {
			mean = 10
		}
		doc.Services = append(doc.Services, serviceDoc{ID: s, Share: share, Mean: mean, CV: math.Sqrt(max(st.CS2, 0))})
	}
	raw, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	sc, err := ParseScenario(doc.Name, raw)
	if err != nil {
		return nil, raw, err
	}
	// The site's targets order the queue under P, as in a replay.
	for i := range sc.Services {
		if sv, ok := site.Service(sc.Services[i].ID); ok {
			sc.Services[i].Target = sv.TargetWait
		}
	}
	return sc, raw, nil
}

// CheckForecast is the supervisor console's staffing check: the
// forecast day as a scenario (ForecastScenario), advised and checked by
// simulation under policy P exactly as `sportello sim --advise` does.
// Each service is sized and judged at its own target, as the console's
// Erlang C is.
func CheckForecast(ctx context.Context, fc ForecastCheck) (*Advice, error) {
	sc, _, err := ForecastScenario(fc)
	if err != nil {
		return nil, err
	}
	sl := fc.TargetSL
	if sl <= 0 {
		sl = staffing.DefaultServiceLevel
	}
	rounds := fc.Rounds
	if rounds <= 0 {
		rounds = 8
	}
	return sc.Advise(ctx, AdviseOptions{TargetSL: sl, ServiceTargets: true, Days: sc.Days, Rounds: rounds, Policy: "P", Workers: fc.Workers})
}

func clockOf(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// forecastSeed is the day's seed: the same day checks the same visitors.
func forecastSeed(day string) int64 {
	var h uint64 = 14695981039346656037
	for i := 0; i < len(day); i++ {
		h = (h ^ uint64(day[i])) * 1099511628211
	}
	return int64(h >> 1)
}

// scenarioDoc is a scenario file as JSON, which is YAML: every string,
// the clock times among them, comes out double-quoted as §3.1 wants.
type scenarioDoc struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Seed        int64  `json:"seed"`
	Days        int    `json:"days"`
	Hours       struct {
		Open       string `json:"open"`
		LastTicket string `json:"last_ticket"`
		Close      string `json:"close"`
	} `json:"hours"`
	Services []serviceDoc `json:"services"`
	Counters []counterDoc `json:"counters"`
	WalkIns  walkInsDoc   `json:"walk_ins"`
}

type serviceDoc struct {
	ID    string  `json:"id"`
	Share float64 `json:"share"`
	Mean  float64 `json:"mean"`
	CV    float64 `json:"cv"`
}

type counterDoc struct {
	Group    string   `json:"group"`
	Count    int      `json:"count"`
	Services []string `json:"services"`
	Home     string   `json:"home"`
}

type walkInsDoc struct {
	PerDay         int       `json:"per_day"`
	ProfileMinutes float64   `json:"profile_minutes"`
	Profile        []float64 `json:"profile"`
}
