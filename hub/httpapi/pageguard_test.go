package httpapi

import (
	"html/template"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/comune-rc/sportello/hub"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRenderPageHeaders pins the headers of the three page packages'
// policies (kiosk, desk, display), letter for letter.
func TestRenderPageHeaders(t *testing.T) {
	page := template.Must(template.New("p.html").Parse(`<p>{{.}}</p>`))
	for _, tc := range []struct {
		name         string
		policy       PagePolicy
		csp, framing string
	}{
		{"citizen", PagePolicy{},
			"default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'", "DENY"},
		{"staff", PagePolicy{DataImages: true},
			"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'", "DENY"},
		{"screen", PagePolicy{Media: true, SameOriginFrames: true},
			"default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; media-src 'self'; frame-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'self'", "SAMEORIGIN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			c := echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/", nil), rec)
			require.NoError(t, RenderPage(c, http.StatusTeapot, page, "p.html", "<x>", tc.policy))
			assert.Equal(t, http.StatusTeapot, rec.Code)
			assert.Equal(t, "<p>&lt;x&gt;</p>", rec.Body.String())
			h := rec.Header()
			assert.Equal(t, tc.csp, h.Get("Content-Security-Policy"))
			assert.Equal(t, tc.framing, h.Get("X-Frame-Options"))
			assert.Equal(t, echo.MIMETextHTMLCharsetUTF8, h.Get(echo.HeaderContentType))
			assert.Equal(t, "no-store", h.Get("Cache-Control"))
			assert.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
			assert.Equal(t, "same-origin", h.Get("Referrer-Policy"))
		})
	}
	t.Run("broken template writes nothing", func(t *testing.T) {
		rec := httptest.NewRecorder()
		c := echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/", nil), rec)
		require.Error(t, RenderPage(c, http.StatusOK, page, "missing.html", nil, PagePolicy{}))
		assert.Empty(t, rec.Body.String())
		assert.Empty(t, rec.Header().Get("Content-Security-Policy"))
	})
}

func TestAdmit(t *testing.T) {
	expired := &hub.Error{Kind: hub.KindUnauthorized, Code: "session_expired"}
	totem1 := hub.Principal{ID: "totem-1", Device: hub.DeviceTotem}
	for _, tc := range []struct {
		name    string
		who     *hub.Principal
		authErr error
		device  hub.DeviceKind
		id      string
		min     hub.Role
		want    error
	}{
		{"nobody", nil, nil, hub.DeviceTotem, "totem-1", hub.RoleClerk, hub.ErrUnauthorized},
		{"a failed token says why", nil, expired, hub.DeviceTotem, "totem-1", hub.RoleClerk, expired},
		{"the device itself", &totem1, nil, hub.DeviceTotem, "totem-1", hub.RoleClerk, nil},
		{"another totem", &totem1, nil, hub.DeviceTotem, "totem-2", hub.RoleClerk, hub.ErrForbidden},
		{"a device where none is admitted", &totem1, nil, "", "", hub.RoleClerk, hub.ErrForbidden},
		{"a display with the totem's id", &hub.Principal{ID: "totem-1", Device: hub.DeviceDisplay}, nil, hub.DeviceTotem, "totem-1", hub.RoleClerk, hub.ErrForbidden},
		{"a clerk", &hub.Principal{ID: "clerk01", Role: hub.RoleClerk}, nil, hub.DeviceTotem, "totem-1", hub.RoleClerk, nil},
		{"a clerk on a supervisor page", &hub.Principal{ID: "clerk01", Role: hub.RoleClerk}, nil, "", "", hub.RoleSupervisor, hub.ErrForbidden},
		{"an admin on a supervisor page", &hub.Principal{ID: "admin", Role: hub.RoleAdmin}, nil, "", "", hub.RoleSupervisor, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/", nil), httptest.NewRecorder())
			if tc.who != nil {
				c.Set(principalKey, *tc.who)
			}
			if tc.authErr != nil {
				c.Set("auth_error", tc.authErr)
			}
			_, err := Admit(c, tc.device, tc.id, tc.min)
			assert.Equal(t, tc.want, err)
		})
	}
}
