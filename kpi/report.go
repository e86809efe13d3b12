package kpi

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/comune-rc/sportello/hub"
)

// Row is one line of a report's table: a service, counter, clerk, hour
// or day with its figures.
type Row struct {
	Key   string
	Label hub.Text
	// Target is a service's target wait (service rows only).
	Target time.Duration
	*Agg
}

// Report is the figures of a period, ready for the pages, the CSV and the
// PDF.
type Report struct {
	Site      *hub.Site
	From, To  string // YYYY-MM-DD, inclusive
	Generated time.Time
	Total     *Agg
	Services  []Row // every service of the catalogue, in its order
	Counters  []Row // every counter and room of the site, in its order
	Clerks    []Row // clerks with activity, by username (supervisors only)
	Hours     []Row // hours of the day with visits, in order
	Days      []Row // every day of the period, in order
}

// Build computes the report of from..to (YYYY-MM-DD, inclusive).
func Build(src Source, site *hub.Site, from, to string, now time.Time) (*Report, error) {
	if to < from {
		return nil, fmt.Errorf("kpi: the period ends (%s) before it starts (%s)", to, from)
	}
	days, err := Days(src, site, from, to)
	if err != nil {
		return nil, err
	}
	return assemble(site, from, to, now, days), nil
}

// Month computes the report of a month ("YYYY-MM").
func Month(src Source, site *hub.Site, month string, now time.Time) (*Report, error) {
	from, to, err := MonthBounds(month, site.Location())
	if err != nil {
		return nil, err
	}
	return Build(src, site, from, to, now)
}

// MonthBounds returns the first and last day of a month "YYYY-MM".
func MonthBounds(month string, loc *time.Location) (from, to string, err error) {
	m, err := time.ParseInLocation("2006-01", month, loc)
	if err != nil {
		return "", "", fmt.Errorf("kpi: month %q: want YYYY-MM", month)
	}
	return m.Format("2006-01-02"), m.AddDate(0, 1, -1).Format("2006-01-02"), nil
}

func assemble(site *hub.Site, from, to string, now time.Time, days map[string]*Day) *Report {
	r := &Report{Site: site, From: from, To: to, Generated: now, Total: newAgg()}
	services, counters, clerks, hours := map[string]*Agg{}, map[string]*Agg{}, map[string]*Agg{}, map[int]*Agg{}
	keys := make([]string, 0, len(days))
	for k := range days {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	merge := func(m map[string]*Agg, k string, a *Agg) {
		if _, ok := m[k]; !ok {
			m[k] = newAgg()
		}
		m[k].Merge(a)
	}
	for _, k := range keys {
		d := days[k]
		r.Total.Merge(d.Total)
		for s, a := range d.Services {
			merge(services, s, a)
		}
		for c, a := range d.Counters {
			merge(counters, c, a)
		}
		for c, a := range d.Clerks {
			merge(clerks, c, a)
		}
		for h, a := range d.Hours {
			if _, ok := hours[h]; !ok {
				hours[h] = newAgg()
			}
			hours[h].Merge(a)
		}
		day := newAgg()
		day.Merge(d.Total)
		r.Days = append(r.Days, Row{Key: k, Label: hub.Text{IT: k, EN: k}, Agg: day})
	}
	get := func(m map[string]*Agg, k string) *Agg {
		if a, ok := m[k]; ok {
			return a
		}
		return newAgg()
	}
	seen := map[string]bool{}
	for _, sv := range site.Services {
		seen[sv.ID] = true
		r.Services = append(r.Services, Row{Key: sv.ID, Label: sv.Name, Target: sv.TargetWait, Agg: get(services, sv.ID)})
	}
	// Services the catalogue no longer has keep their figures.
	for _, k := range sortedKeys(services) {
		if !seen[k] {
			r.Services = append(r.Services, Row{Key: k, Label: hub.Text{IT: k, EN: k}, Target: defaultTarget, Agg: services[k]})
		}
	}
	seen = map[string]bool{}
	for _, c := range site.Counters {
		seen[c.ID] = true
		r.Counters = append(r.Counters, Row{Key: c.ID, Label: c.Name, Agg: get(counters, c.ID)})
	}
	for _, k := range sortedKeys(counters) {
		if !seen[k] {
			r.Counters = append(r.Counters, Row{Key: k, Label: hub.Text{IT: k, EN: k}, Agg: counters[k]})
		}
	}
	for _, k := range sortedKeys(clerks) {
		r.Clerks = append(r.Clerks, Row{Key: k, Label: hub.Text{IT: k, EN: k}, Agg: clerks[k]})
	}
	hs := make([]int, 0, len(hours))
	for h := range hours {
		hs = append(hs, h)
	}
	sort.Ints(hs)
	for _, h := range hs {
		l := fmt.Sprintf("%02d:00", h)
		r.Hours = append(r.Hours, Row{Key: strconv.Itoa(h), Label: hub.Text{IT: l, EN: l}, Agg: hours[h]})
	}
	return r
}

func sortedKeys(m map[string]*Agg) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Service returns the row of a service, or nil.
func (r *Report) Service(id string) *Row {
	for i := range r.Services {
		if r.Services[i].Key == id {
			return &r.Services[i]
		}
	}
	return nil
}
