package sim

import (
	"fmt"
	"io"
	"math"
	"sort"
)

// Visitor is one generated visitor (README §4).
type Visitor struct {
	Num         int // ticket number, 1-based, in (t, kind, j) order
	Kind        int
	J           int
	Service     int // index into Scenario.Services; -1 for the room service
	Priority    bool
	Arrival     float64
	HasSlot     bool
	Slot        float64
	ServiceTime float64
	Patience    float64 // +Inf when infinite
	Absent      bool
	NoShow      bool // bookings only: never arrives
}

// Walk reports whether the visitor is a walk-in (front office or room).
func (v *Visitor) Walk() bool { return v.Kind == KindWalkIn || v.Kind == KindRoomWalkIn }

// Room reports whether the visitor goes to a consultation room.
func (v *Visitor) Room() bool { return v.Kind == KindRoomAppt || v.Kind == KindRoomWalkIn }

// Booking is one entry of the day's booking list (no-shows included).
type Booking struct {
	Kind    int
	J       int
	Service int // -1 for the room service
	Slot    float64
	Visitor *Visitor // nil for a no-show
}

// Day is the generated day: the arriving visitors in ticket order and
// the booking list.
type Day struct {
	Index    int
	Visitors []*Visitor
	Bookings []Booking
}

func (sc *Scenario) shares() []float64 {
	w := make([]float64, len(sc.Services))
	for i, s := range sc.Services {
		w[i] = s.Share
	}
	return w
}

func (sc *Scenario) walkCount(day int) int {
	if !sc.WalkPoisson {
		return sc.WalkPerDay
	}
	st := newStream(sc.Seed, uint64(day), kindCount, 0)
	s, n := 0.0, 0
	for {
		s += -math.Log(1 - st.U())
		if s > float64(sc.WalkPerDay) {
			return n
		}
		n++
	}
}

func (sc *Scenario) profileArrival(ua, ub float64) float64 {
	k := categorical(sc.Profile, ua)
	lenK := math.Min(sc.ProfileMinutes, sc.LastTicket-float64(k)*sc.ProfileMinutes)
	return float64(k)*sc.ProfileMinutes + ub*lenK
}

func (sc *Scenario) patience(z float64) float64 {
	if !sc.HasPatience {
		return math.Inf(1)
	}
	return sc.PatienceMedian * math.Exp(sc.PatienceSd*z)
}

// Generate builds day d's visitors exactly as README §4 prescribes.
func (sc *Scenario) Generate(day int) *Day {
	d := &Day{Index: day}
	seed, ud := sc.Seed, uint64(day)
	shares := sc.shares()
	n := sc.walkCount(day)
	nBurst := roundHalfUp(float64(n) * sc.BurstShare)
	for j := 0; j < n; j++ {
		st := newStream(seed, ud, KindWalkIn, uint64(j))
		v := &Visitor{Kind: KindWalkIn, J: j}
		ua := st.U()
		ub := st.U()
		if j < nBurst {
			v.Arrival = ub * sc.BurstMinutes
		} else {
			v.Arrival = sc.profileArrival(ua, ub)
		}
		v.Service = categorical(shares, st.U())
		v.ServiceTime = st.serviceDraw(sc.Services[v.Service])
		v.Priority = st.U() < sc.PriorityShare
		v.Patience = sc.patience(st.Z())
		v.Absent = st.U() < sc.AbsentShare
		d.Visitors = append(d.Visitors, v)
	}
	for j := 0; j < sc.ApptPerDay; j++ {
		st := newStream(seed, ud, KindAppt, uint64(j))
		v := &Visitor{Kind: KindAppt, J: j, HasSlot: true, Patience: math.Inf(1)}
		v.Slot = sc.ApptSlots[int(st.U()*float64(len(sc.ApptSlots)))]
		v.Service = categorical(shares, st.U())
		v.ServiceTime = st.serviceDraw(sc.Services[v.Service])
		v.NoShow = st.U() < sc.ApptNoShow
		v.Arrival = math.Max(0, (v.Slot+sc.OffsetMean)+sc.OffsetSD*st.Z())
		b := Booking{Kind: KindAppt, J: j, Service: v.Service, Slot: v.Slot}
		if !v.NoShow {
			b.Visitor = v
			d.Visitors = append(d.Visitors, v)
		}
		d.Bookings = append(d.Bookings, b)
	}
	if sc.HasRooms {
		for j := 0; j < sc.RoomPerDay; j++ {
			st := newStream(seed, ud, KindRoomAppt, uint64(j))
			v := &Visitor{Kind: KindRoomAppt, J: j, Service: -1, HasSlot: true, Patience: math.Inf(1)}
			v.Slot = sc.RoomSlots[j%len(sc.RoomSlots)]
			v.ServiceTime = st.serviceDraw(sc.Room)
			v.NoShow = st.U() < sc.RoomNoShow
			v.Arrival = math.Max(0, (v.Slot+sc.OffsetMean)+sc.OffsetSD*st.Z())
			b := Booking{Kind: KindRoomAppt, J: j, Service: -1, Slot: v.Slot}
			if !v.NoShow {
				b.Visitor = v
				d.Visitors = append(d.Visitors, v)
			}
			d.Bookings = append(d.Bookings, b)
		}
		for j := 0; j < sc.RoomWalkPerDay; j++ {
			st := newStream(seed, ud, KindRoomWalkIn, uint64(j))
			v := &Visitor{Kind: KindRoomWalkIn, J: j, Service: -1}
			ua := st.U()
			ub := st.U()
			v.Arrival = sc.profileArrival(ua, ub)
			v.ServiceTime = st.serviceDraw(sc.Room)
			v.Patience = sc.patience(st.Z())
			v.Absent = st.U() < sc.AbsentShare
			d.Visitors = append(d.Visitors, v)
		}
	}
	sort.SliceStable(d.Visitors, func(a, b int) bool {
		x, y := d.Visitors[a], d.Visitors[b]
		if x.Arrival != y.Arrival {
			return x.Arrival < y.Arrival
		}
		if x.Kind != y.Kind {
			return x.Kind < y.Kind
		}
		return x.J < y.J
	})
	for i, v := range d.Visitors {
		v.Num = i + 1
	}
	return d
}

var kindCode = map[int]string{KindWalkIn: "W", KindAppt: "A", KindRoomAppt: "RA", KindRoomWalkIn: "RW"}

// ServiceID returns the visitor's service id.
func (sc *Scenario) ServiceID(v *Visitor) string {
	if v.Service < 0 {
		return sc.Room.ID
	}
	return sc.Services[v.Service].ID
}

// DumpVisitors writes the CSV of README §4.7.
func (sc *Scenario) DumpVisitors(w io.Writer, day int) error {
	d := sc.Generate(day)
	if _, err := fmt.Fprintln(w, "num,kind,j,service,priority,arrival,slot,service_time,patience,absent"); err != nil {
		return err
	}
	for _, v := range d.Visitors {
		slot, pat := "", ""
		if v.HasSlot {
			slot = fmt.Sprintf("%g", v.Slot)
		}
		if !math.IsInf(v.Patience, 1) {
			pat = fmt.Sprintf("%.9f", v.Patience)
		}
		if _, err := fmt.Fprintf(w, "%d,%s,%d,%s,%d,%.9f,%s,%.9f,%s,%d\n", v.Num, kindCode[v.Kind], v.J, sc.ServiceID(v), b2i(v.Priority), v.Arrival, slot, v.ServiceTime, pat, b2i(v.Absent)); err != nil {
			return err
		}
	}
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
