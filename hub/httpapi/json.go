package httpapi

import (
	"time"

	"github.com/comune-rc/sportello/hub"
)

// ticketJSON is the contract's Ticket.
type ticketJSON struct {
	ID          string          `json:"id"`
	Number      string          `json:"number"`
	Service     string          `json:"service"`
	Status      hub.Status      `json:"status"`
	Priority    hub.Priority    `json:"priority,omitempty"`
	Channel     hub.Channel     `json:"channel"`
	IssuedAt    time.Time       `json:"issued_at"`
	CalledAt    *time.Time      `json:"called_at"`
	Counter     *string         `json:"counter"`
	Position    int             `json:"position"`
	EWTMin      int             `json:"ewt_min"`
	TrackURL    string          `json:"track_url,omitempty"`
	Appointment string          `json:"appointment,omitempty"`
	Target      string          `json:"target,omitempty"`
	Outcome     string          `json:"outcome,omitempty"`
	Delivered   []string        `json:"delivered,omitempty"`
	Notes       string          `json:"notes,omitempty"`
	Recalls     int             `json:"recalls"`
	ClosedAt    *time.Time      `json:"closed_at,omitempty"`
	Steps       []hub.Step      `json:"steps,omitempty"`
	Print       hub.PrintStatus `json:"print,omitempty"`
	PrintError  string          `json:"print_error,omitempty"`
	Parked      bool            `json:"parked,omitempty"`
	CaseID      string          `json:"case_id,omitempty"`
	Citizen     *hub.Citizen    `json:"citizen,omitempty"`
	Requested   []string        `json:"requested,omitempty"`
}

func (s *Server) trackURL(t *hub.Ticket) string {
	return s.cfg.PublicURL + "/t/" + t.TrackToken
}

func (s *Server) ticketOut(v hub.TicketView) ticketJSON {
	t := v.Ticket
	out := ticketJSON{
		ID: t.ID, Number: t.Number, Service: t.Service, Status: t.Status, Priority: t.Prio, Channel: t.Channel,
		IssuedAt: t.IssuedAt, CalledAt: t.CalledAt, Position: v.Position, EWTMin: minutes(v.EWT),
		TrackURL: s.trackURL(t), Appointment: t.Appointment, Target: t.Target, Outcome: t.Outcome,
		Delivered: t.Delivered, Notes: t.Notes, Recalls: t.Recalls, ClosedAt: t.ClosedAt, Steps: t.Steps,
		Print: t.Print, PrintError: t.PrintError, Parked: t.Parked, Requested: t.Requested, CaseID: t.CaseID, Citizen: t.Citizen,
	}
	if t.Counter != "" {
		c := t.Counter
		out.Counter = &c
	}
	return out
}

func minutes(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	m := int(d / time.Minute)
	if d%time.Minute != 0 {
		m++
	}
	return m
}

// serviceJSON is the contract's Service, with the extras the totem needs.
type serviceJSON struct {
	ID            string       `json:"id"`
	Prefix        string       `json:"prefix"`
	Name          hub.Text     `json:"name"`
	Description   hub.Text     `json:"description"`
	Category      hub.Category `json:"category"`
	TargetWaitMin int          `json:"target_wait_min"`
	ServiceMin    int          `json:"service_time_min"`
	Room          bool         `json:"room"`
	// Active is false for a service an admin switched off: no new tickets
	// or bookings. Priority is false when it takes no priority categories.
	Active   bool `json:"active"`
	Priority bool `json:"priority"`
}

func serviceOut(sv hub.Service) serviceJSON {
	return serviceJSON{ID: sv.ID, Prefix: sv.Prefix, Name: sv.Name, Description: sv.Description, Category: sv.Category,
		TargetWaitMin: int(sv.TargetWait / time.Minute), ServiceMin: int(sv.ServiceTime / time.Minute), Room: sv.Room,
		Active: !sv.Inactive, Priority: !sv.NoPriority}
}

// counterJSON is the contract's Counter.
type counterJSON struct {
	ID       string           `json:"id"`
	Kind     hub.CounterKind  `json:"kind"`
	Name     hub.Text         `json:"name"`
	Services []string         `json:"services"`
	State    hub.CounterState `json:"state"`
	Ticket   *ticketJSON      `json:"ticket"`
	Since    time.Time        `json:"since"`
	Clerk    string           `json:"clerk,omitempty"`
	Reason   string           `json:"reason,omitempty"`
}

func (s *Server) counterOut(v hub.CounterView, staff bool) counterJSON {
	c := v.Counter
	def, _ := s.eng.Site().Counter(c.ID)
	out := counterJSON{ID: c.ID, Kind: c.Kind, Name: def.Name, Services: c.Services, State: c.State, Since: c.Since}
	if out.Services == nil {
		out.Services = []string{}
	}
	if v.Ticket != nil {
		t := s.ticketOut(*v.Ticket)
		if !staff {
			// The public sees which number is at which counter, nothing more.
			// No priority category and no tracking link.
			t = ticketJSON{ID: t.ID, Number: t.Number, Service: t.Service, Status: t.Status, Channel: t.Channel, IssuedAt: t.IssuedAt, CalledAt: t.CalledAt, Counter: t.Counter}
		}
		out.Ticket = &t
	}
	if staff {
		out.Clerk = c.Clerk
		out.Reason = c.Reason
	}
	return out
}
