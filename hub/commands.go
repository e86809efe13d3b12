package hub

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"strings"
	"time"
)

// IssueRequest asks for a new ticket.
type IssueRequest struct {
	Service     string
	Priority    Priority
	Channel     Channel
	Appointment string
	// IdemKey makes a retried request return the first ticket; it is
	// scoped to the principal.
	IdemKey string
	// By is the principal issuing it (device or user id).
	By string
	// Print asks the issuing totem's agent to print the ticket.
	Print bool
	// CaseID links the visit to an existing CzRM case (phone channel:
	// "send to sportello").
	CaseID string
	// Citizen, when the channel knows who is coming.
	Citizen *Citizen
}

// Issue creates a waiting ticket. created is false when an idempotency key
// matched an earlier ticket, which is returned instead.
func (e *Engine) Issue(ctx context.Context, r IssueRequest) (t *Ticket, created bool, err error) {
	cz, err := normCitizen(r.Citizen)
	if err != nil {
		return nil, false, err
	}
	r.Citizen = cz
	if len(r.CaseID) > 64 {
		return nil, false, FieldError("invalid_case_id", "case_id", "a case id is at most 64 characters")
	}
	v, err := e.do(ctx, r.By, func(tx *txn) (any, error) { return tx.issue(r) })
	if err != nil {
		return nil, false, err
	}
	res := v.(issued)
	return res.t, res.created, nil
}

type issued struct {
	t       *Ticket
	created bool
}

func (tx *txn) issue(r IssueRequest) (any, error) {
	e := tx.e
	idemKey := ""
	if r.IdemKey != "" {
		idemKey = r.By + "\x00" + r.IdemKey
		if rec, ok := e.idem[idemKey]; ok && tx.now.Sub(rec.At) < e.cfg.IdemTTL {
			if t, ok := e.tickets[rec.TicketID]; ok {
				return issued{t: t.Clone(), created: false}, nil
			}
			if t, err := e.store.Ticket(rec.TicketID); err == nil {
				return issued{t: t, created: false}, nil
			}
		}
	}
	if r.Priority == "" {
		r.Priority = PriorityNone
	}
	if !r.Priority.Valid() {
		return nil, FieldError("invalid_priority", "priority", "unknown priority %q", r.Priority)
	}
	if r.Channel == "" {
		r.Channel = ChannelTotem
	}
	if !r.Channel.Valid() {
		return nil, FieldError("invalid_channel", "channel", "unknown channel %q", r.Channel)
	}
	var appt *Appointment
	if r.Appointment != "" {
		a, ok := e.appointments[r.Appointment]
		if !ok || a.Status == "cancelled" {
			return nil, &Error{Kind: KindNotFound, Code: ErrAppointmentNotFound.Code, Field: "appointment", Message: fmt.Sprintf("no appointment %q", r.Appointment)}
		}
		if a.Status == "checked_in" {
			if t, ok := e.tickets[a.TicketID]; ok {
				return issued{t: t.Clone(), created: false}, nil
			}
			return nil, Errorf(KindConflict, "appointment_used", "the appointment was already checked in")
		}
		if r.Service == "" {
			r.Service = a.Service
		}
		if r.Service != a.Service {
			return nil, FieldError("appointment_service_mismatch", "service", "the appointment is for service %q", a.Service)
		}
		if r.Priority == PriorityNone {
			r.Priority = a.Priority
		}
		appt = a
	}
	svc, ok := e.site.Service(r.Service)
	if !ok {
		return nil, unknownService("service", r.Service)
	}
	// A booked citizen is served even if the service was switched off
	// after the booking, and keeps the booking's priority.
	if appt == nil {
		if svc.Inactive {
			return nil, serviceInactive("service", svc.ID)
		}
		if svc.NoPriority && r.Priority != PriorityNone {
			return nil, FieldError("priority_not_offered", "priority", "service %q takes no priority categories", svc.ID)
		}
	}
	day := e.day(tx.now)
	nkey := day + "/" + svc.Prefix
	n := e.numbers[nkey] + 1
	number := fmt.Sprintf("%s%03d", svc.Prefix, n)
	t := &Ticket{
		ID:         fmt.Sprintf("%s-%s-%s", e.site.ID, strings.ReplaceAll(day, "-", ""), number),
		Day:        day,
		Number:     number,
		Service:    svc.ID,
		Status:     StatusWaiting,
		Prio:       r.Priority,
		Channel:    r.Channel,
		Arrival:    tx.now,
		IssuedAt:   tx.now,
		TrackToken: newToken(),
		IssuedBy:   r.By,
	}
	if r.Print {
		t.Print, t.PrintAt = PrintPending, tx.now
	}
	t.CaseID, t.Citizen = r.CaseID, r.Citizen
	if appt != nil {
		t.Appointment = appt.Code
		if appt.Kind == "virtual" {
			// A place taken from the web keeps its position for a while.
			if tx.now.Sub(appt.Slot) <= e.cfg.Booking.VirtualKeep {
				t.Arrival = appt.Slot
			}
		} else {
			slot := appt.Slot
			t.Slot = &slot
		}
		if t.CaseID == "" {
			t.CaseID = appt.CaseID
		}
		if t.Citizen == nil && appt.Citizen != nil {
			cz := *appt.Citizen
			t.Citizen = &cz
		}
		a := *appt
		a.Status = "checked_in"
		a.TicketID = t.ID
		e.appointments[a.Code] = &a
		tx.batch.Appointments = append(tx.batch.Appointments, &a)
	}
	e.numbers[nkey] = n
	tx.batch.Numbers[nkey] = n
	if idemKey != "" {
		rec := IdemRecord{Key: idemKey, TicketID: t.ID, At: tx.now}
		e.idem[idemKey] = rec
		tx.batch.Idem = append(tx.batch.Idem, rec)
	}
	tx.ticketEvent(EventTicketIssued, t)
	return issued{t: t.Clone(), created: true}, nil
}

