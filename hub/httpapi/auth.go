package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/labstack/echo/v4"
)

// Cookie names: people's sessions and devices' tokens.
const (
	SessionCookie = "sportello_session"
	DeviceCookie  = "sportello_device"
)

const principalKey = "principal"

// authenticate resolves the caller from the bearer token, the session
// cookie, or a device token (header, cookie, or ?token= once, which is
// then kept in a cookie so a kiosk browser can be pointed at one URL).
// An invalid token is not an error here: routes that need someone say so.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		token := ""
		if h := c.Request().Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
			token = strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))
		}
		if q := c.QueryParam("token"); token == "" && q != "" && c.Request().Method == http.MethodGet {
			if p, err := s.acc.Authenticate(q); err == nil && p.IsDevice() {
				c.SetCookie(&http.Cookie{Name: DeviceCookie, Value: q, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Expires: time.Now().Add(10 * 365 * 24 * time.Hour)})
				token = q
			}
		}
		if token == "" {
			if ck, err := c.Cookie(SessionCookie); err == nil {
				token = ck.Value
			} else if ck, err := c.Cookie(DeviceCookie); err == nil {
				token = ck.Value
			}
		}
		if token != "" {
			p, err := s.acc.Authenticate(token)
			if err == nil {
				c.Set(principalKey, p)
			} else {
				c.Set("auth_error", err)
			}
		}
		return next(c)
	}
}

// PrincipalOf returns who is making the request (set by the API's
// authentication middleware), for the page packages.
func PrincipalOf(c echo.Context) (hub.Principal, bool) { return principal(c) }

func principal(c echo.Context) (hub.Principal, bool) {
	p, ok := c.Get(principalKey).(hub.Principal)
	return p, ok
}

func (s *Server) unauthenticated(c echo.Context) error {
	if err, ok := c.Get("auth_error").(error); ok {
		return err
	}
	return hub.ErrUnauthorized
}

// need admits people with at least role min.
func (s *Server) need(min hub.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p, ok := principal(c)
			if !ok {
				return s.unauthenticated(c)
			}
			if p.IsDevice() || !p.Role.AtLeast(min) {
				return hub.ErrForbidden
			}
			return next(c)
		}
	}
}

// needTotemOr admits totem devices and people with at least role min.
func (s *Server) needTotemOr(min hub.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p, ok := principal(c)
			if !ok {
				return s.unauthenticated(c)
			}
			if p.Device == hub.DeviceTotem || (!p.IsDevice() && p.Role.AtLeast(min)) {
				return next(c)
			}
			return hub.ErrForbidden
		}
	}
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type loginResponse struct {
	Token     string    `json:"token"`
	Role      hub.Role  `json:"role"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (s *Server) login(c echo.Context) error {
	var r loginRequest
	if err := decodeBody(c.Request().Body, &r, false); err != nil {
		return err
	}
	if r.Username == "" {
		return hub.FieldError("missing_field", "username", "username is required")
	}
	token, ses, err := s.acc.Login(r.Username, r.Password)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, loginResponse{Token: token, Role: ses.Role, ExpiresAt: ses.ExpiresAt})
}

func (s *Server) logout(c echo.Context) error {
	if err := decodeBody(c.Request().Body, &struct{}{}, true); err != nil {
		return err
	}
	token := strings.TrimSpace(strings.TrimPrefix(c.Request().Header.Get("Authorization"), "Bearer "))
	if token == "" {
		if ck, err := c.Cookie(SessionCookie); err == nil {
			token = ck.Value
		}
	}
	if err := s.acc.Logout(token); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) me(c echo.Context) error {
	p, ok := principal(c)
	if !ok {
		return s.unauthenticated(c)
	}
	out := map[string]string{"id": p.ID}
	if p.IsDevice() {
		out["device"] = string(p.Device)
	} else {
		out["role"] = string(p.Role)
	}
	return c.JSON(http.StatusOK, out)
}
