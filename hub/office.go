package hub

import "time"

// OfficeState is what the engine knows about the office beyond the waiting
// tickets, as of the last commit: the counters, the typical service times
// learnt so far and the bookings not yet checked in. Policies and
// estimators that want it implement OfficeObserver.
type OfficeState struct {
	Now      time.Time
	Counters []*Counter
	// ServiceTime is the current mean service time per service.
	ServiceTime map[string]time.Duration
	// Promised is, per waiting ticket, when its first estimate said it
	// would be called.
	Promised map[string]time.Time
	// Waiting are the waiting tickets, by arrival.
	Waiting []*Ticket
	booked  func() []*Appointment
}

// Booked returns the day's slot bookings not yet checked in, by slot and
// service. It is computed on first use: most callers never need it.
func (s OfficeState) Booked() []*Appointment {
	if s.booked == nil {
		return nil
	}
	return s.booked()
}

// OfficeObserver is told the office state after every commit, before the
// queue is ordered, so that its next Order and Pick can use it.
type OfficeObserver interface {
	Observe(OfficeState)
}

// Skills counts, per service, the open counters (not paused or closed)
// that serve it: a service few counters can serve should go to them first.
func (s OfficeState) Skills() map[string]int {
	out := map[string]int{}
	for _, c := range s.Counters {
		if c.State != CounterOpen {
			continue
		}
		for _, sv := range c.Services {
			out[sv]++
		}
	}
	return out
}
