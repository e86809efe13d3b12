package httpapi

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/comune-rc/sportello/hub"
	"github.com/labstack/echo/v4"
)

// problem is an RFC 9457 problem document with Sportello's stable code.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail,omitempty"`
	Field  string `json:"field,omitempty"`
}

var statusOf = map[hub.Kind]int{
	hub.KindInternal:     http.StatusInternalServerError,
	hub.KindInvalid:      http.StatusBadRequest,
	hub.KindUnauthorized: http.StatusUnauthorized,
	hub.KindForbidden:    http.StatusForbidden,
	hub.KindNotFound:     http.StatusNotFound,
	hub.KindConflict:     http.StatusConflict,
	hub.KindTooLarge:     http.StatusRequestEntityTooLarge,
	hub.KindUnavailable:  http.StatusServiceUnavailable,
}

// handleError is the one place where errors become HTTP answers.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	p := problem{Type: "about:blank"}
	var he *echo.HTTPError
	var ae *hub.Error
	switch {
	case errors.As(err, &ae):
		p.Status = statusOf[ae.Kind]
		p.Code = ae.Code
		p.Detail = ae.Message
		p.Field = ae.Field
		if ae.Kind == hub.KindInternal || ae.Kind == hub.KindUnavailable {
			s.log.Error("request failed", "method", c.Request().Method, "path", c.Path(), "code", ae.Code, "err", err)
		}
	case errors.As(err, &he):
		p.Status = he.Code
		p.Code = codeForStatus(he.Code)
		p.Detail = fmt.Sprint(he.Message)
	default:
		s.log.Error("request failed", "method", c.Request().Method, "path", c.Path(), "err", err)
		p.Status = http.StatusInternalServerError
		p.Code = "internal"
		p.Detail = "an internal error occurred; it has been logged"
	}
	if p.Status == 0 {
		p.Status = http.StatusInternalServerError
	}
	p.Title = http.StatusText(p.Status)
	if p.Code != "" {
		p.Type = "https://sportello.comune.reggio-calabria.it/problems/" + p.Code
	}
	c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	c.Response().WriteHeader(p.Status)
	if c.Request().Method == http.MethodHead {
		return
	}
	_ = c.JSON(p.Status, p) // header already written; JSON writes the body
}

func codeForStatus(status int) string {
	switch status {
	case http.StatusNotFound:
		return "not_found"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusRequestEntityTooLarge:
		return "body_too_large"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusBadRequest:
		return "bad_request"
	}
	return "http_" + fmt.Sprint(status)
}

func (s *Server) recoverer(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return next(c)
	}
}
