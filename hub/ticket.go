package hub

import "time"

// Status is where a ticket is in the visit lifecycle:
// waiting → called → serving → done, with no_show and cancelled as the
// other ends. "Issued" is the event that creates a waiting ticket.
type Status string

const (
	StatusWaiting   Status = "waiting"
	StatusCalled    Status = "called"
	StatusServing   Status = "serving"
	StatusDone      Status = "done"
	StatusNoShow    Status = "no_show"
	StatusCancelled Status = "cancelled"
)

// Closed reports whether the ticket's visit has ended.
func (s Status) Closed() bool {
	return s == StatusDone || s == StatusNoShow || s == StatusCancelled
}

// Priority is a priority category as Italian practice gives it. Staff see
// it; public screens and the live feed never do.
type Priority string

const (
	PriorityNone       Priority = "none"
	PriorityDisability Priority = "disability" // L.104/1992 art. 3 c. 3
	PriorityPregnancy  Priority = "pregnancy"
	PriorityElderly    Priority = "elderly"
	PriorityOther      Priority = "other"
)

// Priorities lists the categories in the order the totem offers them.
var Priorities = []Priority{PriorityNone, PriorityDisability, PriorityPregnancy, PriorityElderly, PriorityOther}

// Valid reports whether p is a known category.
func (p Priority) Valid() bool {
	for _, q := range Priorities {
		if p == q {
			return true
		}
	}
	return false
}

// Channel is how the visit reached the office.
type Channel string

const (
	ChannelTotem Channel = "totem"
	ChannelDesk  Channel = "desk"
	ChannelWeb   Channel = "web"
	ChannelPhone Channel = "phone"
)

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool {
	return c == ChannelTotem || c == ChannelDesk || c == ChannelWeb || c == ChannelPhone
}

