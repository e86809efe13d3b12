package kpi

import (
	"sort"
	"time"

	"github.com/comune-rc/sportello/hub"
)

// Forecast bases: which past days a forecast averages.
const (
	BasisSameWeekday = "same_weekday" // the same weekday of the past weeks
	BasisRecentDays  = "recent_days"  // every past day with visits
	BasisNone        = "none"         // no history yet
)

// ForecastWeeks is how many weeks back a forecast looks by default.
const ForecastWeeks = 4

// Forecast is the expected demand of one day, from the hub's own
// history: the mean visits per service and hour of arrival over the
// same weekday of the last weeks (a Monday is not a Thursday at a
// municipal office), or over every recent day with visits when that
// weekday has none yet, with the services' observed service times.
type Forecast struct {
	Day   string
	Basis string
	// Days are the past days averaged, oldest first.
	Days []string
	// Arrivals is the mean number of visits issued per service and
	// clock hour.
	Arrivals map[string]map[int]float64
	// Service is what the history says of each service's duration.
	Service map[string]ServiceTime
}

// ServiceTime is a service's observed service time: the mean (minutes),
// its squared coefficient of variation and how many services it counts
// (0: nothing observed, the site's typical time and an exponential
// spread are assumed).
type ServiceTime struct {
	Mean, CS2 float64
	Served    int
}

// ForecastDay forecasts day (in the site's zone) from the weeks before
// it: stored daily aggregates where kept, the event log otherwise.
func ForecastDay(src Source, site *hub.Site, day time.Time, weeks int) (*Forecast, error) {
	if weeks <= 0 {
		weeks = ForecastWeeks
	}
	loc := site.Location()
	y, m, d := day.In(loc).Date()
	start := time.Date(y, m, d, 0, 0, 0, 0, loc)
	from := start.AddDate(0, 0, -7*weeks).Format("2006-01-02")
	to := start.AddDate(0, 0, -1).Format("2006-01-02")
	days, err := Days(src, site, from, to)
	if err != nil {
		return nil, err
	}
	f := &Forecast{Day: start.Format("2006-01-02"), Basis: BasisNone, Arrivals: map[string]map[int]float64{}, Service: map[string]ServiceTime{}}
	var same, recent []string
	for k, dd := range days {
		if dd.Total == nil || dd.Total.Visits == 0 {
			continue
		}
		recent = append(recent, k)
		if t, err := time.ParseInLocation("2006-01-02", k, loc); err == nil && t.Weekday() == start.Weekday() {
			same = append(same, k)
		}
	}
	switch {
	case len(same) > 0:
		f.Basis, f.Days = BasisSameWeekday, same
	case len(recent) > 0:
		f.Basis, f.Days = BasisRecentDays, recent
	}
	sort.Strings(f.Days)
	for _, k := range f.Days {
		for s, hours := range days[k].arrivals() {
			m, ok := f.Arrivals[s]
			if !ok {
				m = map[int]float64{}
				f.Arrivals[s] = m
			}
			for h, n := range hours {
				m[h] += n / float64(len(f.Days))
			}
		}
	}
	// Service times from every recent day: they do not depend on the
	// weekday, and more of them steady the spread.
	per := map[string]*Agg{}
	for _, k := range recent {
		for s, a := range days[k].Services {
			if per[s] == nil {
				per[s] = newAgg()
			}
			per[s].Merge(a)
		}
	}
	for _, sv := range site.Services {
		st := ServiceTime{Mean: sv.ServiceTime.Minutes(), CS2: 1}
		if a := per[sv.ID]; a != nil && a.Served > 0 {
			st = observed(a)
		}
		if st.Mean <= 0 {
			st.Mean = (10 * time.Minute).Minutes()
		}
		f.Service[sv.ID] = st
	}
	return f, nil
}

// observed is the mean and c_s² of a slice's service times (whole
// seconds, as the histograms keep them).
func observed(a *Agg) ServiceTime {
	n, sum, sum2 := 0.0, 0.0, 0.0
	for s, c := range a.ServiceTimes {
		x := float64(s) / 60
		n += float64(c)
		sum += float64(c) * x
		sum2 += float64(c) * x * x
	}
	if n == 0 || sum == 0 {
		return ServiceTime{Mean: float64(a.ServiceSum) / float64(max(a.Served, 1)) / 60, CS2: 1, Served: a.Served}
	}
	mean := sum / n
	v := sum2/n - mean*mean
	return ServiceTime{Mean: mean, CS2: max(v, 0) / (mean * mean), Served: a.Served}
}

// arrivals are the day's visits per service and hour; a day stored
// before Arrivals existed gets its hours split by its services' shares.
func (d *Day) arrivals() map[string]map[int]float64 {
	out := map[string]map[int]float64{}
	if d.Arrivals != nil {
		for s, hours := range d.Arrivals {
			out[s] = map[int]float64{}
			for h, n := range hours {
				out[s][h] = float64(n)
			}
		}
		return out
	}
	if d.Total == nil || d.Total.Visits == 0 {
		return out
	}
	for s, a := range d.Services {
		share := float64(a.Visits) / float64(d.Total.Visits)
		out[s] = map[int]float64{}
		for h, ha := range d.Hours {
			out[s][h] = float64(ha.Visits) * share
		}
	}
	return out
}
