package sim

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/boltstore"
)

// ReplayError is a replay that cannot start because of what it was asked
// (no data directory, a date the log does not hold): `sportello sim` exits
// with 2 for it, and with 1 for every other failure.
type ReplayError struct{ Msg string }

func (e *ReplayError) Error() string { return e.Msg }

func replayErrorf(format string, a ...any) error {
	return &ReplayError{Msg: fmt.Sprintf(format, a...)}
}

// ReplaySource is where a replay reads a hub's day.
type ReplaySource struct {
	// DataDir is the hub's data directory (its sportello.db is read), or
	// the path of a store file itself (a copy made by `sportello backup`).
	DataDir string
	// Date is the day, YYYY-MM-DD in the site's time zone.
	Date string
	// Site is the site file the hub runs (nil: the built-in site); the
	// store's admin catalogue is laid over it, as the hub does at start.
	Site *hub.Site
	// SiteName says where Site came from, for the report.
	SiteName string
}

// ReplayDay is a real day turned into the simulator's input: a scenario
// holding the office as it was (services, counters, their opening times
// as outages), the day's visitors, and the outcome the log records,
// as a DayResult the same metric code scores.
type ReplayDay struct {
	Date     string
	Store    string // the file read
	SiteName string
	Site     *hub.Site
	Origin   time.Time // minute 0 of the simulated day
	Scenario *Scenario
	Day      *Day
	Actual   *DayResult
	Counts   ReplayCounts
	// AbsentCall is the counter time lost on a no-show (minutes), the
	// day's median call → no-show time.
	AbsentCall float64
	// Estimated lists, per front-office service id, how the duration of
	// tickets that were never served was set.
	Estimated map[string]string
	// closedAt is when the day's tickets were closed: the end-of-day
	// sweep, or the day's last event when there was none.
	closedAt time.Time
}

// ReplayCounts are what the reconstruction found and how it treated it.
type ReplayCounts struct {
	Tickets      int `json:"tickets"`
	WalkIns      int `json:"walk_ins"`
	Appointments int `json:"appointments"`
	RoomTickets  int `json:"room_tickets"`
	BookedNoShow int `json:"booked_not_checked_in"`
	Served       int `json:"served"`
	NoShows      int `json:"no_shows"`
	WalkOuts     int `json:"walk_outs"`
	Unserved     int `json:"unserved"`
	// StillOpen tickets were open when the log ends (the day not closed).
	StillOpen int `json:"still_open"`
	// Measured and Estimated count the service durations of each kind.
	Measured    int `json:"durations_measured"`
	Estimated   int `json:"durations_estimated"`
	Transferred int `json:"transferred"`
	Parked      int `json:"parked"`
	Virtual     int `json:"web_queue_places"`
	// UnknownService tickets are of services the site no longer has
	// (left out).
	UnknownService int `json:"unknown_service"`
	CountersUsed   int `json:"counters_opened"`
}

// openReplayStore opens the store read-only. A running hub holds the
// file's lock, so the open fails after a short wait instead of reading
// under it.
func openReplayStore(dataDir string) (*boltstore.Store, string, error) {
	if dataDir == "" {
		return nil, "", replayErrorf("--replay DATA_DIR is required")
	}
	fi, err := os.Stat(dataDir)
	if err != nil {
		return nil, "", replayErrorf("--replay %s: no such data directory", dataDir)
	}
	path := dataDir
	if fi.IsDir() {
		path = filepath.Join(dataDir, "sportello.db")
		if _, err := os.Stat(path); err != nil {
			return nil, "", replayErrorf("--replay %s: no hub store (sportello.db) in this directory", dataDir)
		}
	}
	st, err := boltstore.Open(path, boltstore.Options{ReadOnly: true, Timeout: time.Second, Logger: quiet})
	if err != nil {
		if strings.Contains(err.Error(), "in use") {
			return nil, "", fmt.Errorf("%v: the store is locked by a running hub; stop it, or replay a copy: sportello backup --data %s --out FILE, then sportello sim --replay FILE", err, dataDir)
		}
		return nil, "", err
	}
	return st, path, nil
}

