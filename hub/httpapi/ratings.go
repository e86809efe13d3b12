package httpapi

import (
	"net/http"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/labstack/echo/v4"
)

// FeedbackWindow is how long a counter's feedback screen offers the visit
// just finished there.
const FeedbackWindow = 3 * time.Minute

type ratingRequest struct {
	Score   int    `json:"score"`
	Reason  string `json:"reason"`
	Comment string `json:"comment"`
}

type feedbackRequest struct {
	Number  string `json:"number"`
	Score   int    `json:"score"`
	Reason  string `json:"reason"`
	Comment string `json:"comment"`
}

// ratingJSON is the answer to a rating: what was recorded, for the
// citizen's confirmation.
type ratingJSON struct {
	Number  string    `json:"number"`
	Service string    `json:"service"`
	Score   int       `json:"score"`
	Reason  string    `json:"reason,omitempty"`
	Channel string    `json:"channel"`
	At      time.Time `json:"at"`
}

func ratingReply(c echo.Context, t *hub.Ticket) error {
	r := t.Rating
	return c.JSON(http.StatusCreated, ratingJSON{Number: t.Number, Service: t.Service, Score: r.Score, Reason: r.Reason, Channel: r.Channel, At: r.At})
}

// trackRating serves POST /api/v1/track/{token}/rating: the survey from the
// tracking link, on the citizen's phone or scanned at a totem.
func (s *Server) trackRating(c echo.Context) error {
	var r ratingRequest
	if err := decodeBody(c.Request().Body, &r, false); err != nil {
		return err
	}
	req := hub.RateRequest{Token: c.Param("token"), Score: r.Score, Reason: r.Reason, Comment: r.Comment, Channel: hub.RatedOnWeb, By: "citizen"}
	if p, ok := principal(c); ok && p.Device == hub.DeviceTotem {
		req.Channel, req.By = hub.RatedAtTotem, p.ID
	}
	if len(req.Token) > 64 {
		return hub.ErrTicketNotFound
	}
	t, err := s.eng.Rate(c.Request().Context(), req)
	if err != nil {
		return err
	}
	return ratingReply(c, t)
}

// feedbackAccess admits a counter's feedback screen: an enrolled device,
// or a person's session (a clerk may log the screen in). Neither ever
// sees a rating: the screen only offers the faces.
func (s *Server) feedbackAccess(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, ok := principal(c)
		if !ok {
			return s.unauthenticated(c)
		}
		if !p.IsDevice() && !p.Role.AtLeast(hub.RoleClerk) {
			return hub.ErrForbidden
		}
		return next(c)
	}
}

type feedbackJSON struct {
	Counter    string    `json:"counter"`
	Number     string    `json:"number"`
	Service    string    `json:"service"`
	FinishedAt time.Time `json:"finished_at"`
}

// feedback serves GET /api/v1/feedback/{counter}: the visit the counter's
// screen offers to rate, or 204 when there is none (the screen resets).
func (s *Server) feedback(c echo.Context) error {
	t, err := s.eng.FeedbackVisit(c.Param("id"), FeedbackWindow)
	if err != nil {
		return err
	}
	if t == nil {
		return c.NoContent(http.StatusNoContent)
	}
	return c.JSON(http.StatusOK, feedbackJSON{Counter: t.Counter, Number: t.Number, Service: t.Service, FinishedAt: *t.ClosedAt})
}

// rateAtCounter serves POST /api/v1/feedback/{counter}: the answer given
// on the counter's screen. The body names the ticket number the screen
// showed, so that an answer never lands on the next citizen's visit.
func (s *Server) rateAtCounter(c echo.Context) error {
	var r feedbackRequest
	if err := decodeBody(c.Request().Body, &r, false); err != nil {
		return err
	}
	if r.Number == "" {
		return hub.FieldError("missing_field", "number", "number is required: the ticket the screen showed")
	}
	t, err := s.eng.FeedbackVisit(c.Param("id"), FeedbackWindow)
	if err != nil {
		return err
	}
	if t == nil || t.Number != r.Number {
		return hub.Errorf(hub.KindConflict, "feedback_expired", "ticket %s is no longer the visit to rate at counter %s", r.Number, c.Param("id"))
	}
	p, _ := principal(c)
	done, err := s.eng.Rate(c.Request().Context(), hub.RateRequest{TicketID: t.ID, Score: r.Score, Reason: r.Reason, Comment: r.Comment,
		Channel: hub.RatedAtCounter, By: "feedback:" + c.Param("id") + ":" + p.ID})
	if err != nil {
		return err
	}
	return ratingReply(c, done)
}
