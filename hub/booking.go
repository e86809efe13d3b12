package hub

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Opening is one opening period of a weekday, in the site's time zone.
type Opening struct {
	Weekday  time.Weekday
	From, To string // "08:30"
}

// BookingConfig says when appointments can be booked and how much of the
// office's capacity they may take.
type BookingConfig struct {
	Hours []Opening
	// SlotMinutes is the length of a slot (default 15).
	SlotMinutes int
	// BookableShare is the share of a service's capacity that ordinary
	// bookings may take; the rest is held back for walk-ins. Bookings with
	// a priority category may use all of it. Default 0.5.
	BookableShare float64
	// VirtualPerDay limits how many places in the virtual queue one person
	// may take per day (default 2), and only one per service at a time.
	VirtualPerDay int
	// VirtualKeep is how long a virtual place keeps its position before the
	// citizen checks in at the totem (default 3 h); after it, the check-in
	// counts from its own time.
	VirtualKeep time.Duration
}

// DefaultHours are the Sportello Unico's opening hours: weekday mornings,
// Tuesday and Thursday afternoons too.
var DefaultHours = []Opening{
	{time.Monday, "08:30", "13:00"}, {time.Tuesday, "08:30", "13:00"}, {time.Tuesday, "15:00", "17:30"},
	{time.Wednesday, "08:30", "13:00"}, {time.Thursday, "08:30", "13:00"}, {time.Thursday, "15:00", "17:30"},
	{time.Friday, "08:30", "13:00"},
}

func (b BookingConfig) withDefaults() BookingConfig {
	if len(b.Hours) == 0 {
		b.Hours = DefaultHours
	}
	if b.SlotMinutes <= 0 {
		b.SlotMinutes = 15
	}
	if b.BookableShare <= 0 || b.BookableShare > 1 {
		b.BookableShare = 0.5
	}
	if b.VirtualPerDay <= 0 {
		b.VirtualPerDay = 2
	}
	if b.VirtualKeep <= 0 {
		b.VirtualKeep = 3 * time.Hour
	}
	return b
}

// SlotInfo is one bookable slot of a service.
type SlotInfo struct {
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Capacity int       `json:"capacity"`
	// PriorityCapacity is what bookings with a priority category may use.
	PriorityCapacity int `json:"priority_capacity"`
	Booked           int `json:"booked"`
	Free             int `json:"free"`
}

