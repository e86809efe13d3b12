package httpapi

import (
	"math"
	"net/http"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/labstack/echo/v4"
)

// serviceRequest is the body of PUT /api/v1/admin/services/{id}: every
// field of a new service, any of an existing one (the others are kept).
type serviceRequest struct {
	Prefix         string       `json:"prefix"`
	Name           hub.Text     `json:"name"`
	Description    *hub.Text    `json:"description"`
	Category       hub.Category `json:"category"`
	TargetWaitMin  *float64     `json:"target_wait_min"`
	ServiceTimeMin *float64     `json:"service_time_min"`
	Room           *bool        `json:"room"`
	Active         *bool        `json:"active"`
	Priority       *bool        `json:"priority"`
}

// bodyMinutes turns a body's minutes into a duration; an absent value is 0
// (keep), an explicit 0 or less is refused by the engine's range check.
func bodyMinutes(field string, m *float64) (time.Duration, error) {
	if m == nil {
		return 0, nil
	}
	if *m <= 0 || *m > 480 || math.IsNaN(*m) {
		return 0, hub.FieldError("invalid_"+field, field, "%s must be more than 0 and at most 480 minutes", field)
	}
	return time.Duration(*m * float64(time.Minute)), nil
}

// putService creates or changes a service of the catalogue (admin).
func (s *Server) putService(c echo.Context) error {
	var r serviceRequest
	if err := decodeBody(c.Request().Body, &r, false); err != nil {
		return err
	}
	tw, err := bodyMinutes("target_wait_min", r.TargetWaitMin)
	if err != nil {
		return err
	}
	st, err := bodyMinutes("service_time_min", r.ServiceTimeMin)
	if err != nil {
		return err
	}
	p, _ := principal(c)
	sv, created, err := s.eng.SaveService(c.Request().Context(), p.ID, hub.ServiceChange{
		ID: c.Param("id"), Prefix: r.Prefix, Name: r.Name, Description: r.Description, Category: r.Category,
		TargetWait: tw, ServiceTime: st, Room: r.Room, Active: r.Active, Priority: r.Priority,
	})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return c.JSON(status, serviceOut(sv))
}

// counterRequest is the body of PUT /api/v1/admin/counters/{id}.
type counterRequest struct {
	Kind     hub.CounterKind `json:"kind"`
	Name     hub.Text        `json:"name"`
	Services []string        `json:"services"`
}

// putCounter creates a counter or room or changes its name and service
// profile (admin).
func (s *Server) putCounter(c echo.Context) error {
	var r counterRequest
	if err := decodeBody(c.Request().Body, &r, false); err != nil {
		return err
	}
	p, _ := principal(c)
	cn, created, err := s.eng.SaveCounter(c.Request().Context(), p.ID, hub.CounterChange{ID: c.Param("id"), Kind: r.Kind, Name: r.Name, Services: r.Services})
	if err != nil {
		return err
	}
	v, err := s.eng.Counter(cn.ID)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return c.JSON(status, s.counterOut(v, true))
}
