package httpapi

import (
	"net/http"

	"github.com/comune-rc/sportello/hub"
	"github.com/labstack/echo/v4"
)

func (s *Server) isStaff(c echo.Context) bool {
	p, ok := principal(c)
	return ok && !p.IsDevice() && p.Role.AtLeast(hub.RoleClerk)
}

func (s *Server) counters(c echo.Context) error {
	staff := s.isStaff(c)
	views := s.eng.Counters()
	out := make([]counterJSON, 0, len(views))
	for _, v := range views {
		out = append(out, s.counterOut(v, staff))
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) counter(c echo.Context) error {
	v, err := s.eng.Counter(c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.counterOut(v, s.isStaff(c)))
}

// counterCall runs a counter command for the clerk, after checking that the
// counter exists (404 before 403) and that the body is acceptable.
func (s *Server) clerk(c echo.Context) (string, string, error) {
	id := c.Param("id")
	if _, ok := s.eng.Site().Counter(id); !ok {
		return "", "", hub.ErrCounterNotFound
	}
	p, _ := principal(c)
	return id, p.ID, nil
}

func (s *Server) counterReply(c echo.Context, id string, err error) error {
	if err != nil {
		return err
	}
	v, err := s.eng.Counter(id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.counterOut(v, true))
}

func (s *Server) openCounter(c echo.Context) error {
	id, clerk, err := s.clerk(c)
	if err != nil {
		return err
	}
	if err := decodeBody(c.Request().Body, &struct{}{}, true); err != nil {
		return err
	}
	_, err = s.eng.OpenCounter(c.Request().Context(), id, clerk)
	return s.counterReply(c, id, err)
}

func (s *Server) closeCounter(c echo.Context) error {
	id, clerk, err := s.clerk(c)
	if err != nil {
		return err
	}
	if err := decodeBody(c.Request().Body, &struct{}{}, true); err != nil {
		return err
	}
	_, err = s.eng.CloseCounter(c.Request().Context(), id, clerk)
	return s.counterReply(c, id, err)
}

type pauseRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) pauseCounter(c echo.Context) error {
	id, clerk, err := s.clerk(c)
	if err != nil {
		return err
	}
	var r pauseRequest
	if err := decodeBody(c.Request().Body, &r, true); err != nil {
		return err
	}
	if len(r.Reason) > 200 {
		return hub.FieldError("invalid_reason", "reason", "a reason is at most 200 characters")
	}
	_, err = s.eng.PauseCounter(c.Request().Context(), id, clerk, r.Reason)
	return s.counterReply(c, id, err)
}

func (s *Server) callNext(c echo.Context) error {
	id, clerk, err := s.clerk(c)
	if err != nil {
		return err
	}
	if err := decodeBody(c.Request().Body, &struct{}{}, true); err != nil {
		return err
	}
	t, err := s.eng.CallNext(c.Request().Context(), id, clerk)
	if err != nil {
		return err
	}
	if t == nil {
		return c.NoContent(http.StatusNoContent)
	}
	return s.ticketReply(c, t)
}

type callRequest struct {
	Ticket string `json:"ticket"`
}

func (s *Server) callTicket(c echo.Context) error {
	id, clerk, err := s.clerk(c)
	if err != nil {
		return err
	}
	var r callRequest
	if err := decodeBody(c.Request().Body, &r, false); err != nil {
		return err
	}
	if r.Ticket == "" {
		return hub.FieldError("missing_field", "ticket", "ticket is required")
	}
	t, err := s.eng.CallTicket(c.Request().Context(), id, clerk, r.Ticket)
	if err != nil {
		return err
	}
	return s.ticketReply(c, t)
}

func (s *Server) simpleAction(c echo.Context, fn func(id, clerk string) (*hub.Ticket, error)) error {
	id, clerk, err := s.clerk(c)
	if err != nil {
		return err
	}
	if err := decodeBody(c.Request().Body, &struct{}{}, true); err != nil {
		return err
	}
	t, err := fn(id, clerk)
	if err != nil {
		return err
	}
	return s.ticketReply(c, t)
}

func (s *Server) recall(c echo.Context) error {
	return s.simpleAction(c, func(id, clerk string) (*hub.Ticket, error) { return s.eng.Recall(c.Request().Context(), id, clerk) })
}

func (s *Server) start(c echo.Context) error {
	return s.simpleAction(c, func(id, clerk string) (*hub.Ticket, error) { return s.eng.Start(c.Request().Context(), id, clerk) })
}

func (s *Server) noShow(c echo.Context) error {
	return s.simpleAction(c, func(id, clerk string) (*hub.Ticket, error) { return s.eng.NoShow(c.Request().Context(), id, clerk) })
}

type finishRequest struct {
	Outcome  string   `json:"outcome"`
	Services []string `json:"services"`
	Notes    string   `json:"notes"`
}

func (s *Server) finish(c echo.Context) error {
	id, clerk, err := s.clerk(c)
	if err != nil {
		return err
	}
	var r finishRequest
	if err := decodeBody(c.Request().Body, &r, true); err != nil {
		return err
	}
	t, err := s.eng.Finish(c.Request().Context(), id, clerk, hub.FinishRequest{Outcome: r.Outcome, Services: r.Services, Notes: r.Notes})
	if err != nil {
		return err
	}
	return s.ticketReply(c, t)
}

type transferRequest struct {
	Service string `json:"service"`
	Counter string `json:"counter"`
	Back    bool   `json:"back"`
	Notes   string `json:"notes"`
}

func (s *Server) transfer(c echo.Context) error {
	id, clerk, err := s.clerk(c)
	if err != nil {
		return err
	}
	var r transferRequest
	if err := decodeBody(c.Request().Body, &r, false); err != nil {
		return err
	}
	if (r.Service == "") == (r.Counter == "") {
		return hub.FieldError("invalid_transfer", "service", "give either service or counter")
	}
	if len(r.Notes) > 2000 {
		return hub.FieldError("invalid_notes", "notes", "notes are at most 2000 characters")
	}
	t, err := s.eng.Transfer(c.Request().Context(), id, clerk, hub.TransferRequest{Service: r.Service, Counter: r.Counter, Back: r.Back, Notes: r.Notes})
	if err != nil {
		return err
	}
	return s.ticketReply(c, t)
}
