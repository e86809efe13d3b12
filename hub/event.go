package hub

import "time"

// Event types. They are part of the public contract of the live feed.
const (
	EventSnapshot             = "snapshot"
	EventTicketIssued         = "ticket.issued"
	EventTicketCalled         = "ticket.called"
	EventTicketRecalled       = "ticket.recalled"
	EventTicketStarted        = "ticket.started"
	EventTicketFinished       = "ticket.finished"
	EventTicketNoShow         = "ticket.no_show"
	EventTicketTransferred    = "ticket.transferred"
	EventTicketCancelled      = "ticket.cancelled"
	EventCounterOpened        = "counter.opened"
	EventCounterClosed        = "counter.closed"
	EventCounterPaused        = "counter.paused"
	EventAppointmentBooked    = "appointment.booked"
	EventAppointmentCancelled = "appointment.cancelled"
	EventTicketPrinted        = "ticket.printed"
	EventTicketPrintFailed    = "ticket.print_failed"
	EventTicketReprint        = "ticket.reprint"
	EventTotemHelp            = "totem.help"
	EventReportFiled          = "report.filed"
	EventReportDelivered      = "report.delivered"
	EventNoticeChanged        = "notice.changed"
	EventTicketParked         = "ticket.parked"
	EventTicketUpdated        = "ticket.updated"
	EventCounterUpdated       = "counter.updated"
	EventDayClosed            = "day.closed"
)

// Event is one committed state change. It is stored in full (staff need the
// priority and the clerk); Public() is what the public live feed carries.
type Event struct {
	Seq  uint64    `json:"seq"`
	Type string    `json:"type"`
	At   time.Time `json:"at"`
	Data EventData `json:"data"`
}

// EventData is the payload of an event. Fields are omitted when empty.
type EventData struct {
	TicketID string `json:"ticket_id,omitempty"`
	Number   string `json:"number,omitempty"`
	Service  string `json:"service,omitempty"`
	Counter  string `json:"counter,omitempty"`
	Kind     string `json:"kind,omitempty"` // counter or room, for announcements
	Status   Status `json:"status,omitempty"`
	Channel  string `json:"channel,omitempty"`
	// Recall counts how many times the current call was repeated.
	Recall int `json:"recall,omitempty"`
	// FromService/FromCounter are where a transferred ticket came from.
	FromService string `json:"from_service,omitempty"`
	FromCounter string `json:"from_counter,omitempty"`
	State       string `json:"state,omitempty"`
	// Totem is the totem of print and help events.
	Totem string `json:"totem,omitempty"`
	// Notice is the information line of the screens (notice.changed).
	Notice *Text `json:"notice,omitempty"`
	// Queue is the queue of the ticket's service after the change.
	Queue *QueueEntry `json:"queue,omitempty"`
	// Private fields: never on the public feed.
	// Actor is who caused the event (a username or a device id): the
	// audit trail.
	Actor       string   `json:"actor,omitempty"`
	Priority    Priority `json:"priority,omitempty"`
	Clerk       string   `json:"clerk,omitempty"`
	Outcome     string   `json:"outcome,omitempty"`
	Appointment string   `json:"appointment,omitempty"`
	Reason      string   `json:"reason,omitempty"`
	// User and Device are the account an admin changed (user.*,
	// device.enrolled); Reason then says what changed.
	User   string `json:"user,omitempty"`
	Device string `json:"device,omitempty"`
	// Score is a satisfaction rating (ticket.rated, a private event).
	Score int `json:"score,omitempty"`
	// Slot is the appointment time of a ticket checked in for one: the
	// reports measure punctuality from it.
	Slot *time.Time `json:"slot,omitempty"`
}

// Public strips everything a waiting-room screen must never see: priority
// categories, clerks, outcomes, appointment codes and internal ids.
func (e Event) Public() Event {
	d := e.Data
	d.TicketID = ""
	d.Actor = ""
	d.Priority = ""
	d.Clerk = ""
	d.Outcome = ""
	d.Appointment = ""
	d.Reason = ""
	d.User = ""
	d.Device = ""
	d.Score = 0
	d.Slot = nil
	if d.Queue != nil {
		q := *d.Queue
		d.Queue = &q
	}
	e.Data = d
	return e
}

// Private reports whether the event stays off the public live feed
// altogether: a visit's rating is nobody's business on the screens, and
// the clerk's desk, which follows the feed, must not learn it.
func (e Event) Private() bool { return e.Type == EventTicketRated }

// QueueEntry is the public state of one service's queue.
type QueueEntry struct {
	Service        string `json:"service"`
	Waiting        int    `json:"waiting"`
	LongestWaitMin int    `json:"longest_wait_min"`
	EWTMin         int    `json:"ewt_min"`
}

// Call is one call (or recall) of a ticket to a counter, as screens show it.
type Call struct {
	Number  string    `json:"number"`
	Service string    `json:"service"`
	Counter string    `json:"counter"`
	Kind    string    `json:"kind"`
	At      time.Time `json:"at"`
	Recall  int       `json:"recall"`
	Seq     uint64    `json:"seq"`
}

// PublicCounter is a counter as the public sees it.
type PublicCounter struct {
	ID       string       `json:"id"`
	Kind     CounterKind  `json:"kind"`
	Services []string     `json:"services"`
	State    CounterState `json:"state"`
	Number   string       `json:"number,omitempty"`
}

// Snapshot is the whole public state, the first message of the live feed.
type Snapshot struct {
	Version  string          `json:"version"`
	Day      string          `json:"day"`
	Counters []PublicCounter `json:"counters"`
	Calls    []Call          `json:"calls"`
	Queue    []QueueEntry    `json:"queue"`
	// Notice is the information line the supervisor set for the screens.
	Notice Text `json:"notice"`
}
