package sim

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

func TestSplitMixVectors(t *testing.T) {
	s := newStream(2002, 0, 1, 0)
	if s.state != 0x679E30F5DD562C02 {
		t.Fatalf("initial state %#x", s.state)
	}
	for i, want := range []uint64{0x14C2F9E3AAF3B30A, 0xB0047713935E59EF, 0x1A4E4C33770C5594} {
		if got := s.next(); got != want {
			t.Fatalf("next %d = %#x, want %#x", i, got, want)
		}
	}
	s = newStream(2002, 0, 1, 0)
	if u := s.U(); u != 0.08110009964271003 {
		t.Fatalf("U1 %v", u)
	}
	if u := s.U(); u != 0.6875681326667914 {
		t.Fatalf("U2 %v", u)
	}
	s.U()
	if z := s.Z(); math.Abs(z-2.2839295449293093) > 1e-15 {
		t.Fatalf("Z %v", z)
	}
}

type fp struct {
	n            int
	sumT, sumS   float64
	prio, absent int
	sumP         float64
}

func fingerprint(d *Day, kind int) fp {
	var f fp
	for _, v := range d.Visitors {
		if v.Kind != kind {
			continue
		}
		f.n++
		f.sumT += v.Arrival
		f.sumS += v.ServiceTime
		f.prio += b2i(v.Priority)
		f.absent += b2i(v.Absent)
		if !math.IsInf(v.Patience, 1) {
			f.sumP += v.Patience
		}
	}
	return f
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }

func loadPublic(t testing.TB, name string) *Scenario {
	t.Helper()
	sc, err := LoadScenario("../bench/scenarios/" + name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func TestDayZeroFingerprints(t *testing.T) {
	cases := []struct {
		file     string
		kind     int
		want     fp
		bookings int
	}{
		{"S1-light", KindWalkIn, fp{492, 104373.096808, 3969.184656, 33, 9, 30541.899344}, 363},
		{"S1-light", KindAppt, fp{n: 292, sumT: 60604.926140, sumS: 2343.008616}, 363},
		{"S1-light", KindRoomAppt, fp{n: 30, sumT: 5448.405578, sumS: 924.597396}, 363},
		{"S1-light", KindRoomWalkIn, fp{15, 2524.853005, 395.040812, 0, 1, 945.470540}, 363},
		{"S2-busy", KindWalkIn, fp{552, 119797.653468, 4647.985344, 40, 7, 31869.206242}, 403},
		{"S2-busy", KindAppt, fp{n: 338, sumT: 67493.256048, sumS: 2629.150095}, 403},
		{"S2-busy", KindRoomAppt, fp{n: 29, sumT: 4821.245522, sumS: 859.880178}, 403},
		{"S2-busy", KindRoomWalkIn, fp{15, 3687.401262, 314.592986, 0, 1, 1131.668560}, 403},
		{"S3-overload", KindWalkIn, fp{552, 119797.653468, 4647.985344, 40, 7, 31869.206242}, 403},
	}
	for _, c := range cases {
		d := loadPublic(t, c.file).Generate(0)
		got := fingerprint(d, c.kind)
		if got.n != c.want.n || !near(got.sumT, c.want.sumT) || !near(got.sumS, c.want.sumS) || got.prio != c.want.prio || got.absent != c.want.absent || !near(got.sumP, c.want.sumP) {
			t.Errorf("%s kind %d: got %+v, want %+v", c.file, c.kind, got, c.want)
		}
		if len(d.Bookings) != c.bookings {
			t.Errorf("%s: %d bookings, want %d", c.file, len(d.Bookings), c.bookings)
		}
	}
}

func TestV1Fingerprint(t *testing.T) {
	d := loadPublic(t, "V1-mmc").Generate(0)
	f := fingerprint(d, KindWalkIn)
	if f.n != 2572 || !near(f.sumT, 1772446.233979) || !near(f.sumS, 22685.113894) {
		t.Fatalf("V1 day 0: %+v", f)
	}
}

func TestVisitorDump(t *testing.T) {
	var buf bytes.Buffer
	if err := loadPublic(t, "S2-busy").DumpVisitors(&buf, 0); err != nil {
		t.Fatal(err)
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(buf.String(), "\n") {
		lines[l] = true
	}
	for _, want := range []string{
		"1,A,3,TAX,0,0.000000000,0,5.379252569,,0",
		"2,A,8,CERT,0,0.000000000,0,11.743395818,,0",
		"3,A,64,INFO,0,0.000000000,0,5.254191664,,0",
		"9,RA,0,CONSULT,0,0.000000000,0,24.993618747,,0",
		"13,W,8,ID,0,0.035284175,,16.920051983,54.915194322,0",
		"16,W,21,TAX,0,0.287841617,,36.843817006,42.490452724,0",
		"18,W,20,CERT,1,0.430861473,,5.445252656,37.095175161,0",
		"126,RW,14,CONSULT,0,44.144199749,,20.139062169,157.572516033,0",
	} {
		if !lines[want] {
			t.Errorf("dump lacks %q", want)
		}
	}
}

func TestErlangS2(t *testing.T) {
	e := loadPublic(t, "S2-busy").ErlangReference()
	chk := func(name string, got, want, tol float64) {
		if !(math.Abs(got-want) <= tol) {
			t.Errorf("%s = %v, want %v ± %v", name, got, want, tol)
		}
	}
	chk("lambda", e.LambdaPerH, 117.76, 0.01)
	chk("ES", e.ES, 8.17, 0.005)
	chk("cs2", e.Cs2, 0.504, 0.001)
	chk("rho", e.AtC.Rho, 0.891, 0.001)
	chk("C", e.AtC.PWait, 0.538, 0.001)
	chk("Wq", e.AtC.Wq, 1.68, 0.005)
	chk("SL15", e.AtC.SL15, 0.996, 0.001)
	chk("c_eff", e.CEff, 16.8, 1e-9)
	chk("rho c_eff", e.AtCEff.Rho, 0.954, 0.001)
	chk("Wq c_eff", e.AtCEff.Wq, 6.39, 0.01)
	chk("SL15 c_eff", e.AtCEff.SL15, 0.877, 0.001)
	chk("rho_peak", e.RhoPeak, 0.975, 0.005)
	v := loadPublic(t, "V1-mmc").ErlangReference()
	chk("V1 P(wait)", v.AtC.PWait, 0.5887, 0.0001)
	chk("V1 Wq", v.AtC.Wq, 2.929, 0.001)
}
