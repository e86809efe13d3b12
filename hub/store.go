package hub

import (
	"io"
	"time"
)

// Batch is everything one store transaction writes: the events, the new
// state of what they touched, the CzRM outbox records and the idempotency
// keys. The engine commits one batch per group of commands; the store
// writes it atomically or not at all.
type Batch struct {
	Events       []Event
	Tickets      []*Ticket
	Counters     []*Counter
	Appointments []*Appointment
	// Numbers holds the last number issued per "day/prefix".
	Numbers map[string]int
	Idem    []IdemRecord
	Outbox  []OutboxRecord
	Reports []*Report
	// Notice, when set, is the new information line of the screens.
	Notice *Text
	// Catalogue, when set, is the whole new catalogue of the admin pages.
	Catalogue *Catalogue
	// Users, Devices and EndSessionsOf are the admin's account changes:
	// written with their audit events, and the sessions of those users
	// deleted in the same transaction (a changed role or password must
	// not outlive its old sessions).
	Users         []*User
	Devices       []*Device
	EndSessionsOf []string
}

// Empty reports whether the batch writes nothing.
func (b *Batch) Empty() bool {
	return len(b.Events) == 0 && len(b.Tickets) == 0 && len(b.Counters) == 0 &&
		len(b.Appointments) == 0 && len(b.Numbers) == 0 && len(b.Idem) == 0 && len(b.Outbox) == 0 && len(b.Reports) == 0 && b.Notice == nil &&
		b.Catalogue == nil && len(b.Users) == 0 && len(b.Devices) == 0 && len(b.EndSessionsOf) == 0
}

// IdemRecord maps a client's idempotency key to the ticket it created.
type IdemRecord struct {
	Key      string `json:"key"`
	TicketID string `json:"ticket_id,omitempty"`
	// Report is the protocol number of a report filed with the key.
	Report string    `json:"report,omitempty"`
	At     time.Time `json:"at"`
}

// OutboxRecord is a visit change waiting to reach the CzRM. It is written in
// the same transaction as the change, so no visit is lost between the two.
type OutboxRecord struct {
	TicketID string    `json:"ticket_id"`
	EventSeq uint64    `json:"event_seq"`
	Type     string    `json:"type"`
	At       time.Time `json:"at"`
	Ticket   *Ticket   `json:"ticket,omitempty"`
	Report   *Report   `json:"report,omitempty"`
}

// State is what the store gives back at start to rebuild the engine.
type State struct {
	LastSeq      uint64
	Tickets      []*Ticket // today's tickets and every one not yet closed
	Counters     []*Counter
	Appointments []*Appointment
	Numbers      map[string]int
	Idem         []IdemRecord
	RecentCalls  []Event
	Notice       Text
	// Catalogue is what the admin pages changed in the site (nil: none).
	Catalogue *Catalogue
}

// Store is the durable side of the engine. The bbolt implementation lives
// in hub/boltstore; the engine only knows this interface.
type Store interface {
	// Load reads the state to rebuild the engine on day (YYYY-MM-DD).
	Load(day string) (*State, error)
	// Commit writes a batch in one transaction with a real fsync.
	Commit(b *Batch) error
	// EventsSince returns the events with seq > since, at most limit of
	// them; ok is false when events after since were already pruned.
	EventsSince(since uint64, limit int) (events []Event, ok bool, err error)
	// Ticket reads one ticket by id (also from past days).
	Ticket(id string) (*Ticket, error)
	// Report reads one report by protocol number.
	Report(protocol string) (*Report, error)
	// WriteBackup writes a consistent copy of the whole store.
	WriteBackup(w io.Writer) (int64, error)
}
