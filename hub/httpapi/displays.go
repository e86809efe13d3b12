package httpapi

import (
	"net/http"
	"sync"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/labstack/echo/v4"
)

// DisplayHealth is what the supervisor sees of a waiting-room screen: its
// page reports a heartbeat every few seconds.
type DisplayHealth struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Counters []string  `json:"counters"`
	Services []string  `json:"services"`
	Online   bool      `json:"online"`
	LastSeen time.Time `json:"last_seen"`
	Version  string    `json:"version,omitempty"`
	Audio    bool      `json:"audio"`
	Layout   string    `json:"layout,omitempty"`
}

// DisplayStale is how long a screen may stay silent before it counts as
// offline.
const DisplayStale = 60 * time.Second

type displayRegistry struct {
	mu   sync.Mutex
	seen map[string]DisplayHealth
}

type heartbeatRequest struct {
	Version string `json:"version"`
	Audio   bool   `json:"audio"`
	Layout  string `json:"layout"`
}

func (s *Server) displayHeartbeat(c echo.Context) error {
	id := c.Param("id")
	if _, ok := s.displayDef(id); !ok {
		return hub.Errorf(hub.KindNotFound, "display_not_found", "no display %q", id)
	}
	p, ok := principal(c)
	if !ok {
		return s.unauthenticated(c)
	}
	if p.Device != hub.DeviceDisplay || p.ID != id {
		return hub.ErrForbidden
	}
	var r heartbeatRequest
	if err := decodeBody(c.Request().Body, &r, true); err != nil {
		return err
	}
	if len(r.Version) > 64 {
		return hub.FieldError("invalid_field", "version", "version is at most 64 bytes")
	}
	if len(r.Layout) > 32 {
		return hub.FieldError("invalid_field", "layout", "layout is at most 32 bytes")
	}
	s.displays.mu.Lock()
	if s.displays.seen == nil {
		s.displays.seen = map[string]DisplayHealth{}
	}
	s.displays.seen[id] = DisplayHealth{ID: id, LastSeen: s.eng.Now(), Version: r.Version, Audio: r.Audio, Layout: r.Layout}
	s.displays.mu.Unlock()
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) displayDef(id string) (hub.DisplayDef, bool) {
	for _, d := range s.eng.Site().Displays {
		if d.ID == id {
			return d, true
		}
	}
	return hub.DisplayDef{}, false
}

// Displays lists every screen of the site with its last heartbeat.
func (s *Server) Displays() []DisplayHealth {
	now := s.eng.Now()
	s.displays.mu.Lock()
	defer s.displays.mu.Unlock()
	out := []DisplayHealth{}
	for _, d := range s.eng.Site().Displays {
		h := s.displays.seen[d.ID]
		h.ID, h.Name = d.ID, d.Name
		h.Counters, h.Services = nonNil(d.Counters), nonNil(d.Services)
		h.Online = !h.LastSeen.IsZero() && now.Sub(h.LastSeen) < DisplayStale
		out = append(out, h)
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (s *Server) displayList(c echo.Context) error { return c.JSON(http.StatusOK, s.Displays()) }

type noticeRequest struct {
	IT string `json:"it"`
	EN string `json:"en"`
}

func (s *Server) notice(c echo.Context) error { return c.JSON(http.StatusOK, s.eng.Notice()) }

func (s *Server) setNotice(c echo.Context) error {
	var r noticeRequest
	if err := decodeBody(c.Request().Body, &r, false); err != nil {
		return err
	}
	p, _ := principal(c)
	if err := s.eng.SetNotice(c.Request().Context(), hub.Text{IT: r.IT, EN: r.EN}, p.ID); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.eng.Notice())
}