// Step is one passage of a visit at a counter: a call, possibly a service,
// and how it ended. A visit with transfers has several.
type Step struct {
	Service    string     `json:"service"`
	Counter    string     `json:"counter"`
	CalledAt   time.Time  `json:"called_at"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	EndedAt    *time.Time `json:"ended_at,omitempty"`
	Recalls    int        `json:"recalls"`
	Outcome    string     `json:"outcome,omitempty"`
	EndedBy    string     `json:"ended_by,omitempty"` // finished, no_show, transferred, cancelled
	Delivered  []string   `json:"delivered,omitempty"`
	ClerkID    string     `json:"clerk,omitempty"`
	Notes      string     `json:"notes,omitempty"`
	TransferTo string     `json:"transfer_to,omitempty"`
}

// Ticket is a visit: a citizen's ticket from issue to its end, with every
// step at the counters. It is the hub's unit of state and the record the
// CzRM receives (its ID is the external id there).
type Ticket struct {
	ID      string   `json:"id"`
	Day     string   `json:"day"` // YYYY-MM-DD in the site's time zone
	Number  string   `json:"number"`
	Service string   `json:"service"`
	Status  Status   `json:"status"`
	Prio    Priority `json:"priority"`
	Channel Channel  `json:"channel"`
	// Arrival orders the queue; a transfer keeps it by default, so the
	// citizen does not lose their place.
	Arrival  time.Time  `json:"arrival"`
	IssuedAt time.Time  `json:"issued_at"`
	CalledAt *time.Time `json:"called_at"`
	Counter  string     `json:"counter,omitempty"`
	// Target restricts a waiting ticket to one counter or room (after a
	// transfer to a counter); empty means any counter serving Service.
	Target      string `json:"target,omitempty"`
	Appointment string `json:"appointment,omitempty"`
	// Slot is the appointment time, when the ticket checked in for one.
	Slot       *time.Time `json:"slot,omitempty"`
	Steps      []Step     `json:"steps,omitempty"`
	Delivered  []string   `json:"delivered,omitempty"`
	Outcome    string     `json:"outcome,omitempty"`
	Notes      string     `json:"notes,omitempty"`
	ClosedAt   *time.Time `json:"closed_at,omitempty"`
	TrackToken string     `json:"track_token"`
	// IssuedBy is the principal (device or user id) that issued it; a
	// totem's tickets are printed by that totem.
	IssuedBy string `json:"issued_by,omitempty"`
	Recalls  int    `json:"recalls"`
	// Print is the paper ticket's fate for tickets a totem prints:
	// pending, printed or failed (with PrintError). Empty: nothing to print.
	Print      PrintStatus `json:"print,omitempty"`
	PrintError string      `json:"print_error,omitempty"`
	// Parked marks a waiting ticket a clerk set aside to call back: only
	// that counter can call it, and only by name (call a specific ticket).
	Parked bool `json:"parked,omitempty"`
	// CaseID links the visit to an existing CzRM case ("send to
	// sportello" from a phone case), so the clerk sees it.
	CaseID string `json:"case_id,omitempty"`
	// Citizen, when the channel knows who is coming (personal data).
	Citizen *Citizen `json:"citizen,omitempty"`
	// Requested are services added to the visit beyond Service, so one
	// visit can cover several.
	Requested []string `json:"requested,omitempty"`
	// PrintAt is when the print job was (re)queued.
	PrintAt time.Time `json:"print_at,omitempty"`
	// Rating is the citizen's answer to the satisfaction survey, once the
	// visit is finished (see Engine.Rate).
	Rating *Rating `json:"rating,omitempty"`
}

// PrintStatus is where a totem's paper ticket is.
type PrintStatus string

const (
	PrintPending PrintStatus = "pending"
	PrintDone    PrintStatus = "printed"
	PrintFailed  PrintStatus = "failed"
)

// Clone returns a deep copy, so that callers never share slices with the
// engine's state.
func (t *Ticket) Clone() *Ticket {
	c := *t
	c.Steps = append([]Step(nil), t.Steps...)
	for i := range c.Steps {
		c.Steps[i].Delivered = append([]string(nil), t.Steps[i].Delivered...)
	}
	c.Delivered = append([]string(nil), t.Delivered...)
	c.Requested = append([]string(nil), t.Requested...)
	if t.Citizen != nil {
		cz := *t.Citizen
		c.Citizen = &cz
	}
	if t.Rating != nil {
		r := *t.Rating
		c.Rating = &r
	}
	return &c
}

// current returns the open step (the one being called or served), if any.
func (t *Ticket) current() *Step {
	if len(t.Steps) == 0 {
		return nil
	}
	s := &t.Steps[len(t.Steps)-1]
	if s.EndedAt != nil {
		return nil
	}
	return s
}

// CounterState is whether a counter is taking tickets.
type CounterState string

const (
	CounterClosed CounterState = "closed"
	CounterOpen   CounterState = "open"
	CounterPaused CounterState = "paused"
)

// Counter is the live state of a counter or room.
type Counter struct {
	ID       string       `json:"id"`
	Kind     CounterKind  `json:"kind"`
	Services []string     `json:"services"`
	State    CounterState `json:"state"`
	// Clerk is the user who opened it: only they act on it.
	Clerk  string    `json:"clerk,omitempty"`
	Ticket string    `json:"ticket,omitempty"` // current ticket id
	Since  time.Time `json:"since"`
	Reason string    `json:"reason,omitempty"`
}

func (c *Counter) serves(service string) bool {
	for _, s := range c.Services {
		if s == service {
			return true
		}
	}
	return false
}

// Clone returns a deep copy.
func (c *Counter) Clone() *Counter {
	d := *c
	d.Services = append([]string(nil), c.Services...)
	return &d
}

// Appointment is a booked slot; checking in at the totem turns it into a
// ticket that the policy calls near its slot.
type Appointment struct {
	Code string `json:"code"`
	// Kind is "slot" for a booked time, "virtual" for a place in the
	// queue taken from the web (the place counts from Slot).
	Kind    string `json:"kind"`
	Service string `json:"service"`
	// Slot is the booked time; for a virtual place, when it was taken
	// (the place counts from then).
	Slot     time.Time `json:"slot"`
	Status   string    `json:"status"` // booked, checked_in, cancelled
	TicketID string    `json:"ticket_id,omitempty"`
	Channel  Channel   `json:"channel"`
	Priority Priority  `json:"priority"`
	CaseID   string    `json:"case_id,omitempty"`
	// Citizen is who booked, when the channel knows: personal data, kept
	// only as long as needed (see Citizen).
	Citizen *Citizen `json:"citizen,omitempty"`
	// PersonKey is the keyed hash of the citizen's fiscal code: it counts
	// bookings per person without keeping the code.
	PersonKey string `json:"person_key,omitempty"`
}

// Citizen is the personal data a visit may carry: only where the visit
// needs it (a booking, a CzRM case), never on public screens or in logs.
// After delivery to the CzRM it is reduced to Hash.
type Citizen struct {
	FiscalCode string `json:"fiscal_code,omitempty"`
	Name       string `json:"name,omitempty"`
	// Hash is the keyed hash of the fiscal code, what remains after the
	// data is reduced.
	Hash string `json:"hash,omitempty"`
}