// ParseReplayDate checks a --date value: YYYY-MM-DD, a real day.
func ParseReplayDate(date string, loc *time.Location) (time.Time, error) {
	d, err := time.ParseInLocation("2006-01-02", date, loc)
	if err != nil || d.Format("2006-01-02") != date {
		return time.Time{}, replayErrorf("--date %q: want a day as YYYY-MM-DD", date)
	}
	return d, nil
}

// eventAt reads the event with seq s (false when pruned or past the end).
func eventAt(st hub.Store, s uint64) (hub.Event, bool, error) {
	evs, _, err := st.EventsSince(s-1, 1)
	if err != nil || len(evs) == 0 || evs[0].Seq != s {
		return hub.Event{}, false, err
	}
	return evs[0], true, nil
}

// dayEvents returns the events from the day's start up to a day past its
// end (the end-of-day sweep of a late office may come after midnight):
// seqs are contiguous and times grow with them, so the first one is found
// by bisection instead of reading the whole log.
func dayEvents(st hub.Store, lastSeq uint64, start, end time.Time, date string, loc *time.Location) ([]hub.Event, error) {
	first, _, err := st.EventsSince(0, 1)
	if err != nil {
		return nil, err
	}
	if len(first) == 0 {
		return nil, replayErrorf("--date %s: the store holds no events at all", date)
	}
	last, ok, err := eventAt(st, lastSeq)
	if err != nil {
		return nil, err
	}
	if !ok {
		last = first[0]
	}
	from, to := first[0].At.In(loc).Format("2006-01-02"), last.At.In(loc).Format("2006-01-02")
	if date < from || date > to {
		return nil, replayErrorf("--date %s: no such date in the log, which holds %s … %s", date, from, to)
	}
	lo := first[0].Seq
	var serr error
	n := sort.Search(int(lastSeq-lo+1), func(i int) bool {
		e, ok, err := eventAt(st, lo+uint64(i))
		if err != nil {
			serr = err
			return true
		}
		return !ok || !e.At.Before(start)
	})
	if serr != nil {
		return nil, serr
	}
	since := lo + uint64(n) - 1
	stop := end.Add(24 * time.Hour)
	var out []hub.Event
	for {
		evs, _, err := st.EventsSince(since, 5000)
		if err != nil {
			return nil, err
		}
		if len(evs) == 0 {
			return out, nil
		}
		for _, e := range evs {
			if !e.At.Before(stop) {
				return out, nil
			}
			out = append(out, e)
		}
		since = evs[len(evs)-1].Seq
	}
}

// visit is one ticket of the day as the log tells it.
type visit struct {
	id, service, appt string
	prio, room        bool
	issued            time.Time
	slot              *time.Time
	called, present   bool
	firstCall         time.Time
	firstCounter      string
	lastCall          time.Time
	segFrom           time.Time // start (or call) of the open step
	served            time.Duration
	end               string // finished, no_show, walkout, unserved, ""
	endAt             time.Time
	endCounter        string
	transferred       bool
	parked            bool
}

// calledEv is one first call of the day, for the skip count.
type calledEv struct {
	at      time.Time
	v       *visit
	counter string
}

