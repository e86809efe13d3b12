package sim

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"
)

// Options of a run.
type Options struct {
	Days     int      // 0: the file's days
	Policies []string // default DefaultPolicies
	Workers  int      // default GOMAXPROCS
	Progress io.Writer
}

// Result is a whole run.
type Result struct {
	Scenario *Scenario
	Days     int
	Policies []string
	Metrics  map[string]*Metrics
	Erlang   Erlang
	Elapsed  time.Duration
}

// Run simulates the days under every policy. Days are generated once and
// replayed for every policy (common random numbers, §5); each (day,
// policy) runs on its own engine, so they run in parallel, and results are
// folded in day order, so the report is the same bit for bit.
func (sc *Scenario) Run(ctx context.Context, opt Options) (*Result, error) {
	days := opt.Days
	if days <= 0 {
		days = sc.Days
	}
	pols := opt.Policies
	if len(pols) == 0 {
		pols = DefaultPolicies
	}
	var run []string
	for _, p := range pols {
		if p == "B0" && !sc.B0Defined {
			continue // n/a: some service has no line
		}
		run = append(run, p)
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	start := time.Now()
	res := &Result{Scenario: sc, Days: days, Policies: pols, Metrics: map[string]*Metrics{}, Erlang: sc.ErlangReference()}
	for _, p := range run {
		res.Metrics[p] = newMetrics(p)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// One job per (day, policy): a day's visitors are generated once and
	// shared (RunDay only reads them). The product's policy goes first,
	// as it takes several times as long as any other (it projects the
	// office forward after every change), so that no worker is left with
	// a long job at the end while the other has nothing to do.
	order := longestFirst(run)
	type job struct {
		day    int
		d      *Day
		policy string
	}
	type out struct {
		day    int
		policy string
		res    *DayResult
		err    error
	}
	jobs := make(chan job)
	outs := make(chan out)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				o := out{day: j.day, policy: j.policy}
				o.res, o.err = sc.RunDay(ctx, j.d, j.policy)
				if o.err != nil {
					o.err = fmt.Errorf("day %d, policy %s: %w", j.day, j.policy, o.err)
				}
				select {
				case outs <- o:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for d := 0; d < days; d++ {
			day := sc.Generate(d)
			for _, p := range order {
				select {
				case jobs <- job{d, day, p}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	go func() { wg.Wait(); close(outs) }()
	// Results are folded in day order, whatever order they finish in.
	pending := map[int]map[string]*DayResult{}
	next := 0
	var firstErr error
	for o := range outs {
		if o.err != nil && firstErr == nil {
			firstErr = o.err
			cancel()
		}
		if firstErr != nil {
			continue
		}
		if pending[o.day] == nil {
			pending[o.day] = map[string]*DayResult{}
		}
		pending[o.day][o.policy] = o.res
		for len(pending[next]) == len(run) {
			po := pending[next]
			delete(pending, next)
			for _, p := range run {
				res.Metrics[p].add(sc, po[p])
			}
			next++
			if opt.Progress != nil {
				el := time.Since(start)
				eta := time.Duration(float64(el) / float64(next) * float64(days-next))
				fmt.Fprintf(opt.Progress, "\rsim %s: day %d/%d, %d policies, %s elapsed, ~%s left   ", sc.Name, next, days, len(run), el.Round(time.Second), eta.Round(time.Second))
			}
		}
	}
	if opt.Progress != nil {
		fmt.Fprintln(opt.Progress)
	}
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil && next < days {
		return nil, err
	}
	for _, m := range res.Metrics {
		m.finish(sc)
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// longestFirst orders the policies for the workers: the product's own
// first (see Run), the others as given.
func longestFirst(run []string) []string {
	out := make([]string, 0, len(run))
	for _, p := range run {
		if p == "P" {
			out = append(out, p)
		}
	}
	for _, p := range run {
		if p != "P" {
			out = append(out, p)
		}
	}
	return out
}
