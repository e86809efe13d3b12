package sim

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"
	"time"

	"github.com/comune-rc/sportello/staffing"
)

// adviseFlags are the flags of `sportello sim --advise`.
type adviseFlags struct {
	on         *bool
	targetSL   *float64
	targetWait *time.Duration
	rounds     *int
	minJudge   *int
}

// defaultAdviseDays is how many days the check simulates without --days:
// the advice is re-simulated after every correction, so the default is a
// few weeks rather than the file's 200 days.
const defaultAdviseDays = 20

func addAdviseFlags(fs *flag.FlagSet) *adviseFlags {
	return &adviseFlags{
		on:         fs.Bool("advise", false, "staffing advice: counters needed per hour for the scenario's day (Erlang C per skill group, checked by simulation)"),
		targetSL:   fs.Float64("target-sl", staffing.DefaultServiceLevel, "with --advise: share of walk-ins to call within --target-wait, in (0, 1)"),
		targetWait: fs.Duration("target-wait", 15*time.Minute, "with --advise: the service-level target wait"),
		rounds:     fs.Int("rounds", 8, "with --advise: at most this many correction rounds of the simulation check (0: Erlang C only, simulated once)"),
		minJudge:   fs.Int("min-tickets", 10, "with --advise: an hour and group is judged by simulation only with at least this many walk-ins over the days"),
	}
}

// check refuses advise flags without --advise and values out of range.
func (a *adviseFlags) check(fs *flag.FlagSet) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !*a.on {
		for _, n := range []string{"target-sl", "target-wait", "rounds", "min-tickets"} {
			if set[n] {
				return fmt.Errorf("--%s needs --advise", n)
			}
		}
		return nil
	}
	switch {
	case set["dump-visitors"] || set["conformance"]:
		return errors.New("--advise does not combine with --dump-visitors or --conformance")
	case !(*a.targetSL > 0 && *a.targetSL < 1):
		return fmt.Errorf("--target-sl must be a fraction in (0, 1), got %v", *a.targetSL)
	case *a.targetWait <= 0 || *a.targetWait > 8*time.Hour:
		return fmt.Errorf("--target-wait must be in (0, 8h], got %v", *a.targetWait)
	case *a.rounds < 0 || *a.rounds > 100:
		return fmt.Errorf("--rounds must be in 0 … 100, got %d", *a.rounds)
	case *a.minJudge < 1:
		return fmt.Errorf("--min-tickets must be ≥ 1, got %d", *a.minJudge)
	}
	return nil
}

// adviseMain runs --advise after main's checks: one policy (P unless
// --policy names exactly one), the days (defaultAdviseDays unless --days).
func (a *adviseFlags) main(ctx context.Context, fs *flag.FlagSet, sc *Scenario, pols []string, days, workers int, out string, quiet bool, stdout, stderr io.Writer) int {
	policy := "P"
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "policy" {
			policy = ""
		}
	})
	if policy == "" {
		if len(pols) != 1 {
			fmt.Fprintf(stderr, "sportello sim: --advise checks one policy, --policy names %d\n", len(pols))
			return 2
		}
		policy = pols[0]
	}
	if policy == "B0" && !sc.B0Defined {
		fmt.Fprintln(stderr, "sportello sim: --advise: policy B0 is not defined for this scenario (a service has no line)")
		return 2
	}
	if days == 0 {
		days = defaultAdviseDays
	}
	opt := AdviseOptions{TargetSL: *a.targetSL, TargetWait: a.targetWait.Minutes(), Days: days, Rounds: *a.rounds, Policy: policy, Workers: workers, MinTickets: *a.minJudge}
	if !quiet {
		opt.Progress = stderr
	}
	adv, err := sc.Advise(ctx, opt)
	if err != nil {
		fmt.Fprintf(stderr, "sportello sim: %v\n", err)
		return 1
	}
	return emit(adv, out, nil, stdout, stderr)
}

// AdviseOptions tune Advise.
type AdviseOptions struct {
	TargetSL   float64 // share of walk-ins called within TargetWait
	TargetWait float64 // minutes
	Days       int     // simulated days of the check
	Rounds     int     // correction rounds at most
	Policy     string  // the call-next policy of the check
	Workers    int     // default GOMAXPROCS
	MinTickets int     // walk-ins needed to judge an hour and group (default 10)
	// ServiceTargets sizes and judges each service at its own target
	// (ServiceSpec.Target, as the hub's policy is given it) instead of
	// TargetWait: the supervisor console's check, whose Erlang C is the
	// site's per-service targets.
	ServiceTargets bool
	Progress       io.Writer
}

