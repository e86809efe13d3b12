package sim

import (
	"context"
	"fmt"
	"io"
	"math"
	"sort"
	"time"
)

// ActualRow is the replay report's row of what the log records.
const ActualRow = "actual"

// ReplayResult is a replayed day: the actual outcome and each policy's,
// scored by the same metric code.
type ReplayResult struct {
	Day      *ReplayDay
	Rows     []string // "actual", then the policies in report order
	Metrics  map[string]*Metrics
	Days     map[string]*DayResult
	NotRun   map[string]string // policy → why it has no row
	Policies []string
}

// Replay runs every policy over the reconstructed day and scores the
// actual outcome beside them. Each policy gets a fresh engine on the same
// visitors (common random numbers: nothing is drawn at all).
func (r *ReplayDay) Replay(ctx context.Context, policies []string, progress io.Writer) (*ReplayResult, error) {
	if len(policies) == 0 {
		policies = DefaultPolicies
	}
	sc := r.Scenario
	out := &ReplayResult{Day: r, Metrics: map[string]*Metrics{}, Days: map[string]*DayResult{}, NotRun: map[string]string{}, Policies: policies}
	score := func(row string, d *DayResult) {
		m := newMetrics(row)
		m.add(sc, d)
		m.finish(sc)
		out.Metrics[row], out.Days[row] = m, d
	}
	score(ActualRow, r.Actual)
	out.Rows = append(out.Rows, ActualRow)
	var run []string
	for _, p := range PolicyIDs {
		for _, q := range policies {
			if p == q {
				run = append(run, p)
			}
		}
	}
	start := time.Now()
	for i, p := range run {
		if progress != nil {
			fmt.Fprintf(progress, "\rreplay %s: policy %d/%d (%s), %d tickets, %s elapsed   ", r.Date, i+1, len(run), p, len(r.Day.Visitors), time.Since(start).Round(time.Millisecond))
		}
		out.Rows = append(out.Rows, p)
		if p == "B0" && !sc.B0Defined {
			out.NotRun[p] = "n/a: some service is the first-listed service (the line) of no counter"
			continue
		}
		d, err := sc.RunDay(ctx, r.Day, p)
		if err != nil {
			return nil, fmt.Errorf("policy %s: %w", p, err)
		}
		score(p, d)
	}
	if progress != nil {
		fmt.Fprintf(progress, "\rreplay %s: %d policies done, %s elapsed            \n", r.Date, len(run), time.Since(start).Round(time.Millisecond))
	}
	return out, nil
}

// ServiceMeans returns row's mean walk-in wait per front-office service
// index, NaN where none was served.
func (res *ReplayResult) ServiceMeans(row string) []float64 {
	m := res.Metrics[row]
	out := make([]float64, len(res.Day.Scenario.Services))
	for i := range out {
		out[i] = NaN
		if m != nil && m.svcN[i] > 0 {
			out[i] = m.svcSum[i] / float64(m.svcN[i])
		}
	}
	return out
}

// servicesSeen lists the front-office services that had walk-ins that
// day, in site order: the per-service table leaves the others out.
func (r *ReplayDay) servicesSeen() []int {
	seen := map[int]bool{}
	for _, v := range r.Day.Visitors {
		if v.Kind == KindWalkIn {
			seen[v.Service] = true
		}
	}
	var out []int
	for i := range r.Scenario.Services {
		if seen[i] {
			out = append(out, i)
		}
	}
	sort.Ints(out)
	return out
}

// Limits says what a replay cannot know and how it fills it in: the
// report prints it beside the numbers.
func (r *ReplayDay) Limits() []string {
	c := r.Counts
	est := ""
	for _, i := range r.servicesSeen() {
		id := r.Scenario.Services[i].ID
		est += fmt.Sprintf(" %s: %s;", id, r.Estimated[id])
	}
	out := []string{
		fmt.Sprintf("Arrivals, services, priorities and booked slots are the log's (ticket.issued); the actual waits are first call − issue. Service durations are measured for the %d tickets served (ticket.started → ticket.finished, or called → finished without a start, summed over every step of a visit).", c.Measured),
		fmt.Sprintf("The %d tickets never served have no duration: a policy that would serve them gets the mean measured duration of the same service that day, or the site's typical time when none was measured (no random draw, so the replay is deterministic):%s", c.Estimated, trimSemicolon(est)),
		fmt.Sprintf("No-shows (%d) stay absent under every policy: the log cannot tell when the citizen left, so a counter that calls them loses the day's median call → no-show time, %.2f min (1.5 min, the benchmark's default, when there was none).", c.NoShows, r.AbsentCall),
		fmt.Sprintf("Walk-outs (%d, cancelled while waiting): their patience is the observed time to the cancellation; a policy that calls them sooner serves them. Served citizens' patience is unknown (at least their wait) and taken as unlimited, as is that of the %d tickets still waiting when the day was closed: a policy that reaches them serves them.", c.WalkOuts, c.Unserved),
		fmt.Sprintf("Counters: %d of %d were opened that day. Each is available while open per its counter.opened / paused / closed events; a pause and a close both make it unavailable, honoured after the current service. Skills are the profiles the hub holds now (site file, admin catalogue, a supervisor's live change): the log does not record earlier profiles. B0's line and B2/B3's home service are each counter's first listed service.", c.CountersUsed, len(r.Scenario.Counters)),
		"In the policy rows an idle counter calls at once and the citizen starts at the call: the clerks' gaps between a finish and the next call, and the walk to the counter, are not replayed, which favours the policies slightly.",
		fmt.Sprintf("Transfers (%d) are replayed as one visit of the first service lasting the whole served time; parked tickets (%d) likewise; web queue places (%d) as walk-ins arriving at check-in. Consultation rooms are pooled into one room service, as the simulator models them.", c.Transferred, c.Parked, c.Virtual),
		"Waiting-time estimates are not scored: the log does not keep the estimate each ticket was given.",
	}
	if c.StillOpen > 0 {
		out = append(out, fmt.Sprintf("%d tickets were still open when the log ends (the day was not closed): those being served count as served up to the last event, the others as unserved.", c.StillOpen))
	}
	if c.UnknownService > 0 {
		out = append(out, fmt.Sprintf("%d tickets of services the site no longer has are left out.", c.UnknownService))
	}
	return out
}

func trimSemicolon(s string) string {
	if n := len(s); n > 0 && s[n-1] == ';' {
		return s[:n-1] + "."
	}
	return s
}

// clock renders minute t of the replayed day as the site's local time.
func (r *ReplayDay) clock(t float64) string {
	if math.IsNaN(t) || math.IsInf(t, 0) {
		return "–"
	}
	return r.Origin.Add(time.Duration(t * float64(time.Minute))).In(r.Site.Location()).Format("15:04")
}
