// Package sim is the office-day simulator and benchmark (`sportello sim`):
// it generates the visitors of a scenario file exactly as the benchmark
// specification prescribes (bench/README.md §4), replays them day by day
// through the real hub engine with a simulated clock (§6), under the
// product's policy and the reference policies (§7), and reports the
// metrics of §9–§10 as markdown, CSV and JSON (§11).
package sim

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/comune-rc/sportello/hub"
	"gopkg.in/yaml.v3"
)

// Clock is a clock time "HH:MM" from a scenario file. It must be a quoted
// string (README §3.1).
type Clock struct {
	Min int // minutes since midnight
	Set bool
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (c *Clock) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" || (n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle)) == 0 {
		return fmt.Errorf("line %d: clock time %q must be a quoted string \"HH:MM\"", n.Line, n.Value)
	}
	m, err := parseHHMM(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %v", n.Line, err)
	}
	c.Min, c.Set = m, true
	return nil
}

func parseHHMM(s string) (int, error) {
	if len(s) != 5 || s[2] != ':' {
		return 0, fmt.Errorf("clock time %q is not \"HH:MM\"", s)
	}
	h, err1 := strconv.Atoi(s[:2])
	m, err2 := strconv.Atoi(s[3:])
	if err1 != nil || err2 != nil || h < 0 || h > 23 || m < 0 || m > 59 || s[0] == '+' || s[3] == '+' || s[0] == '-' || s[3] == '-' {
		return 0, fmt.Errorf("clock time %q is not a valid 24-hour \"HH:MM\"", s)
	}
	return h*60 + m, nil
}

type rawScenario struct {
	Name          *string      `yaml:"name"`
	Description   *string      `yaml:"description"`
	Seed          *int64       `yaml:"seed"`
	Days          *int         `yaml:"days"`
	Hours         *rawHours    `yaml:"hours"`
	Seats         *int         `yaml:"seats"`
	WarmupMinutes *float64     `yaml:"warmup_minutes"`
	Services      []rawService `yaml:"services"`
	Counters      []rawCounter `yaml:"counters"`
	Breaks        *rawBreaks   `yaml:"breaks"`
	WalkIns       *rawWalkIns  `yaml:"walk_ins"`
	Appointments  *rawAppts    `yaml:"appointments"`
	Rooms         *rawRooms    `yaml:"rooms"`
	Outages       []rawOutage  `yaml:"outages"`
}

type rawHours struct {
	Open       Clock `yaml:"open"`
	LastTicket Clock `yaml:"last_ticket"`
	Close      Clock `yaml:"close"`
}

type rawService struct {
	ID    *string  `yaml:"id"`
	Name  *string  `yaml:"name"`
	Share *float64 `yaml:"share"`
	Mean  *float64 `yaml:"mean"`
	CV    *float64 `yaml:"cv"`
	Dist  *string  `yaml:"dist"`
}

type rawCounter struct {
	Group    *string  `yaml:"group"`
	Count    *int     `yaml:"count"`
	Services []string `yaml:"services"`
	Home     *string  `yaml:"home"`
	Line     *string  `yaml:"line"`
}

type rawBreaks struct {
	Length  *float64 `yaml:"length"`
	First   Clock    `yaml:"first"`
	Stagger *float64 `yaml:"stagger"`
	Waves   *int     `yaml:"waves"`
}

type rawWalkIns struct {
	PerDay         *int      `yaml:"per_day"`
	Count          *string   `yaml:"count"`
	ProfileMinutes *float64  `yaml:"profile_minutes"`
	Profile        []float64 `yaml:"profile"`
	OpeningBurst   *struct {
		Share   *float64 `yaml:"share"`
		Minutes *float64 `yaml:"minutes"`
	} `yaml:"opening_burst"`
	PriorityShare *float64 `yaml:"priority_share"`
	Patience      *struct {
		Median *float64 `yaml:"median"`
		Sigma  *float64 `yaml:"sigma"`
	} `yaml:"patience"`
	AbsentShare       *float64 `yaml:"absent_share"`
	AbsentCallMinutes *float64 `yaml:"absent_call_minutes"`
}

