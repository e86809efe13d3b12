package httpapi

import (
	"net/http"
	"strconv"

	"github.com/comune-rc/sportello/hub"
	"github.com/labstack/echo/v4"
)

type parkRequest struct {
	Notes string `json:"notes"`
}

func (s *Server) park(c echo.Context) error {
	id, clerk, err := s.clerk(c)
	if err != nil {
		return err
	}
	var r parkRequest
	if err := decodeBody(c.Request().Body, &r, true); err != nil {
		return err
	}
	t, err := s.eng.Park(c.Request().Context(), id, clerk, r.Notes)
	if err != nil {
		return err
	}
	return s.ticketReply(c, t)
}

type addServiceRequest struct {
	Service string `json:"service"`
}

func (s *Server) addService(c echo.Context) error {
	id, clerk, err := s.clerk(c)
	if err != nil {
		return err
	}
	var r addServiceRequest
	if err := decodeBody(c.Request().Body, &r, false); err != nil {
		return err
	}
	if r.Service == "" {
		return hub.FieldError("missing_field", "service", "service is required")
	}
	t, err := s.eng.AddService(c.Request().Context(), id, clerk, r.Service)
	if err != nil {
		return err
	}
	return s.ticketReply(c, t)
}

type servicesRequest struct {
	Services []string `json:"services"`
}

func (s *Server) setServices(c echo.Context) error {
	id := c.Param("id")
	if _, ok := s.eng.Site().Counter(id); !ok {
		return hub.ErrCounterNotFound
	}
	var r servicesRequest
	if err := decodeBody(c.Request().Body, &r, false); err != nil {
		return err
	}
	p, _ := principal(c)
	_, err := s.eng.SetCounterServices(c.Request().Context(), id, r.Services, p.ID)
	return s.counterReply(c, id, err)
}

func (s *Server) forceClose(c echo.Context) error {
	id := c.Param("id")
	if _, ok := s.eng.Site().Counter(id); !ok {
		return hub.ErrCounterNotFound
	}
	if err := decodeBody(c.Request().Body, &struct{}{}, true); err != nil {
		return err
	}
	p, _ := principal(c)
	_, err := s.eng.ForceClose(c.Request().Context(), id, p.ID)
	return s.counterReply(c, id, err)
}

type endOfDayRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) endOfDay(c echo.Context) error {
	var r endOfDayRequest
	if err := decodeBody(c.Request().Body, &r, false); err != nil {
		return err
	}
	p, _ := principal(c)
	n, err := s.eng.EndOfDay(c.Request().Context(), r.Reason, p.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]int{"closed": n})
}

func (s *Server) audit(c echo.Context) error {
	var since uint64
	limit := 200
	if q := c.QueryParam("since"); q != "" {
		n, err := strconv.ParseUint(q, 10, 64)
		if err != nil {
			return hub.FieldError("invalid_since", "since", "since must be a non-negative integer")
		}
		since = n
	}
	if q := c.QueryParam("limit"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > 1000 {
			return hub.FieldError("invalid_limit", "limit", "limit must be 1-1000")
		}
		limit = n
	}
	entries, err := s.eng.Audit(since, limit, c.QueryParam("actor"))
	if err != nil {
		return err
	}
	if entries == nil {
		entries = []hub.AuditEntry{}
	}
	return c.JSON(http.StatusOK, entries)
}

func (s *Server) logins(c echo.Context) error {
	limit := 200
	if q := c.QueryParam("limit"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > 1000 {
			return hub.FieldError("invalid_limit", "limit", "limit must be 1-1000")
		}
		limit = n
	}
	recs, err := s.acc.Logins(limit)
	if err != nil {
		return err
	}
	if recs == nil {
		recs = []hub.LoginRecord{}
	}
	return c.JSON(http.StatusOK, recs)
}