// wait is the target wait of service s, in minutes.
func (opt AdviseOptions) wait(s ServiceSpec) float64 {
	if opt.ServiceTargets {
		return s.target().Minutes()
	}
	return opt.TargetWait
}

// Advice is the staffing advice for the scenario's day.
type Advice struct {
	Scenario   string           `json:"scenario"`
	Policy     string           `json:"policy"`
	Days       int              `json:"days"`
	TargetSL   float64          `json:"target_sl"`
	TargetWait float64          `json:"target_wait_min"`
	Rounds     int              `json:"rounds"`
	Groups     []staffing.Group `json:"groups"`
	Hours      []AdviceHour     `json:"hours"`
	// Met is true when every judged hour and group meets the target
	// with the advised counters.
	Met bool `json:"met"`
}

// AdviceHour is one opening hour of the advice.
type AdviceHour struct {
	// Hour is the clock hour ("08:00"); From/To are minutes since open.
	Hour     string        `json:"hour"`
	From, To float64       `json:"-"`
	Groups   []AdviceGroup `json:"groups"`
	// Advised is the counters to staff in the hour, all groups.
	Advised int `json:"advised"`
}

// AdviceGroup is one skill group in one hour.
type AdviceGroup struct {
	Group string `json:"group"`
	// Arrivals is the forecast arrival rate (walk-ins and appointments
	// that show), per hour.
	Arrivals float64 `json:"arrivals_per_h"`
	Erlangs  float64 `json:"erlangs"`
	// Erlang is Erlang C's counters; Short is true when it is more than
	// the group has (the advice is then capped at the group's counters).
	Erlang int  `json:"erlang_c"`
	Short  bool `json:"short"`
	// SLErlang and SL are the simulated service levels (walk-ins called
	// within the target wait, README §9.3) at Erlang C's staffing and at
	// the advised staffing; Tickets is the walk-ins they count; Judged is
	// false below MinTickets (SL then not checked).
	SLErlang float64 `json:"sl_erlang"`
	SL       float64 `json:"sl"`
	Tickets  int     `json:"tickets"`
	Judged   bool    `json:"judged"`
	Advised  int     `json:"advised"`
	Met      bool    `json:"met"`
}

// adviceHours are the opening hours of the scenario: whole clock hours
// from open, the last one cut at last_ticket.
func (sc *Scenario) adviceHours() []AdviceHour {
	var hs []AdviceHour
	for from := 0.0; from < sc.LastTicket; from += 60 {
		m := sc.Open + int(from)
		hs = append(hs, AdviceHour{Hour: fmt.Sprintf("%02d:%02d", m/60, m%60), From: from, To: math.Min(from+60, sc.LastTicket)})
	}
	return hs
}

// overlap is the length of [a, b) ∩ [c, d).
func overlap(a, b, c, d float64) float64 { return math.Max(0, math.Min(b, d)-math.Max(a, c)) }

// forecast is the scenario's expected front-office demand per hour (rows)
// and service (columns), as arrival rates per hour: walk-ins by the
// opening burst and the profile (README §4.3), bookings that show at
// their slot moved by the mean arrival offset (§4.4), split by the
// services' shares. Rooms are left out: they are booked by slot.
func (sc *Scenario) forecast(hours []AdviceHour, opt AdviseOptions) [][]staffing.Load {
	counts := make([]float64, len(hours))
	n := float64(sc.WalkPerDay)
	burst := float64(roundHalfUp(n * sc.BurstShare))
	hourOf := func(t float64) int {
		return min(len(hours)-1, max(0, int(t/60)))
	}
	if burst > 0 {
		if sc.BurstMinutes <= 0 {
			counts[0] += burst
		} else {
			for h, hr := range hours {
				counts[h] += burst * overlap(0, sc.BurstMinutes, hr.From, hr.To) / sc.BurstMinutes
			}
		}
	}
	wsum := 0.0
	for _, w := range sc.Profile {
		wsum += w
	}
	for k, w := range sc.Profile {
		if wsum == 0 {
			break
		}
		from := float64(k) * sc.ProfileMinutes
		lenK := math.Min(sc.ProfileMinutes, sc.LastTicket-from)
		for h, hr := range hours {
			counts[h] += (n - burst) * w / wsum * overlap(from, from+lenK, hr.From, hr.To) / lenK
		}
	}
	if len(sc.ApptSlots) > 0 {
		per := float64(sc.ApptPerDay) * (1 - sc.ApptNoShow) / float64(len(sc.ApptSlots))
		for _, s := range sc.ApptSlots {
			counts[hourOf(math.Max(0, s+sc.OffsetMean))] += per
		}
	}
	out := make([][]staffing.Load, len(hours))
	for h, hr := range hours {
		rate := counts[h] / ((hr.To - hr.From) / 60)
		for _, s := range sc.Services {
			out[h] = append(out[h], staffing.Load{Service: s.ID, PerHour: rate * s.Share, Mean: s.Mean, CS2: s.CV * s.CV, Target: opt.wait(s)})
		}
	}
	return out
}