type rawOffset struct {
	Mean *float64 `yaml:"mean"`
	SD   *float64 `yaml:"sd"`
}

type rawAppts struct {
	PerDay        *int       `yaml:"per_day"`
	SlotMinutes   *int       `yaml:"slot_minutes"`
	FirstSlot     Clock      `yaml:"first_slot"`
	LastSlot      Clock      `yaml:"last_slot"`
	ArrivalOffset *rawOffset `yaml:"arrival_offset"`
	NoShow        *float64   `yaml:"no_show"`
}

type rawRooms struct {
	Count   *int `yaml:"count"`
	Service *struct {
		ID   *string  `yaml:"id"`
		Name *string  `yaml:"name"`
		Mean *float64 `yaml:"mean"`
		CV   *float64 `yaml:"cv"`
		Dist *string  `yaml:"dist"`
	} `yaml:"service"`
	SlotMinutes   *int     `yaml:"slot_minutes"`
	FirstSlot     Clock    `yaml:"first_slot"`
	LastSlot      Clock    `yaml:"last_slot"`
	PerDay        *int     `yaml:"per_day"`
	NoShow        *float64 `yaml:"no_show"`
	WalkInsPerDay *int     `yaml:"walk_ins_per_day"`
}

type rawOutage struct {
	Counter *string `yaml:"counter"`
	From    Clock   `yaml:"from"`
	Until   Clock   `yaml:"until"`
}

// Dist is a service-time distribution.
type Dist int

const (
	Lognormal Dist = iota
	Exponential
)

// ServiceSpec is a service with its time distribution.
type ServiceSpec struct {
	ID, Name string
	Share    float64
	Mean, CV float64
	Dist     Dist
	// Target is the service-level target the engine's policy is given;
	// zero (scenario files have none) means hub.DefaultTarget. A replay
	// takes the site's, so that P orders the queue as the hub did.
	Target time.Duration
}

func (s ServiceSpec) target() time.Duration {
	if s.Target > 0 {
		return s.Target
	}
	return hub.DefaultTarget
}

// CounterSpec is one counter (groups are expanded).
type CounterSpec struct {
	Num      int // 1-based
	ID       string
	Group    string
	Services []int // indexes into Scenario.Services
	Home     int
	Line     int
	Room     bool
}

// Outage is a counter out of service, in minutes since open.
type Outage struct {
	Counter    int // index into Scenario.Counters
	From, To   float64
	Unstaffed  bool
	HasUntil   bool
	CounterRef string
}

// Scenario is a validated scenario file; times are minutes since open.
type Scenario struct {
	Name, Description string
	Seed              uint64
	FileSeed          uint64 // the file's seed (Seed may be overridden)
	Days              int
	Open              int // minutes since midnight of hours.open
	LastTicket, Close float64
	Seats             int
	Warmup            float64

	Services []ServiceSpec
	Counters []CounterSpec // front office, then rooms

	HasBreaks                  bool
	BreakLength, BreakFirst    float64
	BreakStagger               float64
	BreakWaves                 int
	WalkPerDay                 int
	WalkPoisson                bool
	ProfileMinutes             float64
	Profile                    []float64
	BurstShare, BurstMinutes   float64
	PriorityShare              float64
	HasPatience                bool
	PatienceMedian, PatienceSd float64
	AbsentShare, AbsentCall    float64

	ApptPerDay      int
	ApptSlots       []float64
	OffsetMean      float64
	OffsetSD        float64
	ApptNoShow      float64
	HasRooms        bool
	Room            ServiceSpec
	RoomCount       int
	RoomSlots       []float64
	RoomPerDay      int
	RoomNoShow      float64
	RoomWalkPerDay  int
	Outages         []Outage
	FrontCount      int // number of front-office counters
	B0Defined       bool
	StaffedAtOpen   int
	ServiceIndex    map[string]int
	counterIndexMap map[string]int
	// HardStop is when the tickets still waiting are closed unserved, in
	// minutes since open: 0 means 24 h (README §6.8); a replay sets the
	// minute the real day was closed.
	HardStop float64
}

