package httpapi

import (
	"net/http"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/printer"
	"github.com/labstack/echo/v4"
)

func (s *Server) slots(c echo.Context) error {
	service, day := c.QueryParam("service"), c.QueryParam("day")
	if service == "" {
		return hub.FieldError("missing_field", "service", "service is required")
	}
	if day == "" {
		day = s.eng.Now().Format("2006-01-02")
	}
	out, err := s.eng.Slots(service, day)
	if err != nil {
		return err
	}
	if out == nil {
		out = []hub.SlotInfo{}
	}
	return c.JSON(http.StatusOK, out)
}

type citizenJSON struct {
	FiscalCode string `json:"fiscal_code"`
	Name       string `json:"name"`
}

func (cj *citizenJSON) hub() *hub.Citizen {
	if cj == nil {
		return nil
	}
	return &hub.Citizen{FiscalCode: cj.FiscalCode, Name: cj.Name}
}

type bookingRequest struct {
	Service  string       `json:"service"`
	Slot     string       `json:"slot"`
	Channel  hub.Channel  `json:"channel"`
	Priority hub.Priority `json:"priority"`
	CaseID   string       `json:"case_id"`
	Citizen  *citizenJSON `json:"citizen"`
}

// bookingJSON is a booking's answer: the appointment with where the
// citizen finds its QR code and PDF confirmation.
type bookingJSON struct {
	*hub.Appointment
	QRURL  string `json:"qr_url"`
	PDFURL string `json:"pdf_url"`
}

func (s *Server) bookingOut(a *hub.Appointment) bookingJSON {
	return bookingJSON{Appointment: a, QRURL: s.cfg.PublicURL + "/qr.png?data=" + a.Code, PDFURL: s.cfg.PublicURL + "/api/v1/appointments/" + a.Code + "/pdf"}
}

// book is the channels' booking (contact center, SVU portal): a free slot
// of GET /slots, with capacity held back for walk-ins.
func (s *Server) book(c echo.Context) error {
	var r bookingRequest
	if err := decodeBody(c.Request().Body, &r, false); err != nil {
		return err
	}
	return s.doBook(c, r, true)
}

// appointmentByHand is staff creating an appointment at any future time.
func (s *Server) appointmentByHand(c echo.Context) error {
	var r bookingRequest
	if err := decodeBody(c.Request().Body, &r, false); err != nil {
		return err
	}
	return s.doBook(c, r, false)
}

func (s *Server) doBook(c echo.Context, r bookingRequest, strict bool) error {
	if r.Service == "" {
		return hub.FieldError("missing_field", "service", "service is required")
	}
	slot, err := time.Parse(time.RFC3339, r.Slot)
	if err != nil {
		return hub.FieldError("invalid_slot", "slot", "slot must be an RFC 3339 time with offset, e.g. 2026-12-01T10:30:00+01:00")
	}
	p, _ := principal(c)
	a, err := s.eng.Book(c.Request().Context(), hub.BookRequest{Strict: strict, By: p.ID, Service: r.Service, Slot: slot, Channel: r.Channel, Priority: r.Priority, CaseID: r.CaseID, Citizen: r.Citizen.hub()})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, s.bookingOut(a))
}

func (s *Server) appointment(c echo.Context) error {
	a, err := s.eng.Appointment(c.Param("code"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.bookingOut(a))
}

func (s *Server) cancelAppointment(c echo.Context) error {
	if err := decodeBody(c.Request().Body, &struct{}{}, true); err != nil {
		return err
	}
	p, _ := principal(c)
	a, err := s.eng.CancelAppointment(c.Request().Context(), c.Param("code"), p.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.bookingOut(a))
}

// appointmentPDF is the confirmation a citizen downloads or is e-mailed:
// the booking code is the only key, and the PDF carries no personal data.
func (s *Server) appointmentPDF(c echo.Context) error {
	a, err := s.eng.Appointment(c.Param("code"))
	if err != nil {
		return err
	}
	site := s.eng.Site()
	sv, _ := site.Service(a.Service)
	pa := printer.Appointment{Comune: site.Comune, Office: site.Name.IT, Code: a.Code, Service: sv.Name.IT, ServiceEN: sv.Name.EN,
		Slot: a.Slot.In(site.Location())} // the QR holds the bare code: what the totem scanner reads
	if a.Kind == "virtual" {
		pa.Notes = "Posto in coda: presentati al totem entro 3 ore / Place in the queue: check in at the totem within 3 hours"
	}
	pdf, err := printer.AppointmentPDF(pa)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, `inline; filename="appuntamento-`+a.Code+`.pdf"`)
	return c.Blob(http.StatusOK, "application/pdf", pdf)
}

type joinRequest struct {
	Service string       `json:"service"`
	Citizen *citizenJSON `json:"citizen"`
}

func (s *Server) joinQueue(c echo.Context) error {
	var r joinRequest
	if err := decodeBody(c.Request().Body, &r, false); err != nil {
		return err
	}
	if r.Service == "" {
		return hub.FieldError("missing_field", "service", "service is required")
	}
	p, _ := principal(c)
	a, err := s.eng.JoinQueue(c.Request().Context(), hub.JoinRequest{Service: r.Service, Citizen: r.Citizen.hub(), By: p.ID})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, s.bookingOut(a))
}