// Slots lists the slots of a service on a day (YYYY-MM-DD) with what is
// still free.
func (e *Engine) Slots(service, day string) ([]SlotInfo, error) {
	if _, ok := e.Site().Service(service); !ok {
		return nil, unknownService("service", service)
	}
	d, err := time.ParseInLocation("2006-01-02", day, e.loc)
	if err != nil {
		return nil, FieldError("invalid_day", "day", "day must be YYYY-MM-DD")
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.slotsLocked(service, d), nil
}

func (e *Engine) slotsLocked(service string, day time.Time) []SlotInfo {
	b := e.cfg.Booking
	sv, _ := e.site.Service(service)
	servers := 0
	for _, c := range e.counters {
		if c.serves(service) {
			servers++
		}
	}
	slotLen := time.Duration(b.SlotMinutes) * time.Minute
	st := sv.ServiceTime
	if st <= 0 {
		st = 10 * time.Minute
	}
	full := int(float64(servers) * slotLen.Seconds() / st.Seconds())
	if servers > 0 && full < 1 {
		full = 1
	}
	bookable := int(float64(full) * b.BookableShare)
	if full > 0 && bookable < 1 {
		bookable = 1
	}
	booked := map[int64]int{}
	for _, a := range e.appointments {
		if a.Service == service && a.Kind != "virtual" && a.Status != "cancelled" {
			booked[a.Slot.Unix()]++
		}
	}
	var out []SlotInfo
	for _, o := range b.Hours {
		if o.Weekday != day.Weekday() {
			continue
		}
		from, err1 := clockOn(day, o.From, e.loc)
		to, err2 := clockOn(day, o.To, e.loc)
		if err1 != nil || err2 != nil {
			continue
		}
		for s := from; !s.Add(slotLen).After(to); s = s.Add(slotLen) {
			n := booked[s.Unix()]
			free := bookable - n
			if free < 0 {
				free = 0
			}
			out = append(out, SlotInfo{Start: s, End: s.Add(slotLen), Capacity: bookable, PriorityCapacity: full, Booked: n, Free: free})
		}
	}
	return out
}

func clockOn(day time.Time, hhmm string, loc *time.Location) (time.Time, error) {
	t, err := time.Parse("15:04", hhmm)
	if err != nil {
		return time.Time{}, err
	}
	return time.Date(day.Year(), day.Month(), day.Day(), t.Hour(), t.Minute(), 0, 0, loc), nil
}

var fiscalCodeRe = regexp.MustCompile(`^[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$`)

// ValidFiscalCode checks the shape of an Italian codice fiscale (16
// characters, with omocodia substitutions) and its check character.
func ValidFiscalCode(cf string) bool {
	if !fiscalCodeRe.MatchString(cf) {
		return false
	}
	odd := [...]int{1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23}
	sum := 0
	for i := 0; i < 15; i++ {
		c := cf[i]
		var v int
		if c >= '0' && c <= '9' {
			v = int(c - '0')
		} else {
			v = int(c - 'A')
		}
		if i%2 == 0 {
			sum += odd[v]
		} else {
			sum += v
		}
	}
	return cf[15] == byte('A'+sum%26)
}

// normCitizen validates and normalises citizen data from a channel.
func normCitizen(c *Citizen) (*Citizen, error) {
	if c == nil || (c.FiscalCode == "" && c.Name == "") {
		return nil, nil
	}
	out := &Citizen{FiscalCode: strings.ToUpper(strings.TrimSpace(c.FiscalCode)), Name: strings.TrimSpace(c.Name)}
	if out.FiscalCode != "" && !ValidFiscalCode(out.FiscalCode) {
		return nil, FieldError("invalid_fiscal_code", "citizen.fiscal_code", "not a valid codice fiscale")
	}
	if err := validText("name", out.Name, 100, false); err != nil {
		return nil, &Error{Kind: KindInvalid, Code: "invalid_name", Field: "citizen.name", Message: "a name is at most 100 characters of text"}
	}
	return out, nil
}

// PersonKey is the keyed hash of a fiscal code: bookings per person can be
// counted, and a visit reduced after delivery, without keeping the code.
func (e *Engine) PersonKey(fiscalCode string) string {
	if fiscalCode == "" {
		return ""
	}
	m := hmac.New(sha256.New, e.cfg.HashKey)
	m.Write([]byte(strings.ToUpper(fiscalCode)))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

// checkSlot verifies that slot is a free slot of the service.
func (tx *txn) checkSlot(service string, slot time.Time, prio Priority) error {
	e := tx.e
	if !slot.After(tx.now) {
		return FieldError("invalid_slot", "slot", "the slot is in the past")
	}
	day := time.Date(slot.In(e.loc).Year(), slot.In(e.loc).Month(), slot.In(e.loc).Day(), 0, 0, 0, 0, e.loc)
	for _, s := range e.slotsLocked(service, day) {
		if !s.Start.Equal(slot) {
			continue
		}
		limit := s.Capacity
		if prio != PriorityNone {
			limit = s.PriorityCapacity
		}
		if s.Booked >= limit {
			return Errorf(KindConflict, "slot_full", "the slot at %s is full: choose another", slot.In(e.loc).Format("15:04"))
		}
		return nil
	}
	return FieldError("invalid_slot", "slot", "no slot of %s starts at %s (see GET /api/v1/slots)", service, slot.In(e.loc).Format(time.RFC3339))
}

// CancelAppointment cancels a booked appointment or virtual place; its
// slot becomes free again.
func (e *Engine) CancelAppointment(ctx context.Context, code, by string) (*Appointment, error) {
	v, err := e.do(ctx, by, func(tx *txn) (any, error) {
		a, ok := tx.e.appointments[code]
		if !ok {
			return nil, ErrAppointmentNotFound
		}
		if a.Status != "booked" {
			return nil, Errorf(KindConflict, "appointment_not_cancellable", "the appointment is %s", a.Status)
		}
		c := *a
		c.Status = "cancelled"
		tx.e.appointments[code] = &c
		tx.batch.Appointments = append(tx.batch.Appointments, &c)
		tx.emit(EventAppointmentCancelled, EventData{Service: c.Service, Appointment: code, Channel: string(c.Channel)})
		out := c
		return &out, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Appointment), nil
}

// JoinRequest takes a place in the virtual queue from the web.
type JoinRequest struct {
	Service string
	Citizen *Citizen // the fiscal code is required: it enforces the limit
	By      string
}

// JoinQueue gives a citizen a place in a service's queue from the web:
// a code to check in with at the totem, counting from now. One place per
// service at a time and VirtualPerDay per day, per person — the remedy
// for the virtual queues where a few people booked everyone else out.
func (e *Engine) JoinQueue(ctx context.Context, r JoinRequest) (*Appointment, error) {
	cz, err := normCitizen(r.Citizen)
	if err != nil {
		return nil, err
	}
	if cz == nil || cz.FiscalCode == "" {
		return nil, FieldError("missing_field", "citizen.fiscal_code", "the fiscal code is required to join the queue")
	}
	key := e.PersonKey(cz.FiscalCode)
	v, err := e.do(ctx, r.By, func(tx *txn) (any, error) {
		if err := tx.e.site.bookable(r.Service); err != nil {
			return nil, err
		}
		today := tx.e.day(tx.now)
		n := 0
		for _, a := range tx.e.appointments {
			if a.Kind != "virtual" || a.PersonKey != key || tx.e.day(a.Slot) != today || a.Status == "cancelled" {
				continue
			}
			n++
			if a.Service == r.Service && a.Status == "booked" {
				return nil, Errorf(KindConflict, "already_in_queue", "you already have a place for this service: code %s", a.Code)
			}
		}
		if n >= tx.e.cfg.Booking.VirtualPerDay {
			return nil, Errorf(KindConflict, "limit_reached", "at most %d places per person per day", tx.e.cfg.Booking.VirtualPerDay)
		}
		a := &Appointment{Code: tx.newCode(), Kind: "virtual", Service: r.Service, Slot: tx.now, Status: "booked", Channel: ChannelWeb,
			Priority: PriorityNone, Citizen: cz, PersonKey: key}
		tx.e.appointments[a.Code] = a
		tx.batch.Appointments = append(tx.batch.Appointments, a)
		tx.emit(EventAppointmentBooked, EventData{Service: a.Service, Appointment: a.Code, Channel: string(a.Channel)})
		c := *a
		return &c, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Appointment), nil
}

func (tx *txn) newCode() string {
	code := bookingCode()
	for tx.e.appointments[code] != nil {
		code = bookingCode()
	}
	return code
}

// ReduceCitizen replaces a closed visit's personal data, and those of the
// appointment it came from, with the keyed hash: the CzRM has them now
// (crmsync calls this after delivery).
func (e *Engine) ReduceCitizen(ctx context.Context, ticketID string) error {
	_, err := e.do(ctx, "crmsync", func(tx *txn) (any, error) {
		t, inMemory := tx.e.tickets[ticketID]
		if !inMemory {
			st, err := tx.e.store.Ticket(ticketID)
			if err != nil {
				return nil, err
			}
			t = st
		}
		if t.Citizen == nil || t.Citizen.FiscalCode == "" && t.Citizen.Name == "" || !t.Status.Closed() {
			return nil, nil
		}
		t.Citizen = &Citizen{Hash: tx.e.PersonKey(t.Citizen.FiscalCode)}
		// The appointment the visit came from holds the same data: it
		// goes too (its PersonKey still counts the person's bookings).
		if a, ok := tx.e.appointments[t.Appointment]; ok && t.Appointment != "" && a.Citizen != nil && (a.Citizen.FiscalCode != "" || a.Citizen.Name != "") {
			c := *a
			c.Citizen = &Citizen{Hash: tx.e.PersonKey(a.Citizen.FiscalCode)}
			tx.e.appointments[c.Code] = &c
			tx.batch.Appointments = append(tx.batch.Appointments, &c)
		}
		if !inMemory {
			// A visit of a past day (delivered after midnight) is
			// rewritten on disk without coming back into today's state.
			tx.batch.Tickets = append(tx.batch.Tickets, t.Clone())
			return nil, nil
		}
		tx.putTicket(t, nil)
		return nil, nil
	})
	return err
}

// PurgePersonal removes the personal data of visits and appointments older
// than keep (the retention job); it returns how many records it changed.
func (e *Engine) PurgePersonal(ctx context.Context, keep time.Duration) (int, error) {
	v, err := e.do(ctx, "retention", func(tx *txn) (any, error) {
		cutoff := tx.now.Add(-keep)
		n := 0
		for _, t := range tx.e.tickets {
			if t.Citizen != nil && (t.Citizen.FiscalCode != "" || t.Citizen.Name != "") && t.Status.Closed() && t.ClosedAt != nil && t.ClosedAt.Before(cutoff) {
				t.Citizen = &Citizen{Hash: tx.e.PersonKey(t.Citizen.FiscalCode)}
				tx.putTicket(t, nil)
				n++
			}
		}
		for _, t := range tx.e.tickets {
			if t.Rating != nil && t.Rating.Comment != "" && t.ClosedAt != nil && t.ClosedAt.Before(cutoff) {
				t.Rating.Comment = ""
				tx.putTicket(t, nil)
				n++
			}
		}
		if sc, ok := tx.e.store.(PastTickets); ok {
			// Visits of past days are no longer in memory: the store
			// hands them over, and only the changed ones are written.
			err := sc.ClosedTicketsBefore(cutoff, func(t *Ticket) {
				if _, inMem := tx.e.tickets[t.ID]; inMem {
					return
				}
				if purgeTicket(tx.e, t) {
					tx.batch.Tickets = append(tx.batch.Tickets, t)
					n++
				}
			})
			if err != nil {
				return nil, err
			}
		}
		for code, a := range tx.e.appointments {
			if a.Citizen != nil && a.Citizen.Hash == "" && a.Slot.Before(cutoff) {
				c := *a
				c.Citizen = &Citizen{Hash: tx.e.PersonKey(a.Citizen.FiscalCode)}
				tx.e.appointments[code] = &c
				tx.batch.Appointments = append(tx.batch.Appointments, &c)
				n++
			}
		}
		return n, nil
	})
	if err != nil {
		return 0, err
	}
	return v.(int), nil
}

var _ = fmt.Sprintf

// PastTickets is what a store offers the retention job beyond Store: the
// closed visits of past days, which the engine no longer keeps in memory.
type PastTickets interface {
	// ClosedTicketsBefore calls fn with each closed ticket that ended
	// before cutoff; fn may change it (the engine writes the changed ones).
	ClosedTicketsBefore(cutoff time.Time, fn func(t *Ticket)) error
}

// purgeTicket removes a closed visit's personal data (the citizen and the
// survey's free-text comment) and reports whether anything changed.
func purgeTicket(e *Engine, t *Ticket) bool {
	changed := false
	if t.Citizen != nil && (t.Citizen.FiscalCode != "" || t.Citizen.Name != "") {
		t.Citizen = &Citizen{Hash: e.PersonKey(t.Citizen.FiscalCode)}
		changed = true
	}
	if t.Rating != nil && t.Rating.Comment != "" {
		t.Rating.Comment = ""
		changed = true
	}
	return changed
}
