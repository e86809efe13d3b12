package httpapi

import (
	"net/http"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/labstack/echo/v4"
)

func (s *Server) services(c echo.Context) error {
	site := s.eng.Site()
	out := make([]serviceJSON, 0, len(site.Services))
	for _, sv := range site.Services {
		out = append(out, serviceOut(sv))
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) queue(c echo.Context) error {
	return c.JSON(http.StatusOK, s.eng.Queue())
}

type issueRequest struct {
	Service     string       `json:"service"`
	Priority    hub.Priority `json:"priority"`
	Channel     hub.Channel  `json:"channel"`
	Appointment string       `json:"appointment"`
	// CaseID and Citizen: "send to sportello" from a CzRM phone case.
	CaseID  string       `json:"case_id"`
	Citizen *citizenJSON `json:"citizen"`
}

func (s *Server) issue(c echo.Context) error {
	var r issueRequest
	if err := decodeBody(c.Request().Body, &r, false); err != nil {
		return err
	}
	if r.Service == "" && r.Appointment == "" {
		return hub.FieldError("missing_field", "service", "service is required")
	}
	key := c.Request().Header.Get("Idempotency-Key")
	if len(key) > 200 {
		return hub.FieldError("invalid_idempotency_key", "Idempotency-Key", "the key is at most 200 characters")
	}
	p, _ := principal(c)
	if r.Channel == "" {
		if p.IsDevice() {
			r.Channel = hub.ChannelTotem
		} else {
			r.Channel = hub.ChannelDesk
		}
	}
	t, created, err := s.eng.Issue(c.Request().Context(), hub.IssueRequest{
		Service: r.Service, Priority: r.Priority, Channel: r.Channel, Appointment: r.Appointment, IdemKey: key, By: p.ID,
		// A ticket issued with a totem's token is printed by that totem.
		Print:  p.Device == hub.DeviceTotem,
		CaseID: r.CaseID, Citizen: r.Citizen.hub(),
	})
	if err != nil {
		return err
	}
	// The estimate is printed on the ticket and shown to the citizen.
	s.eng.AwaitEstimate(c.Request().Context(), t.ID)
	v, err := s.eng.Ticket(t.ID)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	c.Response().Header().Set("Location", "/api/v1/tickets/"+t.ID)
	return c.JSON(status, s.ticketOut(v))
}

func (s *Server) ticket(c echo.Context) error {
	v, err := s.eng.Ticket(c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.ticketOut(v))
}

func (s *Server) listTickets(c echo.Context) error {
	f := hub.TicketFilter{Status: hub.Status(c.QueryParam("status")), Service: c.QueryParam("service"), Counter: c.QueryParam("counter")}
	switch f.Status {
	case "", hub.StatusWaiting, hub.StatusCalled, hub.StatusServing, hub.StatusDone, hub.StatusNoShow, hub.StatusCancelled:
	default:
		return hub.FieldError("invalid_status", "status", "unknown status %q", f.Status)
	}
	if f.Service != "" {
		if _, ok := s.eng.Site().Service(f.Service); !ok {
			return hub.ErrServiceNotFound
		}
	}
	if f.Counter != "" {
		if _, ok := s.eng.Site().Counter(f.Counter); !ok {
			return hub.ErrCounterNotFound
		}
	}
	views := s.eng.Tickets(f)
	out := make([]ticketJSON, 0, len(views))
	for _, v := range views {
		out = append(out, s.ticketOut(v))
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) cancel(c echo.Context) error {
	p, _ := principal(c)
	if err := decodeBody(c.Request().Body, &struct{}{}, true); err != nil {
		return err
	}
	t, err := s.eng.Cancel(c.Request().Context(), c.Param("id"), p.ID)
	if err != nil {
		return err
	}
	return s.ticketReply(c, t)
}

func (s *Server) ticketReply(c echo.Context, t *hub.Ticket) error {
	v, err := s.eng.Ticket(t.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.ticketOut(v))
}

// trackJSON is what the citizen's tracking page may show: no personal
// data, no priority category.
type trackJSON struct {
	Number   string     `json:"number"`
	Service  string     `json:"service"`
	Name     hub.Text   `json:"service_name"`
	Status   hub.Status `json:"status"`
	Position int        `json:"position"`
	EWTMin   int        `json:"ewt_min"`
	Counter  *string    `json:"counter"`
	Kind     string     `json:"counter_kind,omitempty"`
	IssuedAt time.Time  `json:"issued_at"`
	CalledAt *time.Time `json:"called_at"`
	// Print is the paper ticket's fate (pending, printed, failed) when a
	// totem prints it, so the totem page can tell the citizen.
	Print hub.PrintStatus `json:"print,omitempty"`
}

func (s *Server) trackView(token string) (trackJSON, error) {
	v, err := s.eng.TicketByToken(token)
	if err != nil {
		return trackJSON{}, err
	}
	t := v.Ticket
	sv, _ := s.eng.Site().Service(t.Service)
	out := trackJSON{Number: t.Number, Service: t.Service, Name: sv.Name, Status: t.Status, Position: v.Position, EWTMin: minutes(v.EWT), IssuedAt: t.IssuedAt, CalledAt: t.CalledAt, Print: t.Print}
	if t.Counter != "" {
		cn := t.Counter
		out.Counter = &cn
		if def, ok := s.eng.Site().Counter(cn); ok {
			out.Kind = string(def.Kind)
		}
	}
	return out, nil
}

// trackCancel lets the holder of the tracking link leave the queue.
func (s *Server) trackCancel(c echo.Context) error {
	if err := decodeBody(c.Request().Body, &struct{}{}, true); err != nil {
		return err
	}
	v, err := s.eng.TicketByToken(c.Param("token"))
	if err != nil {
		return err
	}
	if v.Ticket.Status != hub.StatusWaiting {
		return hub.Errorf(hub.KindConflict, "ticket_not_waiting", "the ticket is %s: only a waiting ticket can leave the queue", v.Ticket.Status)
	}
	if _, err := s.eng.Cancel(c.Request().Context(), v.Ticket.ID, "citizen"); err != nil {
		return err
	}
	return s.track(c)
}

func (s *Server) track(c echo.Context) error {
	out, err := s.trackView(c.Param("token"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) backup(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderContentType, "application/octet-stream")
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="sportello-backup.db"`)
	c.Response().WriteHeader(http.StatusOK)
	_, err := s.cfg.Backup(c.Response())
	if err != nil {
		s.log.Error("backup failed", "err", err)
	}
	return nil
}

type reportRequest struct {
	Kind        string `json:"kind"`
	Topic       string `json:"topic"`
	Description string `json:"description"`
	Location    string `json:"location"`
	Channel     string `json:"channel"`
}

// fileReport files a segnalazione or reclamo (totem or staff).
func (s *Server) fileReport(c echo.Context) error {
	var r reportRequest
	if err := decodeBody(c.Request().Body, &r, false); err != nil {
		return err
	}
	p, _ := principal(c)
	ch := hub.Channel(r.Channel)
	if ch == "" && !p.IsDevice() {
		ch = hub.ChannelDesk
	}
	key := c.Request().Header.Get("Idempotency-Key")
	if len(key) > 200 {
		return hub.FieldError("invalid_idempotency_key", "Idempotency-Key", "the key is at most 200 characters")
	}
	rep, created, err := s.eng.FileReportOnce(c.Request().Context(), hub.ReportRequest{Kind: r.Kind, Topic: r.Topic, Description: r.Description, Location: r.Location, Channel: ch, By: p.ID, IdemKey: key})
	if err != nil {
		return err
	}
	if !created {
		return c.JSON(http.StatusOK, rep)
	}
	return c.JSON(http.StatusCreated, rep)
}

func (s *Server) report(c echo.Context) error {
	rep, err := s.eng.Report(c.Param("protocol"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rep)
}