// LoadReplayDay reads the day from the store and reconstructs it.
func LoadReplayDay(src ReplaySource) (*ReplayDay, error) {
	site := src.Site
	if site == nil {
		site, src.SiteName = hub.BuiltinSite(), "the built-in CEDIR Sala Piramide site"
	}
	loc := site.Location()
	dayStart, err := ParseReplayDate(src.Date, loc)
	if err != nil {
		return nil, err
	}
	st, path, err := openReplayStore(src.DataDir)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	state, err := st.Load(src.Date)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	site = site.WithCatalogue(state.Catalogue)
	if err := site.Validate(); err != nil {
		return nil, fmt.Errorf("the site with the store's admin catalogue: %w", err)
	}
	dayEnd := dayStart.AddDate(0, 0, 1)
	evs, err := dayEvents(st, state.LastSeq, dayStart, dayEnd, src.Date, loc)
	if err != nil {
		return nil, err
	}
	r := &ReplayDay{Date: src.Date, Store: path, SiteName: src.SiteName, Site: site, Estimated: map[string]string{}}
	if err := r.reconstruct(evs, state, dayStart, dayEnd); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *ReplayDay) reconstruct(evs []hub.Event, state *hub.State, dayStart, dayEnd time.Time) error {
	site := r.Site
	in := func(t time.Time) bool { return !t.Before(dayStart) && t.Before(dayEnd) }
	visits := map[string]*visit{}
	var order []*visit
	var calls []calledEv
	counterEvs := map[string][]hub.Event{}
	var noShowGaps []float64
	c := &r.Counts
	// lastAt is the day's last event: of its counters or its tickets.
	// closedAt is the end-of-day sweep that closed the day's tickets.
	var lastAt, closedAt time.Time
	for _, e := range evs {
		d := e.Data
		switch e.Type {
		case hub.EventCounterOpened, hub.EventCounterPaused, hub.EventCounterClosed:
			if in(e.At) {
				counterEvs[d.Counter] = append(counterEvs[d.Counter], e)
				lastAt = e.At
			}
			continue
		case hub.EventDayClosed:
			if closedAt.IsZero() && len(order) > 0 && !e.At.Before(order[len(order)-1].issued) {
				closedAt = e.At
			}
			continue
		case hub.EventTicketIssued:
			if !in(e.At) {
				continue
			}
			lastAt = e.At
			sv, ok := site.Service(d.Service)
			if !ok {
				c.UnknownService++
				continue
			}
			v := &visit{id: d.TicketID, service: d.Service, appt: d.Appointment, prio: d.Priority != "" && d.Priority != hub.PriorityNone, room: sv.Room, issued: e.At, slot: d.Slot}
			visits[v.id] = v
			order = append(order, v)
			continue
		}
		v := visits[d.TicketID]
		if v == nil || v.end != "" {
			continue
		}
		lastAt = e.At
		closeStep := func() {
			if !v.segFrom.IsZero() {
				v.served += e.At.Sub(v.segFrom)
				v.segFrom = time.Time{}
			}
		}
		switch e.Type {
		case hub.EventTicketCalled:
			if !v.called {
				v.called, v.firstCall, v.firstCounter = true, e.At, d.Counter
				calls = append(calls, calledEv{at: e.At, v: v, counter: d.Counter})
			}
			v.lastCall, v.segFrom = e.At, e.At
		case hub.EventTicketStarted:
			v.present, v.segFrom = true, e.At
		case hub.EventTicketFinished:
			closeStep()
			v.present, v.end, v.endAt, v.endCounter = true, "finished", e.At, d.Counter
		case hub.EventTicketNoShow:
			v.endAt, v.endCounter, v.segFrom = e.At, d.Counter, time.Time{}
			if v.present {
				v.end = "finished" // served at an earlier step
				break
			}
			v.end = "no_show"
			noShowGaps = append(noShowGaps, e.At.Sub(v.lastCall).Minutes())
		case hub.EventTicketTransferred:
			closeStep()
			// A clerk's transfer means the citizen came; a supervisor's
			// forced close (same service, no target) says nothing.
			if d.Counter != "" || d.FromService != d.Service {
				v.present = true
			}
			v.transferred = true
		case hub.EventTicketParked:
			closeStep()
			v.present, v.parked = true, true
		case hub.EventTicketCancelled:
			wasCalled := !v.segFrom.IsZero()
			closeStep()
			v.endAt = e.At
			switch {
			case v.present:
				v.end = "finished"
			case d.Outcome == "end_of_day":
				v.end = "unserved"
			case wasCalled:
				// Called, then cancelled before any service: the
				// citizen did not come, as a no-show.
				v.end = "no_show"
				noShowGaps = append(noShowGaps, e.At.Sub(v.lastCall).Minutes())
			default:
				v.end = "walkout"
			}
		}
	}
	if len(order) == 0 {
		return replayErrorf("--date %s: no tickets were issued on that day (the log holds %d events of it)", r.Date, len(evs))
	}
	// The events of the day end; tickets still open were never closed
	// (the day was not ended, or it is today).
	for _, v := range order {
		if v.end == "" {
			c.StillOpen++
			if !v.segFrom.IsZero() {
				v.served += lastAt.Sub(v.segFrom)
				v.segFrom = time.Time{}
			}
			v.endAt = lastAt
			if v.present {
				v.end = "finished"
			} else {
				v.end = "unserved"
			}
		}
	}
	if closedAt.IsZero() || closedAt.Before(lastAt) {
		closedAt = lastAt
	}
	r.closedAt = closedAt
	return r.build(order, calls, counterEvs, noShowGaps, state, dayStart, dayEnd)
}

