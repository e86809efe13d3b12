package kpi

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/comune-rc/sportello/hub"
)

// Source is where the figures come from: the hub's event log and the
// stored daily aggregates (hub/boltstore's Store is one).
type Source interface {
	EventsSince(since uint64, limit int) ([]hub.Event, bool, error)
	Aggregates(from, to string) (map[string][]byte, error)
}

// Saver stores daily aggregates (hub/boltstore's Store is one).
type Saver interface {
	PutAggregates(days map[string][]byte) error
}

const page = 5000

// eventAt returns the event with seq s, if kept.
func eventAt(src Source, s uint64) (hub.Event, bool, error) {
	if s == 0 {
		return hub.Event{}, false, nil
	}
	evs, _, err := src.EventsSince(s-1, 1)
	if err != nil || len(evs) == 0 || evs[0].Seq != s {
		return hub.Event{}, false, err
	}
	return evs[0], true, nil
}

// seek returns a since from which every event at or after t is read: seqs
// are contiguous after pruning and times grow with them, so it is a
// binary search of a few dozen point reads instead of a scan of the log.
func seek(src Source, t time.Time) (uint64, error) {
	evs, _, err := src.EventsSince(0, 1)
	if err != nil || len(evs) == 0 {
		return 0, err
	}
	first := evs[0].Seq
	if !evs[0].At.Before(t) {
		return first - 1, nil
	}
	// Find a seq past t (or past the end) by doubling.
	lo, step := first, uint64(1024)
	hi := lo
	for {
		hi = lo + step
		e, ok, err := eventAt(src, hi)
		if err != nil {
			return 0, err
		}
		if !ok || !e.At.Before(t) {
			break
		}
		lo, step = hi, step*2
	}
	// lo is before t; hi is at or after t, or past the end.
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		e, ok, err := eventAt(src, mid)
		if err != nil {
			return 0, err
		}
		if !ok || !e.At.Before(t) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return lo, nil
}

func dayStart(day string, loc *time.Location) (time.Time, error) {
	return time.ParseInLocation("2006-01-02", day, loc)
}

// daysBetween lists the days from..to inclusive.
func daysBetween(from, to string, loc *time.Location) ([]string, error) {
	f, err := dayStart(from, loc)
	if err != nil {
		return nil, fmt.Errorf("kpi: day %q: %w", from, err)
	}
	t, err := dayStart(to, loc)
	if err != nil {
		return nil, fmt.Errorf("kpi: day %q: %w", to, err)
	}
	var out []string
	for d := f; !d.After(t); d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format("2006-01-02"))
	}
	return out, nil
}

// fromEvents replays the events of the given days (and the ratings that
// follow them within hub.RatingWindow) into days. Days without a visit
// come back empty, not missing.
func fromEvents(src Source, site *hub.Site, days []string) (map[string]*Day, error) {
	out := map[string]*Day{}
	if len(days) == 0 {
		return out, nil
	}
	loc := site.Location()
	want := map[string]bool{}
	for _, d := range days {
		want[d] = true
		out[d] = newDay(d)
	}
	sorted := append([]string(nil), days...)
	sort.Strings(sorted)
	start, err := dayStart(sorted[0], loc)
	if err != nil {
		return nil, err
	}
	last, err := dayStart(sorted[len(sorted)-1], loc)
	if err != nil {
		return nil, err
	}
	end := last.AddDate(0, 0, 1).Add(hub.RatingWindow)
	since, err := seek(src, start.Add(-time.Hour))
	if err != nil {
		return nil, err
	}
	r := newReplay(site, want)
	for k, d := range out {
		r.days[k] = d
	}
	for {
		evs, _, err := src.EventsSince(since, page)
		if err != nil {
			return nil, err
		}
		if len(evs) == 0 {
			break
		}
		for _, ev := range evs {
			since = ev.Seq
			if ev.At.After(end) {
				return out, nil
			}
			r.add(ev)
		}
	}
	return out, nil
}

// Days returns the aggregates of from..to: stored days as stored, the
// others replayed from the event log.
func Days(src Source, site *hub.Site, from, to string) (map[string]*Day, error) {
	loc := site.Location()
	all, err := daysBetween(from, to, loc)
	if err != nil {
		return nil, err
	}
	stored, err := src.Aggregates(from, to)
	if err != nil {
		return nil, fmt.Errorf("kpi: read aggregates: %w", err)
	}
	out := map[string]*Day{}
	var missing []string
	for _, d := range all {
		raw, ok := stored[d]
		if !ok {
			missing = append(missing, d)
			continue
		}
		var day Day
		if err := json.Unmarshal(raw, &day); err != nil || day.Version != dayVersion {
			missing = append(missing, d)
			continue
		}
		fill(&day)
		out[d] = &day
	}
	replayed, err := fromEvents(src, site, missing)
	if err != nil {
		return nil, fmt.Errorf("kpi: read events: %w", err)
	}
	for k, v := range replayed {
		out[k] = v
	}
	return out, nil
}

// fill gives a decoded day the maps and histograms JSON left nil.
func fill(d *Day) {
	if d.Total == nil {
		d.Total = newAgg()
	}
	for _, m := range []*map[string]*Agg{&d.Services, &d.Counters, &d.Clerks} {
		if *m == nil {
			*m = map[string]*Agg{}
		}
	}
	if d.Hours == nil {
		d.Hours = map[int]*Agg{}
	}
	all := []*Agg{d.Total}
	for _, m := range []map[string]*Agg{d.Services, d.Counters, d.Clerks} {
		for _, a := range m {
			all = append(all, a)
		}
	}
	for _, a := range d.Hours {
		all = append(all, a)
	}
	for _, a := range all {
		if a.Waits == nil {
			a.Waits = Hist{}
		}
		if a.ServiceTimes == nil {
			a.ServiceTimes = Hist{}
		}
	}
}

// Keep stores the aggregates of every finished day not stored yet — a day
// is finished once its ratings can no longer arrive (hub.RatingWindow
// after its end) — and returns how many days it stored. The hub runs it
// before the retention purge, so the figures outlive the data behind them.
func Keep(src Source, dst Saver, site *hub.Site, now time.Time) (int, error) {
	loc := site.Location()
	evs, complete, err := src.EventsSince(0, 1)
	if err != nil || len(evs) == 0 {
		return 0, err
	}
	first := evs[0].At.In(loc)
	from := first.Format("2006-01-02")
	if !complete || evs[0].Seq > 1 {
		// The log was pruned: its first day is partial, so it is not
		// stored (if it was kept earlier, it is stored already).
		from = first.AddDate(0, 0, 1).Format("2006-01-02")
	}
	lastDone := now.In(loc).Add(-hub.RatingWindow).AddDate(0, 0, -1)
	to := lastDone.Format("2006-01-02")
	if to < from {
		return 0, nil
	}
	stored, err := src.Aggregates(from, to)
	if err != nil {
		return 0, err
	}
	all, err := daysBetween(from, to, loc)
	if err != nil {
		return 0, err
	}
	var missing []string
	for _, d := range all {
		if _, ok := stored[d]; !ok {
			missing = append(missing, d)
		}
	}
	days, err := fromEvents(src, site, missing)
	if err != nil {
		return 0, err
	}
	out := map[string][]byte{}
	for k, d := range days {
		b, err := json.Marshal(d)
		if err != nil {
			return 0, err
		}
		out[k] = b
	}
	return len(out), dst.PutAggregates(out)
}
