package sim

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/comune-rc/sportello/hub"
)

const minimal = `
seed: 1
services: [{id: A, share: 1, mean: 5}]
counters: [{group: g, count: 2, services: [A], home: A}]
walk_ins: {per_day: 10, profile: [1, 1, 1, 1, 1, 1, 1, 1]}
`

func TestParseMinimalDefaults(t *testing.T) {
	sc, err := ParseScenario("mini", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if sc.Name != "mini" || sc.Days != 200 || sc.Seats != 38 || sc.LastTicket != 450 || sc.Close != 480 || sc.AbsentCall != 1.5 || sc.BurstMinutes != 3 || len(sc.Counters) != 2 || sc.Counters[1].ID != "g-2" {
		t.Fatalf("%+v", sc)
	}
	// JSON is YAML too.
	if _, err := ParseScenario("j", []byte(`{"seed": 1, "hours": {"open": "09:00", "last_ticket": "10:00", "close": "10:00"}, "services": [{"id": "A", "share": 1, "mean": 5}], "counters": [{"group": "g", "count": 1, "services": ["A"], "home": "A"}], "walk_ins": {"per_day": 3, "profile": [1]}}`)); err != nil {
		t.Fatal(err)
	}
}

func TestParseErrorsNameTheField(t *testing.T) {
	cases := []struct{ edit, want string }{
		{"seed: 1", "seed"},
		{"seed: 1\nbogus: 2", "bogus"},
		{"seed: -1", "seed"},
		{"seed: 1\ndays: 0", "days"},
		{"seed: 1\nhours: {open: \"09:00\", last_ticket: \"08:00\"}", "hours"},
		{"seed: 1\nhours: {open: 09:00}", "quoted"},
		{"seed: 1\nhours: {open: \"25:00\"}", "HH:MM"},
		{"seed: 1\nbreaks: {length: 30}", "breaks.first"},
		{"seed: 1\nappointments: {per_day: 3, slot_minutes: 10, first_slot: \"08:00\"}", "appointments.last_slot"},
		{"seed: 1\nrooms: {count: 1, service: {id: A, mean: 3}, slot_minutes: 30, first_slot: \"08:00\", last_slot: \"09:00\"}", "rooms.service.id"},
		{"seed: 1\noutages: [{counter: g-9, from: \"08:00\"}]", "outages[0].counter"},
		{"seed: 1\nwalk_ins: {per_day: 3, profile: [1]}", "walk_ins.profile"},
	}
	for _, c := range cases {
		doc := strings.Replace(minimal, "seed: 1", c.edit, 1)
		if c.edit == "seed: 1" {
			doc = strings.Replace(minimal, "seed: 1\n", "", 1)
		}
		if strings.Contains(c.edit, "walk_ins:") {
			doc = strings.Replace(doc, "walk_ins: {per_day: 10, profile: [1, 1, 1, 1, 1, 1, 1, 1]}\n", "", 1)
		}
		_, err := ParseScenario("x", []byte(doc))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want an error naming %q", c.edit, err, c.want)
		}
	}
	bad := strings.Replace(minimal, "home: A", "home: B", 1)
	if _, err := ParseScenario("x", []byte(bad)); err == nil || !strings.Contains(err.Error(), "counters[0].home") {
		t.Errorf("home: %v", err)
	}
}

func TestPublicScenariosParse(t *testing.T) {
	for _, n := range []string{"S1-light", "S2-busy", "S3-overload", "V1-mmc"} {
		sc := loadPublic(t, n)
		if n == "S3-overload" && sc.StaffedAtOpen != 16 {
			t.Errorf("S3 staffed %d", sc.StaffedAtOpen)
		}
	}
}

// FuzzParseScenario: the parser never panics, and whatever it accepts
// generates a day.
func FuzzParseScenario(f *testing.F) {
	f.Add([]byte(minimal))
	f.Add([]byte(`{"seed": 1}`))
	f.Add([]byte("seed: 1\nhours: {open: \"08:00\"}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := ParseScenario("fuzz", data)
		if err != nil {
			return
		}
		if sc.WalkPerDay+sc.ApptPerDay+sc.RoomPerDay+sc.RoomWalkPerDay > 5000 {
			return
		}
		_ = sc.Generate(0)
	})
}

// The break plan reaches the engine through the site (hub.Site.Breaks),
// as in the hub: desk by desk it is the scenario's §3.6 plan.
func TestSiteBreakPlanIsTheScenarios(t *testing.T) {
	sc, err := LoadScenario("../bench/scenarios/S2-busy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	open := time.Date(2026, 1, 1, sc.Open/60, sc.Open%60, 0, 0, time.UTC)
	want := specBreakPlan(sc, open)
	if len(want) == 0 {
		t.Fatal("S2 has a break plan")
	}
	site := sc.Site("P")
	if err := site.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := site.PlannedPauses(); !reflect.DeepEqual(got, want) {
		t.Fatalf("site plan %v, scenario plan %v", got, want)
	}
}

// specBreakPlan is §3.6 read literally, desk by desk: counter k's break
// falls due at first + ((k − 1) mod waves) × stagger after the opening.
func specBreakPlan(sc *Scenario, open time.Time) []hub.PlannedPause {
	if !sc.HasBreaks {
		return nil
	}
	y, m, d := open.Date()
	sinceMidnight := open.Sub(time.Date(y, m, d, 0, 0, 0, 0, open.Location()))
	var out []hub.PlannedPause
	for _, c := range sc.Counters {
		if c.Room {
			continue
		}
		due := sc.BreakFirst + float64((c.Num-1)%sc.BreakWaves)*sc.BreakStagger
		out = append(out, hub.PlannedPause{Counter: fmt.Sprintf("c%d", c.Num), At: sinceMidnight + time.Duration(due*float64(time.Minute)), Length: time.Duration(sc.BreakLength * float64(time.Minute))})
	}
	return out
}
