package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
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
		viaSession := false
		if token == "" {
			if ck, err := c.Cookie(SessionCookie); err == nil {
				token, viaSession = ck.Value, true
			} else if ck, err := c.Cookie(DeviceCookie); err == nil {
				token = ck.Value
			}
		}
		// A browser sends the session cookie with any request, also one a
		// hostile page triggers: changes made with it need the session's
		// CSRF token too (header X-CSRF-Token or form field csrf).
		if viaSession && !safeMethod(c.Request().Method) {
			given := c.Request().Header.Get(CSRFHeader)
			if given == "" {
				given = c.FormValue("csrf")
			}
			if subtle.ConstantTimeCompare([]byte(given), []byte(CSRFFor(token))) != 1 {
				return hub.Errorf(hub.KindForbidden, "csrf_failed", "the form has expired or did not come from Sportello: reload the page")
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

// CSRFHeader carries the CSRF token of cookie-authenticated requests.
const CSRFHeader = "X-CSRF-Token"

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// CSRFFor is the CSRF token of a session: derived from the session token,
// so it needs no storage and dies with the session; it cannot be guessed
// without the cookie it protects.
func CSRFFor(sessionToken string) string {
	sum := sha256.Sum256([]byte("sportello-csrf\x00" + sessionToken))
	return hex.EncodeToString(sum[:16])
}

// CSRFToken returns the CSRF token for the session of this request, for
// page templates ("" without a session cookie).
func CSRFToken(c echo.Context) string {
	ck, err := c.Cookie(SessionCookie)
	if err != nil {
		return ""
	}
	return CSRFFor(ck.Value)
}

// PrincipalOf returns who is making the request (set by the API's
// authentication middleware), for the page packages.
func PrincipalOf(c echo.Context) (hub.Principal, bool) { return principal(c) }

func principal(c echo.Context) (hub.Principal, bool) {
	p, ok := c.Get(principalKey).(hub.Principal)
	return p, ok
}

func (s *Server) unauthenticated(c echo.Context) error { return authError(c) }

// authError is why a request has no principal: the token's failure (an
// expired session…), else hub.ErrUnauthorized.
func authError(c echo.Context) error {
	if err, ok := c.Get("auth_error").(error); ok {
		return err
	}
	return hub.ErrUnauthorized
}

// need admits people with at least role min.
func (s *Server) need(min hub.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if _, err := Admit(c, "", "", min); err != nil {
				return err
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