func (sc *Scenario) hardStop() float64 {
	if sc.HardStop > 0 {
		return sc.HardStop
	}
	return 24 * 60
}

// LoadScenario reads and validates a scenario file.
func LoadScenario(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	sc, err := ParseScenario(name, data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return sc, nil
}

// ParseScenario parses and validates a scenario document; defaultName is
// used when the file has no name.
func ParseScenario(defaultName string, data []byte) (*Scenario, error) {
	var raw rawScenario
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("invalid scenario: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var more yaml.Node
	if err := dec.Decode(&more); err == nil {
		return nil, errors.New("invalid scenario: more than one YAML document")
	}
	return raw.build(defaultName)
}

type fieldErr struct{ field, msg string }

func (e *fieldErr) Error() string { return "invalid scenario: " + e.field + ": " + e.msg }

func ferr(field, format string, args ...any) error {
	return &fieldErr{field, fmt.Sprintf(format, args...)}
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func optF(p *float64, def float64) float64 {
	if p == nil {
		return def
	}
	return *p
}

func optI(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

func checkFrac(field string, p *float64) error {
	if p != nil && (!finite(*p) || *p < 0 || *p > 1) {
		return ferr(field, "must be a fraction in [0, 1], found %v", *p)
	}
	return nil
}

func checkNonNeg(field string, p *float64) error {
	if p != nil && (!finite(*p) || *p < 0) {
		return ferr(field, "must be ≥ 0, found %v", *p)
	}
	return nil
}

func parseDist(field string, p *string) (Dist, error) {
	if p == nil || *p == "lognormal" {
		return Lognormal, nil
	}
	if *p == "exponential" {
		return Exponential, nil
	}
	return 0, ferr(field, "%q is not a distribution: use lognormal or exponential", *p)
}

func (r *rawScenario) build(defaultName string) (*Scenario, error) {
	sc := &Scenario{Name: defaultName, Days: 200, Seats: 38, ServiceIndex: map[string]int{}, counterIndexMap: map[string]int{}}
	if r.Name != nil {
		if strings.TrimSpace(*r.Name) == "" {
			return nil, ferr("name", "must not be empty")
		}
		sc.Name = *r.Name
	}
	if r.Description != nil {
		sc.Description = strings.TrimSpace(*r.Description)
	}
	if r.Seed == nil {
		return nil, ferr("seed", "is required")
	}
	if *r.Seed < 0 {
		return nil, ferr("seed", "must be an integer in 0 … 2^63−1, found %d", *r.Seed)
	}
	sc.Seed = uint64(*r.Seed)
	sc.FileSeed = sc.Seed
	sc.Days = optI(r.Days, 200)
	if sc.Days < 1 {
		return nil, ferr("days", "must be ≥ 1, found %d", sc.Days)
	}
	sc.Seats = optI(r.Seats, 38)
	if sc.Seats < 0 {
		return nil, ferr("seats", "must be ≥ 0, found %d", sc.Seats)
	}
	if err := checkNonNeg("warmup_minutes", r.WarmupMinutes); err != nil {
		return nil, err
	}
	sc.Warmup = optF(r.WarmupMinutes, 0)
	open, last, cls := 8*60, 15*60+30, 16*60
	if h := r.Hours; h != nil {
		if h.Open.Set {
			open = h.Open.Min
		}
		if h.LastTicket.Set {
			last = h.LastTicket.Min
		}
		if h.Close.Set {
			cls = h.Close.Min
		}
	}
	if !(open < last && last <= cls) {
		return nil, ferr("hours", "must satisfy open < last_ticket ≤ close")
	}
	sc.Open = open
	sc.LastTicket, sc.Close = float64(last-open), float64(cls-open)
	rel := func(field string, c Clock) (float64, error) {
		if c.Min < open {
			return 0, ferr(field, "is before hours.open")
		}
		return float64(c.Min - open), nil
	}

	// Services.
	if len(r.Services) == 0 {
		return nil, ferr("services", "at least one service is required")
	}
	sum := 0.0
	for i, s := range r.Services {
		at := fmt.Sprintf("services[%d]", i)
		if s.ID == nil || *s.ID == "" {
			return nil, ferr(at+".id", "is required")
		}
		if _, dup := sc.ServiceIndex[*s.ID]; dup {
			return nil, ferr(at+".id", "%q is used twice", *s.ID)
		}
		if s.Share == nil {
			return nil, ferr(at+".share", "is required")
		}
		if err := checkNonNeg(at+".share", s.Share); err != nil {
			return nil, err
		}
		if s.Mean == nil {
			return nil, ferr(at+".mean", "is required")
		}
		if !finite(*s.Mean) || *s.Mean <= 0 {
			return nil, ferr(at+".mean", "must be > 0 minutes, found %v", *s.Mean)
		}
		if err := checkNonNeg(at+".cv", s.CV); err != nil {
			return nil, err
		}
		d, err := parseDist(at+".dist", s.Dist)
		if err != nil {
			return nil, err
		}
		sp := ServiceSpec{ID: *s.ID, Name: *s.ID, Share: *s.Share, Mean: *s.Mean, CV: optF(s.CV, 0), Dist: d}
		if s.Name != nil && *s.Name != "" {
			sp.Name = *s.Name
		}
		if d == Exponential {
			sp.CV = 1
		}
		sc.ServiceIndex[sp.ID] = i
		sc.Services = append(sc.Services, sp)
		sum += sp.Share
	}
	if math.Abs(sum-1) > 1e-6 {
		return nil, ferr("services", "shares must sum to 1 (±1e-6), they sum to %v", sum)
	}

	// Counters.
	if len(r.Counters) == 0 {
		return nil, ferr("counters", "at least one counter group is required")
	}
	groups := map[string]bool{}
	served := map[int]bool{}
	lines := map[int]bool{}
	for i, g := range r.Counters {
		at := fmt.Sprintf("counters[%d]", i)
		if g.Group == nil || *g.Group == "" {
			return nil, ferr(at+".group", "is required")
		}
		if *g.Group == "room" {
			return nil, ferr(at+".group", "the group name \"room\" is reserved for consultation rooms")
		}
		if groups[*g.Group] {
			return nil, ferr(at+".group", "%q is used twice", *g.Group)
		}
		groups[*g.Group] = true
		if g.Count == nil {
			return nil, ferr(at+".count", "is required")
		}
		if *g.Count < 1 {
			return nil, ferr(at+".count", "must be ≥ 1, found %d", *g.Count)
		}
		if len(g.Services) == 0 {
			return nil, ferr(at+".services", "must list at least one service id")
		}
		var skills []int
		seen := map[int]bool{}
		for j, id := range g.Services {
			k, ok := sc.ServiceIndex[id]
			if !ok {
				return nil, ferr(fmt.Sprintf("%s.services[%d]", at, j), "%q is not a service id", id)
			}
			if seen[k] {
				return nil, ferr(fmt.Sprintf("%s.services[%d]", at, j), "%q is listed twice", id)
			}
			seen[k] = true
			skills = append(skills, k)
			served[k] = true
		}
		if g.Home == nil {
			return nil, ferr(at+".home", "is required")
		}
		home, ok := sc.ServiceIndex[*g.Home]
		if !ok || !seen[home] {
			return nil, ferr(at+".home", "%q must be one of the group's services", *g.Home)
		}
		line := home
		if g.Line != nil {
			l, ok := sc.ServiceIndex[*g.Line]
			if !ok {
				return nil, ferr(at+".line", "%q is not a service id", *g.Line)
			}
			line = l
		}
		lines[line] = true
		for k := 1; k <= *g.Count; k++ {
			id := fmt.Sprintf("%s-%d", *g.Group, k)
			if _, dup := sc.counterIndexMap[id]; dup {
				return nil, ferr(at+".group", "counter id %q is produced twice", id)
			}
			sc.counterIndexMap[id] = len(sc.Counters)
			sc.Counters = append(sc.Counters, CounterSpec{Num: len(sc.Counters) + 1, ID: id, Group: *g.Group, Services: skills, Home: home, Line: line})
		}
	}
	sc.FrontCount = len(sc.Counters)
	sc.B0Defined = true
	for i, s := range sc.Services {
		if s.Share > 0 && !served[i] {
			return nil, ferr(fmt.Sprintf("services[%d]", i), "%q has share > 0 but no counter serves it", s.ID)
		}
		if s.Share > 0 && !lines[i] {
			sc.B0Defined = false
		}
	}

	// Breaks.
	if b := r.Breaks; b != nil {
		if b.Length == nil {
			return nil, ferr("breaks.length", "is required")
		}
		if err := checkNonNeg("breaks.length", b.Length); err != nil {
			return nil, err
		}
		if !b.First.Set {
			return nil, ferr("breaks.first", "is required")
		}
		if err := checkNonNeg("breaks.stagger", b.Stagger); err != nil {
			return nil, err
		}
		first, err := rel("breaks.first", b.First)
		if err != nil {
			return nil, err
		}
		sc.HasBreaks = true
		sc.BreakLength, sc.BreakFirst, sc.BreakStagger = *b.Length, first, optF(b.Stagger, 0)
		sc.BreakWaves = optI(b.Waves, 1)
		if sc.BreakWaves < 1 {
			return nil, ferr("breaks.waves", "must be ≥ 1, found %d", sc.BreakWaves)
		}
	}

	// Walk-ins.
	w := r.WalkIns
	if w == nil {
		return nil, ferr("walk_ins", "is required")
	}
	if w.PerDay == nil {
		return nil, ferr("walk_ins.per_day", "is required")
	}
	if *w.PerDay < 0 {
		return nil, ferr("walk_ins.per_day", "must be ≥ 0, found %d", *w.PerDay)
	}
	sc.WalkPerDay = *w.PerDay
	if w.Count != nil {
		switch *w.Count {
		case "fixed":
		case "poisson":
			sc.WalkPoisson = true
		default:
			return nil, ferr("walk_ins.count", "%q is not a count model: use fixed or poisson", *w.Count)
		}
	}
	sc.ProfileMinutes = optF(w.ProfileMinutes, 60)
	if !finite(sc.ProfileMinutes) || sc.ProfileMinutes <= 0 {
		return nil, ferr("walk_ins.profile_minutes", "must be > 0, found %v", sc.ProfileMinutes)
	}
	if w.Profile == nil {
		return nil, ferr("walk_ins.profile", "is required")
	}
	want := int(math.Ceil(sc.LastTicket / sc.ProfileMinutes))
	if len(w.Profile) != want {
		return nil, ferr("walk_ins.profile", "must have ⌈(last_ticket − open) / profile_minutes⌉ = %d entries, found %d", want, len(w.Profile))
	}
	psum := 0.0
	for i, x := range w.Profile {
		if !finite(x) || x < 0 {
			return nil, ferr(fmt.Sprintf("walk_ins.profile[%d]", i), "must be ≥ 0, found %v", x)
		}
		psum += x
	}
	if psum <= 0 && sc.WalkPerDay > 0 {
		return nil, ferr("walk_ins.profile", "needs at least one weight > 0")
	}
	sc.Profile = w.Profile
	sc.BurstMinutes = 3
	if b := w.OpeningBurst; b != nil {
		if err := checkFrac("walk_ins.opening_burst.share", b.Share); err != nil {
			return nil, err
		}
		if err := checkNonNeg("walk_ins.opening_burst.minutes", b.Minutes); err != nil {
			return nil, err
		}
		sc.BurstShare, sc.BurstMinutes = optF(b.Share, 0), optF(b.Minutes, 3)
	}
	for _, f := range []struct {
		n string
		p *float64
	}{{"walk_ins.priority_share", w.PriorityShare}, {"walk_ins.absent_share", w.AbsentShare}} {
		if err := checkFrac(f.n, f.p); err != nil {
			return nil, err
		}
	}
	sc.PriorityShare, sc.AbsentShare = optF(w.PriorityShare, 0), optF(w.AbsentShare, 0)
	if err := checkNonNeg("walk_ins.absent_call_minutes", w.AbsentCallMinutes); err != nil {
		return nil, err
	}
	sc.AbsentCall = optF(w.AbsentCallMinutes, 1.5)
	if p := w.Patience; p != nil {
		if p.Median == nil {
			return nil, ferr("walk_ins.patience.median", "is required with patience")
		}
		if !finite(*p.Median) || *p.Median <= 0 {
			return nil, ferr("walk_ins.patience.median", "must be > 0, found %v", *p.Median)
		}
		if p.Sigma == nil {
			return nil, ferr("walk_ins.patience.sigma", "is required with patience")
		}
		if err := checkNonNeg("walk_ins.patience.sigma", p.Sigma); err != nil {
			return nil, err
		}
		sc.HasPatience, sc.PatienceMedian, sc.PatienceSd = true, *p.Median, *p.Sigma
	}

	// Appointments.
	slots := func(at string, step *int, first, last Clock) ([]float64, error) {
		if step == nil {
			return nil, ferr(at+".slot_minutes", "is required")
		}
		if *step < 1 {
			return nil, ferr(at+".slot_minutes", "must be ≥ 1, found %d", *step)
		}
		if !first.Set {
			return nil, ferr(at+".first_slot", "is required")
		}
		if !last.Set {
			return nil, ferr(at+".last_slot", "is required")
		}
		f, err := rel(at+".first_slot", first)
		if err != nil {
			return nil, err
		}
		l, err := rel(at+".last_slot", last)
		if err != nil {
			return nil, err
		}
		if l < f {
			return nil, ferr(at+".last_slot", "is before first_slot")
		}
		var out []float64
		for s := f; s <= l; s += float64(*step) {
			out = append(out, s)
		}
		return out, nil
	}
	if a := r.Appointments; a != nil {
		if a.PerDay == nil {
			return nil, ferr("appointments.per_day", "is required")
		}
		if *a.PerDay < 0 {
			return nil, ferr("appointments.per_day", "must be ≥ 0, found %d", *a.PerDay)
		}
		s, err := slots("appointments", a.SlotMinutes, a.FirstSlot, a.LastSlot)
		if err != nil {
			return nil, err
		}
		if err := checkFrac("appointments.no_show", a.NoShow); err != nil {
			return nil, err
		}
		sc.ApptPerDay, sc.ApptSlots, sc.ApptNoShow = *a.PerDay, s, optF(a.NoShow, 0)
		if o := a.ArrivalOffset; o != nil {
			if o.Mean != nil && !finite(*o.Mean) {
				return nil, ferr("appointments.arrival_offset.mean", "must be a number")
			}
			if err := checkNonNeg("appointments.arrival_offset.sd", o.SD); err != nil {
				return nil, err
			}
			sc.OffsetMean, sc.OffsetSD = optF(o.Mean, 0), optF(o.SD, 0)
		}
	}

	// Rooms.
	if rm := r.Rooms; rm != nil {
		if rm.Count == nil {
			return nil, ferr("rooms.count", "is required")
		}
		if *rm.Count < 1 {
			return nil, ferr("rooms.count", "must be ≥ 1, found %d", *rm.Count)
		}
		if rm.Service == nil || rm.Service.Mean == nil {
			return nil, ferr("rooms.service.mean", "is required")
		}
		if !finite(*rm.Service.Mean) || *rm.Service.Mean <= 0 {
			return nil, ferr("rooms.service.mean", "must be > 0 minutes, found %v", *rm.Service.Mean)
		}
		if err := checkNonNeg("rooms.service.cv", rm.Service.CV); err != nil {
			return nil, err
		}
		d, err := parseDist("rooms.service.dist", rm.Service.Dist)
		if err != nil {
			return nil, err
		}
		id := "CONSULT"
		if rm.Service.ID != nil && *rm.Service.ID != "" {
			id = *rm.Service.ID
		}
		if _, dup := sc.ServiceIndex[id]; dup {
			return nil, ferr("rooms.service.id", "%q is also a front-office service id", id)
		}
		room := ServiceSpec{ID: id, Name: id, Mean: *rm.Service.Mean, CV: optF(rm.Service.CV, 0), Dist: d}
		if rm.Service.Name != nil && *rm.Service.Name != "" {
			room.Name = *rm.Service.Name
		}
		if d == Exponential {
			room.CV = 1
		}
		s, err := slots("rooms", rm.SlotMinutes, rm.FirstSlot, rm.LastSlot)
		if err != nil {
			return nil, err
		}
		sc.HasRooms, sc.Room, sc.RoomCount, sc.RoomSlots = true, room, *rm.Count, s
		sc.RoomPerDay = optI(rm.PerDay, 0)
		if sc.RoomPerDay < 0 || sc.RoomPerDay > sc.RoomCount*len(s) {
			return nil, ferr("rooms.per_day", "must be in 0 … count × slots = %d, found %d", sc.RoomCount*len(s), sc.RoomPerDay)
		}
		if err := checkFrac("rooms.no_show", rm.NoShow); err != nil {
			return nil, err
		}
		sc.RoomNoShow = optF(rm.NoShow, 0)
		sc.RoomWalkPerDay = optI(rm.WalkInsPerDay, 0)
		if sc.RoomWalkPerDay < 0 {
			return nil, ferr("rooms.walk_ins_per_day", "must be ≥ 0, found %d", sc.RoomWalkPerDay)
		}
		if sc.RoomWalkPerDay > 0 && psum <= 0 {
			return nil, ferr("walk_ins.profile", "needs a weight > 0 for room walk-ins")
		}
		for k := 1; k <= sc.RoomCount; k++ {
			sc.Counters = append(sc.Counters, CounterSpec{Num: len(sc.Counters) + 1, ID: fmt.Sprintf("room-%d", k), Group: "room", Room: true})
		}
	}

	// Outages.
	for i, o := range r.Outages {
		at := fmt.Sprintf("outages[%d]", i)
		if o.Counter == nil {
			return nil, ferr(at+".counter", "is required")
		}
		ci, ok := sc.counterIndexMap[*o.Counter]
		if !ok {
			ci, ok = -1, false
			for j, c := range sc.Counters {
				if c.ID == *o.Counter {
					ci, ok = j, true
				}
			}
			if !ok {
				return nil, ferr(at+".counter", "%q is not a counter id", *o.Counter)
			}
		}
		if !o.From.Set {
			return nil, ferr(at+".from", "is required")
		}
		from, err := rel(at+".from", o.From)
		if err != nil {
			return nil, err
		}
		out := Outage{Counter: ci, From: from, To: math.Inf(1), CounterRef: *o.Counter}
		if o.Until.Set {
			u, err := rel(at+".until", o.Until)
			if err != nil {
				return nil, err
			}
			if u <= from {
				return nil, ferr(at+".until", "must be after from")
			}
			out.To, out.HasUntil = u, true
		}
		out.Unstaffed = from == 0 && !out.HasUntil
		sc.Outages = append(sc.Outages, out)
	}
	unstaffed := map[int]bool{}
	for _, o := range sc.Outages {
		if o.Unstaffed && o.Counter < sc.FrontCount {
			unstaffed[o.Counter] = true
		}
	}
	sc.StaffedAtOpen = sc.FrontCount - len(unstaffed)
	return sc, nil
}
