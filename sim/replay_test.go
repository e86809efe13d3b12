package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/boltstore"
)

// testHub is a real hub for the replay tests: the engine on bbolt on
// disk, the built-in site, a clock the test sets in minutes from 09:00 of
// replayDate (Europe/Rome).
type testHub struct {
	t   *testing.T
	dir string
	t0  time.Time
	mu  sync.Mutex
	now time.Time
	st  *boltstore.Store
	eng *hub.Engine
}

func newTestHub(t *testing.T, day time.Time, mod ...func(*hub.Config)) *testHub {
	t.Helper()
	h := &testHub{t: t, dir: t.TempDir(), t0: day, now: day}
	st, err := boltstore.Open(filepath.Join(h.dir, "sportello.db"), boltstore.Options{NoSync: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	cfg := hub.Config{Site: hub.BuiltinSite(), Store: st, Clock: h.clock, Logger: quiet}
	for _, m := range mod {
		m(&cfg)
	}
	eng, err := hub.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.st, h.eng = st, eng
	return h
}

func rome(t *testing.T, y int, m time.Month, d int) time.Time {
	loc, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	return time.Date(y, m, d, 9, 0, 0, 0, loc)
}

func (h *testHub) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

// at sets the clock to minute m of the day.
func (h *testHub) at(m float64) {
	h.mu.Lock()
	h.now = h.t0.Add(time.Duration(m * float64(time.Minute)))
	h.mu.Unlock()
}

func (h *testHub) must(_ any, err error) {
	h.t.Helper()
	if err != nil {
		h.t.Fatal(err)
	}
}

func (h *testHub) issue(service string, p hub.Priority, appt string) string {
	h.t.Helper()
	tk, _, err := h.eng.Issue(context.Background(), hub.IssueRequest{Service: service, Priority: p, Appointment: appt, By: "totem-1"})
	if err != nil {
		h.t.Fatal(err)
	}
	return tk.ID
}

func (h *testHub) book(service string, slot float64) string {
	h.t.Helper()
	a, err := h.eng.Book(context.Background(), hub.BookRequest{Service: service, Slot: h.t0.Add(time.Duration(slot * float64(time.Minute))), Channel: hub.ChannelWeb, By: "web"})
	if err != nil {
		h.t.Fatal(err)
	}
	return a.Code
}

// call calls ticket id to the counter, and starts it at once if start.
func (h *testHub) call(counter, clerk, id string, start bool) {
	h.t.Helper()
	h.must(h.eng.CallTicket(context.Background(), counter, clerk, id))
	if start {
		h.must(h.eng.Start(context.Background(), counter, clerk))
	}
}

func (h *testHub) finish(counter, clerk string) {
	h.t.Helper()
	h.must(h.eng.Finish(context.Background(), counter, clerk, hub.FinishRequest{}))
}

// close stops the hub, so that the replay can open its store, and
// returns the data directory.
func (h *testHub) close() string {
	h.t.Helper()
	h.eng.Close()
	if err := h.st.Close(); err != nil {
		h.t.Fatal(err)
	}
	return h.dir
}

// replayDate is the day the test hub works.
const replayDate = "2026-12-01"

// buildHubDay runs a real hub (engine on bbolt on disk, the built-in
// site) through a small morning and returns its data directory. The
// clerks call in ticket order, and call and start at the same instant, so
// that pooled FCFS (R) with the same counters must do exactly the same.
//
//	min  (09:00 = 0)
//	 0   counters 1 and 2 open; two bookings (09:30, and 10:00 never
//	     comes); A001 issued, called at 1, served 0–10
//	 1   A002 issued, called at 2, served 1–9
//	 2   A003 issued;   9: called at 2, served 9–15   (wait 7)
//	 4   A004 issued (elderly); 10: called at 1, 11: no-show (wait 6)
//	11   counter 1 pauses;  20: resumes
//	12   A005 issued;  15: called at 2, served 15–29 (wait 3)
//	22   A006 issued, called at 1, served 22–34       (wait 0)
//	25   the 09:30 booking checks in (A007); 29: called at 2, served 29–34
//	27   A008 issued; 31: cancelled (walk-out after 4 min)
//	40   counters 1 and 2 close
//	41   A009 issued; 45: the day is closed (A009 unserved)
func buildHubDay(t *testing.T) string {
	t.Helper()
	h := newTestHub(t, rome(t, 2026, 12, 1))
	ctx := context.Background()
	eng := h.eng
	h.at(0)
	h.must(eng.OpenCounter(ctx, "1", "clerk01"))
	h.must(eng.OpenCounter(ctx, "2", "clerk02"))
	booked := h.book("certificati", 30)
	h.book("certificati", 60)
	a1 := h.issue("certificati", hub.PriorityNone, "")
	h.call("1", "clerk01", a1, true)
	h.at(1)
	a2 := h.issue("certificati", hub.PriorityNone, "")
	h.call("2", "clerk02", a2, true)
	h.at(2)
	a3 := h.issue("certificati", hub.PriorityNone, "")
	h.at(4)
	a4 := h.issue("certificati", hub.PriorityElderly, "")
	h.at(9)
	h.finish("2", "clerk02")
	h.call("2", "clerk02", a3, true)
	h.at(10)
	h.finish("1", "clerk01")
	h.call("1", "clerk01", a4, false)
	h.at(11)
	h.must(eng.NoShow(ctx, "1", "clerk01"))
	h.must(eng.PauseCounter(ctx, "1", "clerk01", "break"))
	h.at(12)
	a5 := h.issue("certificati", hub.PriorityNone, "")
	h.at(15)
	h.finish("2", "clerk02")
	h.call("2", "clerk02", a5, true)
	h.at(20)
	h.must(eng.OpenCounter(ctx, "1", "clerk01"))
	h.at(22)
	a6 := h.issue("certificati", hub.PriorityNone, "")
	h.call("1", "clerk01", a6, true)
	h.at(25)
	a7 := h.issue("certificati", hub.PriorityNone, booked)
	h.at(27)
	a8 := h.issue("certificati", hub.PriorityNone, "")
	h.at(29)
	h.finish("2", "clerk02")
	h.call("2", "clerk02", a7, true)
	h.at(31)
	h.must(eng.Cancel(ctx, a8, "totem-1"))
	h.at(34)
	h.finish("1", "clerk01")
	h.finish("2", "clerk02")
	h.at(40)
	h.must(eng.CloseCounter(ctx, "1", "clerk01"))
	h.must(eng.CloseCounter(ctx, "2", "clerk02"))
	h.at(41)
	h.issue("certificati", hub.PriorityNone, "")
	h.at(45)
	h.must(eng.EndOfDay(ctx, "fine giornata", "supervisor"))
	return h.close()
}

func TestReplayActualAndFCFS(t *testing.T) {
	dir := buildHubDay(t)
	day, err := LoadReplayDay(ReplaySource{DataDir: dir, Date: replayDate})
	if err != nil {
		t.Fatal(err)
	}
	c := day.Counts
	if c.Tickets != 9 || c.WalkIns != 8 || c.Appointments != 1 || c.BookedNoShow != 1 || c.Served != 6 || c.NoShows != 1 || c.WalkOuts != 1 || c.Unserved != 1 || c.CountersUsed != 2 {
		t.Fatalf("counts %+v", c)
	}
	if !near(day.AbsentCall, 1) {
		t.Errorf("absent call %v, want the 1 min from call to no-show", day.AbsentCall)
	}
	// The visitors as the log has them.
	byNum := day.Day.Visitors
	if v := byNum[3]; !v.Priority || !v.Absent || v.Arrival != 4 {
		t.Errorf("A004: %+v", v)
	}
	if v := byNum[6]; v.Kind != KindAppt || v.Slot != 30 || v.Arrival != 25 || !near(v.ServiceTime, 5) {
		t.Errorf("the booking: %+v", v)
	}
	if v := byNum[7]; !near(v.Patience, 4) || !near(v.ServiceTime, 55.0/6) {
		t.Errorf("the walk-out: patience %v, estimated duration %v (want 4 and the mean of the six measured, 55/6)", v.Patience, v.ServiceTime)
	}
	if len(day.Day.Bookings) != 2 || day.Day.Bookings[1].Visitor != nil || day.Day.Bookings[1].Slot != 60 {
		t.Errorf("bookings %+v", day.Day.Bookings)
	}
	// Counter 1: available 0–11 and 20–40; counter 2: 0–40; the other
	// 21 places are never opened.
	var out1 []Outage
	for _, o := range day.Scenario.Outages {
		if o.CounterRef == "1" {
			out1 = append(out1, o)
		}
	}
	if len(day.Scenario.Outages) != 2+1+21 || len(out1) != 2 || !near(out1[0].From, 11-1e-6) || out1[0].To != 20 || !near(out1[1].From, 40-1e-6) || out1[1].HasUntil {
		t.Errorf("outages %d, counter 1: %+v", len(day.Scenario.Outages), out1)
	}

	res, err := day.Replay(context.Background(), []string{"R", "B1", "P"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	act := res.Metrics[ActualRow].Values
	// Served walk-ins waited 0, 0, 7, 3, 0; A004 (no-show), A008
	// (walk-out) and A009 (unserved) are the 3 of 8 who were not served.
	want := map[string]float64{"n_walkin": 8, "wait_mean": 2, "wait_max": 7, "sl10": 5.0 / 8, "abandon": 3.0 / 8, "appt_ontime5": 1, "appt_late_mean": 0, "hard_stop_closed": 1}
	for k, w := range want {
		if !near(act[k], w) {
			t.Errorf("actual %s = %v, want %v", k, act[k], w)
		}
	}
	// The clerks worked first come, first served with the counters they
	// had: R must reproduce every figure.
	r := res.Metrics["R"].Values
	for _, k := range replayKeys {
		if k == "n_served" || k == "front_end" {
			continue
		}
		a, b := act[k], r[k]
		if !(math.IsNaN(a) && math.IsNaN(b)) && !near(a, b) {
			t.Errorf("R %s = %v, actual %v", k, b, a)
		}
	}
	for i, rec := range res.Days["R"].Records {
		a := res.Days[ActualRow].Records[i]
		if a.Present != rec.Present || (a.Present && !near(a.Call, rec.Call)) {
			t.Errorf("ticket %d: R called at %v (present %v), the clerks at %v (present %v)", i+1, rec.Call, rec.Present, a.Call, a.Present)
		}
	}
	if res.Metrics["P"] == nil || res.Metrics["B1"] == nil {
		t.Fatal("P or B1 did not run")
	}

	var md bytes.Buffer
	if err := res.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"| **actual** | 8 | 5 | 2.00 |", "| R | 8 | 5 | 2.00 |", "What a replay cannot know", "certificati: mean of 6 measured: 9.17 min", "| certificati |"} {
		if !strings.Contains(md.String(), s) {
			t.Errorf("markdown lacks %q:\n%s", s, md.String())
		}
	}
}

func runSim(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestReplayCommand(t *testing.T) {
	dir := buildHubDay(t)
	outDir := t.TempDir()
	code, md1, stderr := runSim(t, "--replay", dir, "--date", replayDate, "--out", outDir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "replay 2026-12-01: 8 policies done") {
		t.Errorf("no progress line: %q", stderr)
	}
	for _, row := range PolicyIDs {
		if !strings.Contains(md1, "\n| "+row+" |") {
			t.Errorf("no row %s", row)
		}
	}
	if !strings.Contains(md1, "| B0 | n/a |") {
		t.Errorf("B0 is not marked n/a (the built-in site gives no line to some services)")
	}
	var doc struct {
		Date    string                    `json:"date"`
		Rows    []string                  `json:"rows"`
		Results map[string]map[string]any `json:"results"`
		Limits  []string                  `json:"limits"`
	}
	data, err := os.ReadFile(filepath.Join(outDir, "replay-2026-12-01.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Date != replayDate || doc.Rows[0] != ActualRow || doc.Results[ActualRow]["wait_mean"] != 2.0 || len(doc.Limits) == 0 {
		t.Errorf("json: %+v", doc)
	}
	csvData, err := os.ReadFile(filepath.Join(outDir, "replay-2026-12-01.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(csvData), "2026-12-01,actual,,wait_mean,2\n") || !strings.Contains(string(csvData), "2026-12-01,R,certificati,wait_mean,2\n") {
		t.Errorf("csv:\n%s", csvData)
	}
	mdFile, err := os.ReadFile(filepath.Join(outDir, "replay-2026-12-01.md"))
	if err != nil || string(mdFile) != md1 {
		t.Errorf("the .md file differs from stdout (%v)", err)
	}
	// Determinism: the same replay again gives the same bytes.
	code, md2, _ := runSim(t, "--replay", dir, "--date", replayDate, "--quiet")
	if code != 0 || md2 != md1 {
		t.Errorf("second run differs (exit %d)", code)
	}
	// The store file itself (a backup copy) replays the same.
	code, md3, _ := runSim(t, "--replay", filepath.Join(dir, "sportello.db"), "--date", replayDate, "--quiet")
	if code != 0 || md3 != md1 {
		t.Errorf("replay of the store file differs (exit %d)", code)
	}
	// A site file: the built-in site written out gives the same tables.
	yml, err := hub.FormatSiteYAML(hub.BuiltinSite())
	if err != nil {
		t.Fatal(err)
	}
	siteFile := filepath.Join(t.TempDir(), "site.yaml")
	if err := os.WriteFile(siteFile, yml, 0o600); err != nil {
		t.Fatal(err)
	}
	code, md4, stderr := runSim(t, "--replay", dir, "--date", replayDate, "--quiet", "--site", siteFile)
	if code != 0 || !strings.Contains(md4, "site: "+siteFile) {
		t.Fatalf("--site: exit %d: %s", code, stderr)
	}
	if _, t1, _ := strings.Cut(md1, "## Walk-in waits"); !strings.Contains(md4, t1[:strings.Index(t1, "## What")]) {
		t.Errorf("the tables differ with the site file")
	}
}

func TestReplayErrors(t *testing.T) {
	dir := buildHubDay(t)
	empty := t.TempDir()
	scen := filepath.Join("..", "bench", "scenarios", "S1-light.yaml")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing data dir", []string{"--replay", filepath.Join(empty, "nope"), "--date", replayDate}, "no such data directory"},
		{"no store in dir", []string{"--replay", empty, "--date", replayDate}, "no hub store"},
		{"bad date", []string{"--replay", dir, "--date", "1/12/2026"}, "want a day as YYYY-MM-DD"},
		{"impossible date", []string{"--replay", dir, "--date", "2026-02-30"}, "want a day as YYYY-MM-DD"},
		{"no such date", []string{"--replay", dir, "--date", "2025-06-01"}, "no such date in the log, which holds 2026-12-01 … 2026-12-01"},
		{"no date", []string{"--replay", dir}, "--replay needs --date"},
		{"date alone", []string{"--date", replayDate}, "--date needs --replay"},
		{"with scenario", []string{"--replay", dir, "--date", replayDate, "--scenario", scen}, "exclude each other"},
		{"with days", []string{"--replay", dir, "--date", replayDate, "--days", "3"}, "--days does not apply"},
		{"unknown policy", []string{"--replay", dir, "--date", replayDate, "--policy", "X"}, "unknown policy"},
		{"site without replay", []string{"--scenario", scen, "--site", "x.yaml"}, "--site applies only to --replay"},
		{"bad site file", []string{"--replay", dir, "--date", replayDate, "--site", filepath.Join(empty, "none.yaml")}, "--site"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runSim(t, tc.args...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tc.want)
			}
		})
	}
}

// A day inside the log's range without a ticket is refused too.
func TestReplayNoTicketsThatDay(t *testing.T) {
	h := newTestHub(t, rome(t, 2026, 11, 30))
	h.issue("cie", hub.PriorityNone, "")
	h.at(24 * 60)
	h.must(h.eng.OpenCounter(context.Background(), "3", "clerk03"))
	h.at(48 * 60)
	h.issue("cie", hub.PriorityNone, "")
	dir := h.close()
	code, _, stderr := runSim(t, "--replay", dir, "--date", "2026-12-01", "--quiet")
	if code != 2 || !strings.Contains(stderr, "no tickets were issued on that day") {
		t.Errorf("exit %d: %s", code, stderr)
	}
	// The neighbouring days replay.
	if code, _, stderr := runSim(t, "--replay", dir, "--date", "2026-12-02", "--quiet", "--policy", "R"); code != 0 {
		t.Errorf("2026-12-02: exit %d: %s", code, stderr)
	}
}

// A store held by a running hub is refused with a clear message, not read
// under the writer's lock.
func TestReplayLockedStore(t *testing.T) {
	dir := buildHubDay(t)
	st, err := boltstore.Open(filepath.Join(dir, "sportello.db"), boltstore.Options{NoSync: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	code, _, stderr := runSim(t, "--replay", dir, "--date", replayDate, "--quiet")
	if code != 1 || !strings.Contains(stderr, "locked by a running hub") || !strings.Contains(stderr, "sportello backup") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

// Transfers, a parked ticket, a supervisor's forced close and a room
// appointment: each visit is one visitor, its duration the sum of its
// steps, and every policy replays the day.
func TestReplayTransfersParksRooms(t *testing.T) {
	h := newTestHub(t, rome(t, 2026, 12, 1))
	ctx := context.Background()
	eng := h.eng
	serve := func(counter, clerk, id string) { h.call(counter, clerk, id, true) }
	h.at(0)
	h.must(eng.OpenCounter(ctx, "3", "clerk03"))
	h.must(eng.OpenCounter(ctx, "6", "clerk06"))
	h.must(eng.OpenCounter(ctx, "R1", "social1"))
	room := h.book("servizi_sociali", 20)
	t1 := h.issue("certificati", hub.PriorityNone, "")
	serve("3", "clerk03", t1)
	h.at(2)
	t2 := h.issue("residenza", hub.PriorityNone, "")
	h.at(3)
	t3 := h.issue("cie", hub.PriorityNone, "")
	h.at(5)
	h.must(eng.Transfer(ctx, "3", "clerk03", hub.TransferRequest{Service: "cie"}))
	serve("3", "clerk03", t2)
	h.at(6)
	serve("6", "clerk06", t1)
	h.at(7)
	h.must(eng.Park(ctx, "3", "clerk03", "fetching a document"))
	serve("3", "clerk03", t3)
	h.at(12)
	h.finish("3", "clerk03")
	serve("3", "clerk03", t2)
	h.at(15)
	ra := h.issue("", hub.PriorityNone, room)
	h.at(16)
	h.finish("6", "clerk06")
	h.at(18)
	t5 := h.issue("certificati", hub.PriorityNone, "")
	serve("6", "clerk06", t5)
	h.at(19)
	h.must(eng.ForceClose(ctx, "6", "supervisor"))
	h.at(20)
	h.finish("3", "clerk03")
	serve("R1", "social1", ra)
	h.at(21)
	serve("3", "clerk03", t5)
	h.at(25)
	h.finish("3", "clerk03")
	h.at(50)
	h.finish("R1", "social1")
	h.must(eng.EndOfDay(ctx, "fine", "supervisor"))
	dir := h.close()

	day, err := LoadReplayDay(ReplaySource{DataDir: dir, Date: replayDate})
	if err != nil {
		t.Fatal(err)
	}
	c := day.Counts
	if c.Tickets != 5 || c.WalkIns != 4 || c.RoomTickets != 1 || c.Served != 5 || c.Transferred != 2 || c.Parked != 1 || c.Unserved != 0 || c.CountersUsed != 3 {
		t.Fatalf("counts %+v", c)
	}
	vs := day.Day.Visitors
	for i, want := range []float64{5 + 10, 2 + 8, 5, 30, 1 + 4} {
		if !near(vs[i].ServiceTime, want) {
			t.Errorf("visitor %d: duration %v, want %v", i+1, vs[i].ServiceTime, want)
		}
	}
	if vs[3].Kind != KindRoomAppt || vs[3].Service != -1 || vs[3].Slot != 20 {
		t.Errorf("room visitor %+v", vs[3])
	}
	res, err := day.Replay(context.Background(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	act := res.Metrics[ActualRow].Values
	// First calls: 0 − 0, 5 − 2, 7 − 3, 18 − 18.
	if !near(act["wait_mean"], 7.0/4) || !near(act["room_appt_ontime5"], 1) || !near(act["abandon"], 0) {
		t.Errorf("actual: mean %v, room on time %v, abandon %v", act["wait_mean"], act["room_appt_ontime5"], act["abandon"])
	}
	for _, p := range PolicyIDs {
		d := res.Days[p]
		if _, na := res.NotRun[p]; na {
			continue
		}
		if d == nil || len(d.Records) != 5 || d.Unfinished != 0 {
			t.Errorf("%s: %+v", p, d)
		}
	}
}

// hubOwnDay runs the hub under its own policy, as serve configures it,
// with clerks at the given counters who call the next ticket the moment
// they are free and start at once, through arrivals gap minutes apart on
// average for the given minutes; it returns the data directory and the
// number of tickets.
func hubOwnDay(t *testing.T, gap, minutes float64, counters []string) (string, int) {
	t.Helper()
	h := newTestHub(t, rome(t, 2026, 12, 1), func(c *hub.Config) {
		c.PolicyFor = func(s *hub.Site) hub.Policy { return hub.FairPolicyFor(s, hub.FairPolicyConfig{}) }
	})
	ctx := context.Background()
	eng := h.eng
	// Arrivals and durations at whole seconds.
	rng := rand.New(rand.NewSource(1))
	type arrival struct {
		at, dur float64
		svc     string
		prio    bool
	}
	svcs := []string{"certificati", "cie", "residenza", "stato_civile"}
	var arrs []arrival
	for m := rng.ExpFloat64() * gap; m < minutes; m += rng.ExpFloat64() * gap {
		arrs = append(arrs, arrival{at: math.Floor(m*60) / 60, dur: math.Floor((3+rng.ExpFloat64()*8)*60) / 60, svc: svcs[rng.Intn(len(svcs))], prio: rng.Float64() < 0.1})
	}
	free := map[string]float64{} // counter → when it became idle; busy ones absent
	until := map[string]float64{}
	dur := map[string]float64{}
	for _, c := range counters {
		h.must(eng.OpenCounter(ctx, c, "clerk"+c))
		free[c] = 0
	}
	dispatch := func(now float64) {
		idle := make([]string, 0, len(free))
		for c := range free {
			idle = append(idle, c)
		}
		sort.Slice(idle, func(i, j int) bool {
			if free[idle[i]] != free[idle[j]] {
				return free[idle[i]] < free[idle[j]]
			}
			return slices.Index(counters, idle[i]) < slices.Index(counters, idle[j])
		})
		for _, c := range idle {
			tk, err := eng.CallNext(ctx, c, "clerk"+c)
			if err != nil {
				t.Fatal(err)
			}
			if tk != nil {
				h.must(eng.Start(ctx, c, "clerk"+c))
				delete(free, c)
				until[c] = now + dur[tk.ID]
			}
		}
	}
	last := 0.0
	for i := 0; ; {
		next, who := math.Inf(1), ""
		for _, c := range counters {
			if _, idle := free[c]; !idle && until[c] < next {
				next, who = until[c], c
			}
		}
		if i < len(arrs) && arrs[i].at <= next {
			next, who = arrs[i].at, ""
		}
		if math.IsInf(next, 1) {
			break
		}
		h.at(next)
		last = next
		if who == "" {
			p := hub.PriorityNone
			if arrs[i].prio {
				p = hub.PriorityElderly
			}
			dur[h.issue(arrs[i].svc, p, "")] = arrs[i].dur
			i++
		} else {
			h.finish(who, "clerk"+who)
			free[who] = next
		}
		dispatch(next)
	}
	h.at(math.Max(last, minutes) + 120)
	h.must(eng.EndOfDay(ctx, "fine", "supervisor"))
	return h.close(), len(arrs)
}

// A morning the hub ran under its own policy with clerks calling at once:
// replayed under P, the simulator drives the same engine code over the
// reconstructed day, so it must make every call the hub made.
func TestReplayReproducesTheHubsOwnPolicy(t *testing.T) {
	dir, n := hubOwnDay(t, 2.2, 180, []string{"3", "6", "9", "10", "11"})
	ctx := context.Background()
	day, err := LoadReplayDay(ReplaySource{DataDir: dir, Date: replayDate})
	if err != nil {
		t.Fatal(err)
	}
	res, err := day.Replay(ctx, []string{"P", "B1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	act, p := res.Days[ActualRow].Records, res.Days["P"].Records
	if len(act) != n || len(p) != n {
		t.Fatalf("%d arrivals, %d actual records, %d P records", n, len(act), len(p))
	}
	differ := 0
	for k := range act {
		if !near(act[k].Call, p[k].Call) || act[k].Counter != p[k].Counter {
			differ++
		}
	}
	if differ > 0 {
		t.Errorf("P made %d of %d calls differently from the hub", differ, len(act))
	}
	// Scored by the same code, the two rows agree on every metric.
	for _, k := range replayKeys {
		a, b := res.value(ActualRow, k), res.value("P", k)
		if !(math.IsNaN(a) && math.IsNaN(b)) && !near(a, b) {
			t.Errorf("%s: actual %v, P %v", k, a, b)
		}
	}
	if a := res.value(ActualRow, "wait_mean"); a < 5 {
		t.Errorf("mean wait %v: the morning is meant to have queues", a)
	}
	// Another policy does decide otherwise on the same day.
	if near(res.Metrics["B1"].Values["wait_mean"], res.Metrics[ActualRow].Values["wait_mean"]) {
		t.Errorf("B1 has the same mean wait as the hub's policy: the replay may not be driving the policies")
	}
}

// A counter left open from the day before is open from the day's first
// minute until its first pause.
func TestReplayCounterLeftOpen(t *testing.T) {
	h := newTestHub(t, rome(t, 2026, 11, 30))
	ctx := context.Background()
	h.must(h.eng.OpenCounter(ctx, "3", "clerk03"))
	h.at(24 * 60)
	id := h.issue("cie", hub.PriorityNone, "")
	h.at(24*60 + 5)
	h.call("3", "clerk03", id, true)
	h.at(24*60 + 15)
	h.finish("3", "clerk03")
	h.at(24*60 + 20)
	h.issue("cie", hub.PriorityNone, "") // never called, the day never closed
	h.at(24*60 + 30)
	h.must(h.eng.PauseCounter(ctx, "3", "clerk03", "back office"))
	day, err := LoadReplayDay(ReplaySource{DataDir: h.close(), Date: replayDate})
	if err != nil {
		t.Fatal(err)
	}
	var got []Outage
	for _, o := range day.Scenario.Outages {
		if o.CounterRef == "3" {
			got = append(got, o)
		}
	}
	if len(got) != 1 || !near(got[0].From, 30-1e-6) || got[0].HasUntil {
		t.Errorf("counter 3 outages %+v, want one from 09:30 on", got)
	}
	if day.Counts.StillOpen != 1 || day.Counts.Unserved != 1 || day.Counts.Served != 1 || !near(day.Day.Visitors[0].ServiceTime, 10) {
		t.Errorf("counts %+v, duration %v", day.Counts, day.Day.Visitors[0].ServiceTime)
	}
	res, err := day.Replay(ctx, []string{"R"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Nobody closed the day: the log's last event (the pause) ends it.
	// R serves both at once (the counter was free at 09:00 and 09:20).
	r, act := res.Metrics["R"].Values, res.Metrics[ActualRow].Values
	if !near(r["wait_mean"], 0) || !near(r["abandon"], 0) || !near(act["wait_mean"], 5) || !near(act["abandon"], 0.5) {
		t.Errorf("R: mean %v, abandon %v; actual: mean %v, abandon %v", r["wait_mean"], r["abandon"], act["wait_mean"], act["abandon"])
	}
}