// skillCounters are the front-office counters as skill sets.
func (sc *Scenario) skillCounters() []staffing.Counter {
	var out []staffing.Counter
	for _, c := range sc.Counters[:sc.FrontCount] {
		sk := staffing.Counter{ID: c.ID}
		for _, k := range c.Services {
			sk.Services = append(sk.Services, sc.Services[k].ID)
		}
		out = append(out, sk)
	}
	return out
}

// Advise computes the counters needed per opening hour to meet the
// service-level target on the scenario's day: Erlang C per skill group
// (staffing.Groups) on the forecast demand of each hour, then a check by
// simulation — the real engine under opt.Policy over opt.Days days of
// the scenario, staffed hour by hour as advised — that adds a counter
// to every hour and group whose simulated service level misses the
// target, and simulates again, for at most opt.Rounds rounds. The
// advice counts counters at work: in the check the scenario's breaks
// and outages give way to the advised plan, so breaks must be covered
// on top of it. Which counters of a group open is staffing.Choose's
// pick for the hour's loads.
func (sc *Scenario) Advise(ctx context.Context, opt AdviseOptions) (*Advice, error) {
	if opt.Days <= 0 {
		opt.Days = defaultAdviseDays
	}
	if opt.Policy == "" {
		opt.Policy = "P"
	}
	if opt.MinTickets <= 0 {
		opt.MinTickets = 10
	}
	hours := sc.adviceHours()
	loads := sc.forecast(hours, opt)
	counters := sc.skillCounters()
	svcIDs := make([]string, len(sc.Services))
	for i, s := range sc.Services {
		svcIDs[i] = s.ID
	}
	groups := staffing.Groups(svcIDs, counters)
	adv := &Advice{Scenario: sc.Name, Policy: opt.Policy, Days: opt.Days, TargetSL: opt.TargetSL, TargetWait: opt.TargetWait, Groups: groups}
	groupOf := make([]int, len(sc.Services))
	inGroup := make([][]staffing.Counter, len(groups))
	for g, gr := range groups {
		for _, s := range gr.Services {
			groupOf[sc.ServiceIndex[s]] = g
		}
		for _, id := range gr.Counters {
			inGroup[g] = append(inGroup[g], counters[sc.counterIndexMap[id]])
		}
	}
	groupLoads := func(h, g int) []staffing.Load {
		var out []staffing.Load
		for _, s := range groups[g].Services {
			out = append(out, loads[h][sc.ServiceIndex[s]])
		}
		return out
	}
	for h := range hours {
		for g := range groups {
			l := groupLoads(h, g)
			lambda := 0.0
			for _, x := range l {
				lambda += x.PerHour
			}
			need := staffing.Needed(l, opt.TargetSL)
			ag := AdviceGroup{Group: groups[g].ID, Arrivals: lambda, Erlangs: staffing.Erlangs(l), Erlang: need, Advised: need}
			if need > len(inGroup[g]) {
				ag.Short, ag.Advised = true, len(inGroup[g])
			}
			hours[h].Groups = append(hours[h].Groups, ag)
		}
	}
	dayList := make([]*Day, opt.Days)
	for d := range dayList {
		dayList[d] = sc.Generate(d)
	}
	start := time.Now()
	for round := 0; ; round++ {
		plan := sc.plan(hours, loads, groups, inGroup)
		n, ok, err := sc.simulatePlan(ctx, plan, dayList, opt, hours, groupOf)
		if err != nil {
			return nil, err
		}
		changed, below := false, 0
		for h := range hours {
			for g := range groups {
				ag := &hours[h].Groups[g]
				ag.Tickets = n[h][g]
				ag.Judged = n[h][g] >= opt.MinTickets
				ag.SL = 1
				if n[h][g] > 0 {
					ag.SL = float64(ok[h][g]) / float64(n[h][g])
				}
				if round == 0 {
					ag.SLErlang = ag.SL
				}
				ag.Met = !ag.Judged || ag.SL >= opt.TargetSL
				if !ag.Met {
					below++
				}
				if !ag.Met && round < opt.Rounds && ag.Advised < len(inGroup[g]) {
					ag.Advised++
					changed = true
				}
			}
		}
		adv.Rounds = round
		if opt.Progress != nil {
			fmt.Fprintf(opt.Progress, "\radvise %s: round %d, %d days under %s: %d of %d hours × groups below target, %s elapsed   ",
				sc.Name, round, opt.Days, opt.Policy, below, len(hours)*len(groups), time.Since(start).Round(time.Second))
		}
		if !changed {
			break
		}
	}
	if opt.Progress != nil {
		fmt.Fprintln(opt.Progress)
	}
	adv.Met = true
	for h := range hours {
		hours[h].Advised = 0
		for _, ag := range hours[h].Groups {
			hours[h].Advised += ag.Advised
			adv.Met = adv.Met && ag.Met
		}
	}
	adv.Hours = hours
	return adv, nil
}

