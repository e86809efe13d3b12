package httpapi

import (
	"bytes"
	"html/template"

	"github.com/comune-rc/sportello/hub"
	"github.com/labstack/echo/v4"
)

// Admit says whether the caller of a page route may have it: the device
// of that kind and id (device "" admits no device), or a person with at
// least role min. Without a principal the error is why authentication
// failed (an expired session…) or hub.ErrUnauthorized; with one that may
// not, hub.ErrForbidden. The page packages use it so that their pages
// and the API admit the same callers.
func Admit(c echo.Context, device hub.DeviceKind, id string, min hub.Role) (hub.Principal, error) {
	p, ok := principal(c)
	if !ok {
		return p, authError(c)
	}
	if device != "" && p.Device == device && p.ID == id {
		return p, nil
	}
	if !p.IsDevice() && p.Role.AtLeast(min) {
		return p, nil
	}
	return p, hub.ErrForbidden
}

// PagePolicy is what a page may load and who may frame it, beyond what
// every page allows (its own origin's scripts, styles, images and
// connections; no plugins, no base URL, forms posted only home).
type PagePolicy struct {
	// DataImages allows data: images (the staff pages allow them).
	DataImages bool
	// Media allows the origin's audio (the display's announcements).
	Media bool
	// SameOriginFrames lets pages of the origin frame this one, and this
	// one frame them (the admin page previews the display screens);
	// otherwise nobody may frame it.
	SameOriginFrames bool
}

// header is the Content-Security-Policy and X-Frame-Options of p.
func (p PagePolicy) header() (csp, frameOptions string) {
	csp = "default-src 'self'; img-src 'self'"
	if p.DataImages {
		csp += " data:"
	}
	csp += "; style-src 'self'; script-src 'self'; connect-src 'self'; "
	if p.Media {
		csp += "media-src 'self'; "
	}
	frameOptions = "DENY"
	if p.SameOriginFrames {
		csp += "frame-src 'self'; frame-ancestors 'self'; "
		frameOptions = "SAMEORIGIN"
	} else {
		csp += "frame-ancestors 'none'; "
	}
	return csp + "base-uri 'none'; form-action 'self'", frameOptions
}

// RenderPage executes template name into a page and writes it with the
// headers every page has: never cached (pages show people's tickets and
// sessions), no MIME sniffing, referrers only to the origin (a tracking
// token is in its page's URL), and p's content and framing policy. A
// template that fails writes nothing, so the error handler can answer.
func RenderPage(c echo.Context, status int, t *template.Template, name string, data any, p PagePolicy) error {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		return err
	}
	csp, frameOptions := p.header()
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", frameOptions)
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", csp)
	return c.HTMLBlob(status, buf.Bytes())
}