// newToken returns 130 random bits in base32: the unguessable part of a
// ticket's tracking link.
func newToken() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return strings.ToLower(strings.TrimRight(base32.StdEncoding.EncodeToString(b), "="))
}

// counterFor checks that clerk holds the counter.
func (tx *txn) counterFor(id, clerk string) (*Counter, error) {
	c, ok := tx.e.counters[id]
	if !ok {
		return nil, ErrCounterNotFound
	}
	if c.State == CounterClosed {
		return nil, ErrCounterClosed
	}
	if c.Clerk != clerk {
		return nil, ErrNotAtCounter
	}
	return c, nil
}

// OpenCounter lets clerk take the counter. Reopening one's own counter (or
// resuming it from a pause) is allowed; taking another clerk's is not.
func (e *Engine) OpenCounter(ctx context.Context, id, clerk string) (*Counter, error) {
	v, err := e.do(ctx, clerk, func(tx *txn) (any, error) {
		c, ok := tx.e.counters[id]
		if !ok {
			return nil, ErrCounterNotFound
		}
		if c.State != CounterClosed && c.Clerk != clerk {
			return nil, ErrNotAtCounter
		}
		if c.State == CounterOpen {
			return c.Clone(), nil
		}
		for _, other := range tx.e.counters {
			if other.ID != id && other.State != CounterClosed && other.Clerk == clerk {
				return nil, Errorf(KindConflict, "clerk_elsewhere", "you already hold counter %s: close it first", other.ID)
			}
		}
		c.State, c.Clerk, c.Since, c.Reason = CounterOpen, clerk, tx.now, ""
		tx.putCounter(c)
		tx.emit(EventCounterOpened, EventData{Counter: c.ID, Kind: string(c.Kind), State: string(c.State), Clerk: clerk})
		return c.Clone(), nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Counter), nil
}

// PauseCounter stops calls to the counter for a reason (break, back office).
func (e *Engine) PauseCounter(ctx context.Context, id, clerk, reason string) (*Counter, error) {
	v, err := e.do(ctx, clerk, func(tx *txn) (any, error) {
		c, err := tx.counterFor(id, clerk)
		if err != nil {
			return nil, err
		}
		c.State, c.Since, c.Reason = CounterPaused, tx.now, reason
		tx.putCounter(c)
		tx.emit(EventCounterPaused, EventData{Counter: c.ID, Kind: string(c.Kind), State: string(c.State), Clerk: clerk, Reason: reason})
		return c.Clone(), nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Counter), nil
}

// CloseCounter lets the clerk leave the counter. A counter with a current
// ticket cannot be closed: the citizen would be left standing there.
func (e *Engine) CloseCounter(ctx context.Context, id, clerk string) (*Counter, error) {
	v, err := e.do(ctx, clerk, func(tx *txn) (any, error) {
		c, err := tx.counterFor(id, clerk)
		if err != nil {
			return nil, err
		}
		if c.Ticket != "" {
			return nil, ErrCounterBusy
		}
		c.State, c.Clerk, c.Since, c.Reason = CounterClosed, "", tx.now, ""
		tx.putCounter(c)
		tx.emit(EventCounterClosed, EventData{Counter: c.ID, Kind: string(c.Kind), State: string(c.State), Clerk: clerk})
		return c.Clone(), nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Counter), nil
}

// Eligible reports whether counter c may serve waiting ticket t.
func Eligible(c *Counter, t *Ticket) bool {
	if t.Parked {
		return false // only called back by name
	}
	if t.Target != "" {
		return t.Target == c.ID
	}
	return c.serves(t.Service)
}

// CallNext calls the ticket the policy picks among those the counter may
// serve. It returns nil when nothing is eligible. Exactly-once holds
// because the only writer moves the ticket from waiting to called and
// commits before anyone can see it.
func (e *Engine) CallNext(ctx context.Context, counterID, clerk string) (*Ticket, error) {
	v, err := e.do(ctx, clerk, func(tx *txn) (any, error) {
		c, err := tx.idleCounter(counterID, clerk)
		if err != nil {
			return nil, err
		}
		var eligible []*Ticket
		for _, t := range tx.e.waiting {
			if Eligible(c, t) {
				eligible = append(eligible, t)
			}
		}
		if len(eligible) == 0 {
			return (*Ticket)(nil), nil
		}
		t := tx.e.policy.Pick(tx.now, c, eligible)
		if t == nil {
			return (*Ticket)(nil), nil
		}
		return tx.call(c, t, clerk), nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Ticket), nil
}

// CallTicket calls one specific waiting ticket out of order (a clerk who
// sees the citizen at the counter, or an urgent case).
func (e *Engine) CallTicket(ctx context.Context, counterID, clerk, ticketID string) (*Ticket, error) {
	v, err := e.do(ctx, clerk, func(tx *txn) (any, error) {
		c, err := tx.idleCounter(counterID, clerk)
		if err != nil {
			return nil, err
		}
		t, ok := tx.e.tickets[ticketID]
		if !ok {
			return nil, ErrTicketNotFound
		}
		if t.Status != StatusWaiting {
			return nil, Errorf(KindConflict, "ticket_not_waiting", "ticket %s is %s", t.Number, t.Status)
		}
		if t.Parked && t.Target != c.ID {
			return nil, Errorf(KindConflict, "not_eligible", "ticket %s is parked at counter %s", t.Number, t.Target)
		}
		if !t.Parked && !Eligible(c, t) {
			return nil, Errorf(KindConflict, "not_eligible", "counter %s does not serve ticket %s", c.ID, t.Number)
		}
		return tx.call(c, t, clerk), nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Ticket), nil
}

// idleCounter is a counter the clerk holds, open (not paused) and with no
// current ticket: one that may call.
func (tx *txn) idleCounter(id, clerk string) (*Counter, error) {
	c, err := tx.counterFor(id, clerk)
	if err != nil {
		return nil, err
	}
	if c.State != CounterOpen {
		return nil, ErrCounterClosed
	}
	if c.Ticket != "" {
		return nil, ErrCounterBusy
	}
	return c, nil
}

func (tx *txn) call(c *Counter, t *Ticket, clerk string) *Ticket {
	now := tx.now
	t.Status = StatusCalled
	t.CalledAt = &now
	t.Counter = c.ID
	t.Target = ""
	t.Parked = false
	t.Steps = append(t.Steps, Step{Service: t.Service, Counter: c.ID, CalledAt: now, ClerkID: clerk})
	c.Ticket = t.ID
	tx.putCounter(c)
	tx.ticketEvent(EventTicketCalled, t)
	return t.Clone()
}

// current returns the counter held by clerk and its current ticket.
func (tx *txn) current(counterID, clerk string) (*Counter, *Ticket, error) {
	c, err := tx.counterFor(counterID, clerk)
	if err != nil {
		return nil, nil, err
	}
	t, ok := tx.e.tickets[c.Ticket]
	if c.Ticket == "" || !ok {
		return nil, nil, ErrNoCurrentTicket
	}
	return c, t, nil
}

// Recall calls the current ticket again. After AutoNoShowRecalls recalls
// the next one marks the ticket as a no-show instead.
func (e *Engine) Recall(ctx context.Context, counterID, clerk string) (*Ticket, error) {
	return e.counterAction(ctx, counterID, clerk, func(tx *txn, c *Counter, t *Ticket) (*Ticket, error) {
		if t.Status != StatusCalled {
			return nil, Errorf(KindConflict, "ticket_not_called", "ticket %s is %s: only a called ticket can be recalled", t.Number, t.Status)
		}
		s := t.current()
		if n := tx.e.cfg.AutoNoShowRecalls; n > 0 && s.Recalls >= n {
			return tx.end(c, t, StatusNoShow, "no_show", "", nil, ""), nil
		}
		s.Recalls++
		t.Recalls++
		tx.ticketEvent(EventTicketRecalled, t)
		return t.Clone(), nil
	})
}

// Start marks the beginning of the service of the current ticket.
func (e *Engine) Start(ctx context.Context, counterID, clerk string) (*Ticket, error) {
	return e.counterAction(ctx, counterID, clerk, func(tx *txn, c *Counter, t *Ticket) (*Ticket, error) {
		if t.Status != StatusCalled {
			return nil, Errorf(KindConflict, "ticket_not_called", "ticket %s is %s", t.Number, t.Status)
		}
		now := tx.now
		t.Status = StatusServing
		t.current().StartedAt = &now
		tx.ticketEvent(EventTicketStarted, t)
		return t.Clone(), nil
	})
}

// FinishRequest closes the service of the current ticket.
type FinishRequest struct {
	Outcome string
	// Services are the services delivered in this visit step (defaults to
	// the ticket's service): one visit can cover several.
	Services []string
	Notes    string
}

// Finish ends the service of the current ticket.
func (e *Engine) Finish(ctx context.Context, counterID, clerk string, r FinishRequest) (*Ticket, error) {
	return e.counterAction(ctx, counterID, clerk, func(tx *txn, c *Counter, t *Ticket) (*Ticket, error) {
		if t.Status != StatusServing && t.Status != StatusCalled {
			return nil, Errorf(KindConflict, "ticket_not_served", "ticket %s is %s", t.Number, t.Status)
		}
		for i, s := range r.Services {
			if _, ok := tx.e.site.Service(s); !ok {
				return nil, unknownService(fmt.Sprintf("services[%d]", i), s)
			}
		}
		if len(r.Outcome) > 64 {
			return nil, FieldError("invalid_outcome", "outcome", "an outcome code is at most 64 characters")
		}
		if len(r.Notes) > 2000 {
			return nil, FieldError("invalid_notes", "notes", "notes are at most 2000 characters")
		}
		delivered := r.Services
		if len(delivered) == 0 {
			delivered = []string{t.Service}
		}
		return tx.end(c, t, StatusDone, "finished", r.Outcome, delivered, r.Notes), nil
	})
}

// NoShow records that the called citizen did not come.
func (e *Engine) NoShow(ctx context.Context, counterID, clerk string) (*Ticket, error) {
	return e.counterAction(ctx, counterID, clerk, func(tx *txn, c *Counter, t *Ticket) (*Ticket, error) {
		if t.Status != StatusCalled {
			return nil, Errorf(KindConflict, "ticket_not_called", "ticket %s is %s: a citizen being served is not a no-show", t.Number, t.Status)
		}
		return tx.end(c, t, StatusNoShow, "no_show", "", nil, ""), nil
	})
}

// end closes the current step and the visit.
func (tx *txn) end(c *Counter, t *Ticket, status Status, endedBy, outcome string, delivered []string, notes string) *Ticket {
	now := tx.now
	s := t.current()
	s.EndedAt = &now
	s.EndedBy = endedBy
	s.Outcome = outcome
	s.Delivered = append([]string(nil), delivered...)
	s.Notes = notes
	t.Status = status
	t.Outcome = outcome
	if notes != "" {
		t.Notes = notes
	}
	t.Delivered = append(t.Delivered, delivered...)
	t.ClosedAt = &now
	c.Ticket = ""
	tx.putCounter(c)
	typ := EventTicketFinished
	if status == StatusNoShow {
		typ = EventTicketNoShow
	}
	tx.e.stats.observe(t)
	tx.ticketEvent(typ, t)
	return t.Clone()
}

// TransferRequest sends the current ticket back to waiting for another
// service, or for one counter or room.
type TransferRequest struct {
	Service string
	Counter string
	// Back puts the ticket at the back of the queue; by default it keeps
	// its original arrival time.
	Back  bool
	Notes string
}

// Transfer moves the current ticket to another service, counter or room.
func (e *Engine) Transfer(ctx context.Context, counterID, clerk string, r TransferRequest) (*Ticket, error) {
	return e.counterAction(ctx, counterID, clerk, func(tx *txn, c *Counter, t *Ticket) (*Ticket, error) {
		if (r.Service == "") == (r.Counter == "") {
			return nil, FieldError("invalid_transfer", "service", "give either service or counter")
		}
		target := ""
		service := t.Service
		if r.Service != "" {
			if _, ok := tx.e.site.Service(r.Service); !ok {
				return nil, unknownService("service", r.Service)
			}
			service = r.Service
		} else {
			dst, ok := tx.e.counters[r.Counter]
			if !ok {
				return nil, &Error{Kind: KindNotFound, Code: ErrCounterNotFound.Code, Field: "counter", Message: fmt.Sprintf("no counter or room %q", r.Counter)}
			}
			if dst.ID == c.ID {
				return nil, FieldError("invalid_transfer", "counter", "the ticket is already at counter %s", c.ID)
			}
			target = dst.ID
			if !dst.serves(service) && len(dst.Services) > 0 {
				// A room takes the citizen for its own service.
				service = dst.Services[0]
			}
		}
		now := tx.now
		from := t.Counter
		fromService := t.Service
		s := t.current()
		s.EndedAt = &now
		s.EndedBy = "transferred"
		s.TransferTo = firstNonEmpty(r.Counter, r.Service)
		s.Notes = r.Notes
		t.Status = StatusWaiting
		t.Service = service
		t.Target = target
		t.Counter = ""
		t.CalledAt = nil
		t.Slot = nil
		if r.Back {
			t.Arrival = now
		}
		c.Ticket = ""
		tx.putCounter(c)
		d := EventData{TicketID: t.ID, Number: t.Number, Service: t.Service, Counter: target, Status: t.Status, Channel: string(t.Channel), Priority: t.Prio, FromService: fromService, FromCounter: from}
		if target != "" {
			d.Kind = string(tx.e.counters[target].Kind)
		}
		ev := tx.emit(EventTicketTransferred, d)
		tx.putTicket(t, &ev)
		return t.Clone(), nil
	})
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (e *Engine) counterAction(ctx context.Context, counterID, clerk string, fn func(tx *txn, c *Counter, t *Ticket) (*Ticket, error)) (*Ticket, error) {
	v, err := e.do(ctx, clerk, func(tx *txn) (any, error) {
		c, t, err := tx.current(counterID, clerk)
		if err != nil {
			return nil, err
		}
		return fn(tx, c, t)
	})
	if err != nil {
		return nil, err
	}
	return v.(*Ticket), nil
}

// Cancel ends a waiting or called ticket (the citizen left the queue, or a
// clerk cancelled it).
func (e *Engine) Cancel(ctx context.Context, ticketID, by string) (*Ticket, error) {
	v, err := e.do(ctx, by, func(tx *txn) (any, error) {
		t, ok := tx.e.tickets[ticketID]
		if !ok {
			return nil, ErrTicketNotFound
		}
		if t.Status != StatusWaiting && t.Status != StatusCalled {
			return nil, Errorf(KindConflict, "ticket_not_cancellable", "ticket %s is %s", t.Number, t.Status)
		}
		now := tx.now
		if s := t.current(); s != nil {
			s.EndedAt = &now
			s.EndedBy = "cancelled"
			if c, ok := tx.e.counters[t.Counter]; ok && c.Ticket == t.ID {
				c.Ticket = ""
				tx.putCounter(c)
			}
		}
		t.Status = StatusCancelled
		t.ClosedAt = &now
		tx.ticketEvent(EventTicketCancelled, t)
		return t.Clone(), nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Ticket), nil
}

// BookRequest books an appointment slot.
type BookRequest struct {
	// Strict makes the booking follow the channels' rules: the slot must
	// be one of Slots and not full. Without it (staff creating an
	// appointment by hand) any future time is accepted.
	Strict  bool
	Citizen *Citizen
	// By is who books (an agent of the contact center, the web portal).
	By       string
	Service  string
	Slot     time.Time
	Channel  Channel
	Priority Priority
	CaseID   string
}

// Book creates an appointment and returns it with its booking code.
func (e *Engine) Book(ctx context.Context, r BookRequest) (*Appointment, error) {
	cz, err := normCitizen(r.Citizen)
	if err != nil {
		return nil, err
	}
	if len(r.CaseID) > 64 {
		return nil, FieldError("invalid_case_id", "case_id", "a case id is at most 64 characters")
	}
	v, err := e.do(ctx, r.By, func(tx *txn) (any, error) {
		if err := tx.e.site.bookable(r.Service); err != nil {
			return nil, err
		}
		if r.Slot.IsZero() {
			return nil, FieldError("invalid_slot", "slot", "slot is required")
		}
		if r.Channel == "" {
			r.Channel = ChannelWeb
		}
		if !r.Channel.Valid() {
			return nil, FieldError("invalid_channel", "channel", "unknown channel %q", r.Channel)
		}
		if r.Priority == "" {
			r.Priority = PriorityNone
		}
		if !r.Priority.Valid() {
			return nil, FieldError("invalid_priority", "priority", "unknown priority %q", r.Priority)
		}
		if sv, _ := tx.e.site.Service(r.Service); sv.NoPriority && r.Priority != PriorityNone {
			return nil, FieldError("priority_not_offered", "priority", "service %q takes no priority categories", sv.ID)
		}
		if r.Strict {
			if err := tx.checkSlot(r.Service, r.Slot, r.Priority); err != nil {
				return nil, err
			}
		}
		a := &Appointment{Code: tx.newCode(), Kind: "slot", Service: r.Service, Slot: r.Slot.In(tx.e.loc), Status: "booked", Channel: r.Channel, Priority: r.Priority, CaseID: r.CaseID, Citizen: cz}
		if cz != nil {
			a.PersonKey = tx.e.PersonKey(cz.FiscalCode)
		}
		tx.e.appointments[a.Code] = a
		tx.batch.Appointments = append(tx.batch.Appointments, a)
		tx.emit(EventAppointmentBooked, EventData{Service: r.Service, Appointment: a.Code, Channel: string(r.Channel)})
		c := *a
		return &c, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Appointment), nil
}

// bookingCode is short enough to type at a totem and has no look-alike
// letters (no 0/O, 1/I/L).
func bookingCode() string {
	const alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// serviceInactive is the error for a new ticket or booking of a service
// an admin switched off.
func serviceInactive(field, id string) *Error {
	return &Error{Kind: KindConflict, Code: "service_inactive", Field: field, Message: fmt.Sprintf("service %q takes no new tickets or bookings today", id)}
}

// bookable finds a service that takes new bookings.
func (s *Site) bookable(id string) error {
	sv, ok := s.Service(id)
	if !ok {
		return unknownService("service", id)
	}
	if sv.Inactive {
		return serviceInactive("service", id)
	}
	return nil
}

// unknownService is the not-found error for a service named in a body.
func unknownService(field, id string) *Error {
	return &Error{Kind: KindNotFound, Code: ErrServiceNotFound.Code, Field: field, Message: fmt.Sprintf("no service %q", id)}
}
