package hub

import (
	"sort"
	"time"
)

// TicketView is a ticket with what the queue says about it right now.
type TicketView struct {
	Ticket   *Ticket
	Position int // 0 when not waiting
	EWT      time.Duration
}

func (e *Engine) viewLocked(t *Ticket) TicketView {
	v := TicketView{Ticket: t.Clone()}
	if t.Status == StatusWaiting && e.view != nil {
		v.Position = e.view.position[t.ID]
		v.EWT = e.view.estimate(t)
	}
	return v
}

// Ticket returns a ticket by id, from memory or, for past days, the store.
func (e *Engine) Ticket(id string) (TicketView, error) {
	e.mu.RLock()
	t, ok := e.tickets[id]
	if ok {
		v := e.viewLocked(t)
		e.mu.RUnlock()
		return v, nil
	}
	e.mu.RUnlock()
	st, err := e.store.Ticket(id)
	if err != nil {
		return TicketView{}, err
	}
	return TicketView{Ticket: st}, nil
}

// TicketByToken returns the ticket a tracking link points to.
func (e *Engine) TicketByToken(token string) (TicketView, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	id, ok := e.byToken[token]
	if !ok {
		return TicketView{}, ErrTicketNotFound
	}
	return e.viewLocked(e.tickets[id]), nil
}

// TicketFilter selects tickets for listings.
type TicketFilter struct {
	Status  Status
	Service string
	Counter string // waiting tickets this counter may serve
}

// Tickets lists today's tickets (and older open ones) matching f, waiting
// ones in policy order first.
func (e *Engine) Tickets(f TicketFilter) []TicketView {
	e.mu.RLock()
	defer e.mu.RUnlock()
	var c *Counter
	if f.Counter != "" {
		c = e.counters[f.Counter]
	}
	var out []TicketView
	for _, t := range e.tickets {
		if f.Status != "" && t.Status != f.Status {
			continue
		}
		if f.Service != "" && t.Service != f.Service {
			continue
		}
		if f.Counter != "" && (c == nil || t.Status != StatusWaiting || !Eligible(c, t)) {
			continue
		}
		out = append(out, e.viewLocked(t))
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if (a.Position > 0) != (b.Position > 0) {
			return a.Position > 0
		}
		if a.Position > 0 && a.Ticket.Service == b.Ticket.Service && a.Position != b.Position {
			return a.Position < b.Position
		}
		if a.EWT != b.EWT {
			return a.EWT < b.EWT
		}
		return a.Ticket.IssuedAt.Before(b.Ticket.IssuedAt)
	})
	return out
}

// Counters returns the live state of every counter and room in site order,
// each with its current ticket.
func (e *Engine) Counters() []CounterView {
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make([]CounterView, 0, len(e.counters))
	for _, def := range e.site.Counters {
		out = append(out, e.counterViewLocked(e.counters[def.ID]))
	}
	return out
}

// CounterView is a counter with its current ticket.
type CounterView struct {
	Counter *Counter
	Ticket  *TicketView
}

func (e *Engine) counterViewLocked(c *Counter) CounterView {
	v := CounterView{Counter: c.Clone()}
	if t, ok := e.tickets[c.Ticket]; ok && c.Ticket != "" {
		tv := e.viewLocked(t)
		v.Ticket = &tv
	}
	return v
}

// Counter returns one counter.
func (e *Engine) Counter(id string) (CounterView, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	c, ok := e.counters[id]
	if !ok {
		return CounterView{}, ErrCounterNotFound
	}
	return e.counterViewLocked(c), nil
}

// Queue returns one entry per service, in catalogue order.
func (e *Engine) Queue() []QueueEntry {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.view.entries(e.site)
}

// Appointment returns a booked appointment by code.
func (e *Engine) Appointment(code string) (*Appointment, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	a, ok := e.appointments[code]
	if !ok {
		return nil, ErrAppointmentNotFound
	}
	c := *a
	return &c, nil
}

// Stats are counters for /metrics.
type Stats struct {
	LastSeq     uint64
	ByStatus    map[Status]int
	Queue       []QueueEntry
	OpenDesks   int
	Subscribers int
}

// Stats returns figures for monitoring.
func (e *Engine) Stats() Stats {
	e.mu.RLock()
	defer e.mu.RUnlock()
	s := Stats{LastSeq: e.lastSeq, ByStatus: map[Status]int{}, Queue: e.view.entries(e.site), Subscribers: e.feed.Len()}
	for _, t := range e.tickets {
		s.ByStatus[t.Status]++
	}
	for _, c := range e.counters {
		if c.State == CounterOpen {
			s.OpenDesks++
		}
	}
	return s
}