func minutesOf(t, origin time.Time) float64 { return t.Sub(origin).Minutes() }

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return quantile(s, 0.5)
}

// build turns the visits into the scenario, the day and the actual outcome.
func (r *ReplayDay) build(order []*visit, calls []calledEv, counterEvs map[string][]hub.Event, noShowGaps []float64, state *hub.State, dayStart, dayEnd time.Time) error {
	site := r.Site
	c := &r.Counts
	// Minute 0 is the first minute of the day's activity.
	first := order[0].issued
	for _, es := range counterEvs {
		if len(es) > 0 && es[0].At.Before(first) {
			first = es[0].At
		}
	}
	origin := first.Truncate(time.Minute)
	r.Origin = origin
	sinceMidnight := origin.Sub(dayStart)

	sc := &Scenario{Name: fmt.Sprintf("replay %s", r.Date), Days: 1, Open: int(sinceMidnight / time.Minute), Seats: site.Seats, AbsentCall: 1.5, ServiceIndex: map[string]int{}}
	// Services: the site's front-office services in its order; the
	// consultation rooms' services are one pooled room service, as the
	// simulator models rooms (README §3.9).
	measured := map[string][]float64{}
	for _, v := range order {
		if v.present {
			measured[v.service] = append(measured[v.service], v.served.Minutes())
		}
	}
	var roomTime, roomN float64
	var roomTarget time.Duration
	for _, sv := range site.Services {
		if sv.Room {
			roomTime += sv.ServiceTime.Minutes()
			roomN++
			roomTarget = max(roomTarget, sv.TargetWait)
			continue
		}
		sc.ServiceIndex[sv.ID] = len(sc.Services)
		sc.Services = append(sc.Services, ServiceSpec{ID: sv.ID, Name: sv.Name.IT, Mean: sv.ServiceTime.Minutes(), CV: 1, Target: sv.TargetWait})
	}
	estimate := func(service string) float64 {
		if ms := measured[service]; len(ms) > 0 {
			return mean(ms)
		}
		sv, _ := site.Service(service)
		return sv.ServiceTime.Minutes()
	}
	for id, i := range sc.ServiceIndex {
		if ms := measured[id]; len(ms) > 0 {
			r.Estimated[id] = fmt.Sprintf("mean of %d measured: %.2f min", len(ms), mean(ms))
		} else {
			r.Estimated[id] = fmt.Sprintf("none measured: the site's typical %.2f min", sc.Services[i].Mean)
		}
	}
	if len(noShowGaps) > 0 {
		sc.AbsentCall = median(noShowGaps)
	}
	r.AbsentCall = sc.AbsentCall
	// Counters: the site's, with the skill profile the hub holds (the site
	// file, the admin catalogue, a supervisor's live change).
	live := map[string][]string{}
	for _, lc := range state.Counters {
		if len(lc.Services) > 0 {
			live[lc.ID] = lc.Services
		}
	}
	counterIdx := map[string]int{}
	var rooms []hub.CounterDef
	addCounter := func(def hub.CounterDef, room bool) {
		skills := def.Services
		if l, ok := live[def.ID]; ok {
			skills = l
		}
		cs := CounterSpec{Num: len(sc.Counters) + 1, ID: def.ID, Group: string(def.Kind), Room: room, Home: -1, Line: -1}
		for _, s := range skills {
			if k, ok := sc.ServiceIndex[s]; ok {
				cs.Services = append(cs.Services, k)
			}
		}
		if len(cs.Services) > 0 {
			// A site file names no home service or line: the first
			// service of the profile stands for both (B0, B2, B3).
			cs.Home, cs.Line = cs.Services[0], cs.Services[0]
		}
		counterIdx[def.ID] = len(sc.Counters)
		sc.Counters = append(sc.Counters, cs)
	}
	for _, def := range site.Counters {
		if def.Kind == hub.KindRoom {
			rooms = append(rooms, def)
			continue
		}
		addCounter(def, false)
	}
	sc.FrontCount = len(sc.Counters)
	for _, def := range rooms {
		addCounter(def, true)
	}
	if len(rooms) > 0 {
		sc.HasRooms, sc.RoomCount = true, len(rooms)
		sc.Room = ServiceSpec{ID: "rooms", Name: "consultation rooms (pooled)", Mean: roomTime / math.Max(1, roomN), CV: 1, Target: roomTarget}
	}
	lines := map[int]bool{}
	for _, cs := range sc.Counters[:sc.FrontCount] {
		if cs.Line >= 0 {
			lines[cs.Line] = true
		}
	}
	sc.B0Defined = len(lines) == len(sc.Services)

	// Visitors, in issue order.
	day := &Day{}
	kindJ := map[int]int{}
	byID := map[string]*Visitor{}
	var recs []*Record
	res := &DayResult{}
	for _, v := range order {
		vis := &Visitor{Num: len(day.Visitors) + 1, Arrival: minutesOf(v.issued, origin), Patience: math.Inf(1)}
		switch {
		case v.room && v.slot != nil:
			vis.Kind = KindRoomAppt
		case v.room:
			vis.Kind = KindRoomWalkIn
		case v.slot != nil:
			vis.Kind = KindAppt
		default:
			vis.Kind = KindWalkIn
		}
		vis.J = kindJ[vis.Kind]
		kindJ[vis.Kind]++
		vis.Service = -1
		if !v.room {
			vis.Service = sc.ServiceIndex[v.service]
		}
		vis.Priority = v.prio
		if v.slot != nil {
			vis.HasSlot, vis.Slot = true, minutesOf(*v.slot, origin)
			day.Bookings = append(day.Bookings, Booking{Kind: vis.Kind, J: vis.J, Service: vis.Service, Slot: vis.Slot, Visitor: vis})
		}
		c.Tickets++
		switch {
		case v.room:
			c.RoomTickets++
		case v.slot != nil:
			c.Appointments++
		default:
			c.WalkIns++
		}
		if v.appt != "" && v.slot == nil {
			c.Virtual++
		}
		if v.transferred {
			c.Transferred++
		}
		if v.parked {
			c.Parked++
		}
		rec := &Record{V: vis, Counter: -1, Called: true}
		switch v.end {
		case "finished":
			c.Served++
			c.Measured++
			vis.ServiceTime = v.served.Minutes()
			rec.Present, rec.Call, rec.Completed = true, minutesOf(v.firstCall, origin), minutesOf(v.endAt, origin)
		case "no_show":
			c.NoShows++
			c.Estimated++
			if vis.Walk() {
				vis.Absent = true
				vis.ServiceTime = estimate(v.service)
			} else {
				// A booked citizen the simulator serves whenever called
				// (no presence check for bookings): the counter loses
				// what it lost that day.
				vis.ServiceTime = v.endAt.Sub(v.lastCall).Minutes()
			}
			rec.Call = minutesOf(v.firstCall, origin)
		case "walkout":
			c.WalkOuts++
			c.Estimated++
			vis.Patience = v.endAt.Sub(v.issued).Minutes()
			vis.ServiceTime = estimate(v.service)
			rec.Call = minutesOf(v.endAt, origin)
		default: // unserved
			c.Unserved++
			c.Estimated++
			vis.ServiceTime = estimate(v.service)
			rec.Call = minutesOf(v.endAt, origin)
			res.Unfinished++
		}
		if v.called {
			if k, ok := counterIdx[v.firstCounter]; ok {
				rec.Counter = k
			}
		}
		if v.end == "finished" || v.end == "no_show" {
			t := minutesOf(v.endAt, origin)
			if k, ok := counterIdx[v.endCounter]; ok && sc.Counters[k].Room {
				res.RoomEnd = math.Max(res.RoomEnd, t)
			} else {
				res.FrontEnd = math.Max(res.FrontEnd, t)
			}
		}
		byID[v.id] = vis
		day.Visitors = append(day.Visitors, vis)
		recs = append(recs, rec)
	}
	// Bookings of the day that never checked in.
	for _, a := range state.Appointments {
		if a.Kind != "slot" || a.Status != "booked" || a.Slot.Before(dayStart) || !a.Slot.Before(dayEnd) {
			continue
		}
		sv, ok := site.Service(a.Service)
		if !ok {
			continue
		}
		b := Booking{Kind: KindAppt, Service: -1, Slot: minutesOf(a.Slot, origin)}
		if sv.Room {
			b.Kind = KindRoomAppt
		} else {
			b.Service = sc.ServiceIndex[a.Service]
		}
		b.J = kindJ[b.Kind]
		kindJ[b.Kind]++
		day.Bookings = append(day.Bookings, b)
		c.BookedNoShow++
	}
	sort.SliceStable(day.Bookings, func(i, j int) bool { return day.Bookings[i].Slot < day.Bookings[j].Slot })

	// Skips (§9.5) as the clerks made them: at each first call of a
	// walk-in, the waiting walk-ins of the same class issued before it
	// that the calling counter could have served. Calls are compared in
	// log order, not by time: of two calls in the same second, the later
	// one skips the earlier one's ticket no more than the simulator's
	// dispatch pass does.
	callIdx := map[*Visitor]int{}
	for ci, ce := range calls {
		if v := byID[ce.v.id]; v != nil {
			callIdx[v] = ci
		}
	}
	for ci, ce := range calls {
		cv := byID[ce.v.id]
		k, ok := counterIdx[ce.counter]
		if cv == nil || !ok || !cv.Walk() {
			continue
		}
		can := map[int]bool{}
		for _, s := range sc.Counters[k].Services {
			can[s] = true
		}
		if sc.Counters[k].Room {
			can[-1] = true
		}
		for i, w := range day.Visitors {
			if w.Num >= cv.Num {
				break
			}
			wr := recs[i]
			waiting := wr.Call > minutesOf(ce.at, r.Origin)
			if wci, called := callIdx[w]; called {
				waiting = wci > ci
			}
			if waiting && w.Walk() && w.Priority == cv.Priority && can[w.Service] {
				wr.Skipped = true
			}
		}
	}

	// The counters' day: available while open, per the log.
	last := 0.0
	for i := range sc.Counters {
		id := sc.Counters[i].ID
		es := counterEvs[id]
		if len(es) > 0 {
			c.CountersUsed++
		}
		// Open at the start when the day's first event pauses or closes
		// it: it was left open from before.
		open := len(es) > 0 && es[0].Type != hub.EventCounterOpened
		from := 0.0 // start of the current unavailable stretch
		for _, e := range es {
			t := minutesOf(e.At, origin)
			now := e.Type == hub.EventCounterOpened
			if now == open {
				continue
			}
			if now {
				if t > from {
					sc.Outages = append(sc.Outages, Outage{Counter: i, From: from, To: t, HasUntil: true, CounterRef: id})
				}
			} else {
				from = t
				if i < sc.FrontCount {
					last = math.Max(last, t)
				}
			}
			open = now
		}
		if !open {
			sc.Outages = append(sc.Outages, Outage{Counter: i, From: from, CounterRef: id})
		}
	}
	// A pause or close falls due just before its time, so that a counter
	// that finishes at that very minute in the simulation stops instead
	// of calling again (the clerk paused on finishing).
	for i := range sc.Outages {
		if sc.Outages[i].From > 0 {
			sc.Outages[i].From = math.Max(0, sc.Outages[i].From-1e-6)
		}
	}
	sort.SliceStable(sc.Outages, func(i, j int) bool { return sc.Outages[i].From < sc.Outages[j].From })
	if last <= 0 {
		last = math.Max(res.FrontEnd, day.Visitors[len(day.Visitors)-1].Arrival)
	}
	sc.Close = math.Max(1, last)
	sc.LastTicket = day.Visitors[len(day.Visitors)-1].Arrival
	sc.StaffedAtOpen = sc.FrontCount
	// The policies' tickets still waiting when the real day was closed
	// are closed then too (at the simulator's next whole-minute tick).
	sc.HardStop = math.Max(1, math.Ceil(minutesOf(r.closedAt, origin)-1e-9))
	res.Records = recs
	r.Scenario, r.Day, r.Actual = sc, day, res
	return nil
}