// plan is which counters are open in each hour: per group, Choose's
// pick of the advised number for the hour's loads.
func (sc *Scenario) plan(hours []AdviceHour, loads [][]staffing.Load, groups []staffing.Group, inGroup [][]staffing.Counter) [][]bool {
	open := make([][]bool, len(hours))
	for h := range hours {
		open[h] = make([]bool, sc.FrontCount)
		erl := map[string]float64{}
		for _, l := range loads[h] {
			erl[l.Service] = l.PerHour * l.Mean / 60
		}
		for g := range groups {
			for _, id := range staffing.Choose(inGroup[g], erl, hours[h].Groups[g].Advised) {
				open[h][sc.counterIndexMap[id]] = true
			}
		}
	}
	return open
}

// staffed is the scenario run as planned: no breaks, and each counter
// out of service in the hours it is not open (the last hour's staffing
// serves the queue left at last_ticket).
func (sc *Scenario) staffed(open [][]bool) *Scenario {
	cp := *sc
	cp.HasBreaks = false
	cp.Outages = nil
	for i := 0; i < sc.FrontCount; i++ {
		h := 0
		for h < len(open) {
			if open[h][i] {
				h++
				continue
			}
			from := h
			for h < len(open) && !open[h][i] {
				h++
			}
			o := Outage{Counter: i, From: float64(from) * 60, To: math.Inf(1), CounterRef: sc.Counters[i].ID}
			if h < len(open) {
				o.To, o.HasUntil = float64(h)*60, true
			}
			o.Unstaffed = from == 0 && !o.HasUntil
			cp.Outages = append(cp.Outages, o)
		}
	}
	return &cp
}

// simulatePlan runs the days under the plan and counts, per hour of
// arrival and group, the front-office walk-ins (n) and those served
// within the target wait (ok), as README §9.3 counts SL.
func (sc *Scenario) simulatePlan(ctx context.Context, open [][]bool, days []*Day, opt AdviseOptions, hours []AdviceHour, groupOf []int) (n, ok [][]int, err error) {
	run := sc.staffed(open)
	results := make([]*DayResult, len(days))
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	jobs := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range jobs {
				r, err := run.RunDay(ctx, days[d], opt.Policy)
				mu.Lock()
				if err != nil && first == nil {
					first = fmt.Errorf("advise: day %d: %w", d, err)
					cancel()
				}
				results[d] = r
				mu.Unlock()
			}
		}()
	}
	for d := range days {
		if ctx.Err() != nil {
			break
		}
		jobs <- d
	}
	close(jobs)
	wg.Wait()
	if first != nil {
		return nil, nil, first
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	ngroups := 0
	for _, g := range groupOf {
		ngroups = max(ngroups, g+1)
	}
	n, ok = make([][]int, len(hours)), make([][]int, len(hours))
	for h := range hours {
		n[h], ok[h] = make([]int, ngroups), make([]int, ngroups)
	}
	for _, r := range results {
		for _, rec := range r.Records {
			v := rec.V
			if v.Kind != KindWalkIn {
				continue
			}
			h := min(len(hours)-1, int(v.Arrival/60))
			g := groupOf[v.Service]
			n[h][g]++
			if rec.Called && rec.Present && rec.Call-v.Arrival <= opt.wait(sc.Services[v.Service]) {
				ok[h][g]++
			}
		}
	}
	return n, ok, nil
}
