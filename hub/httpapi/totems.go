package httpapi

import (
	"encoding/json"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"
)

// JobMessage is what the hub sends a totem's agent: a ticket to print.
// The agent lays it out for its own printer.
type JobMessage struct {
	Type   string    `json:"type"` // "job"
	Job    string    `json:"job"`  // the ticket id
	Ticket JobTicket `json:"ticket"`
}

// JobTicket is the printable part of a ticket: no priority category, no
// personal data.
type JobTicket struct {
	Comune    string    `json:"comune"`
	Office    string    `json:"office"`
	Number    string    `json:"number"`
	Service   string    `json:"service"`
	ServiceEN string    `json:"service_en"`
	IssuedAt  time.Time `json:"issued_at"`
	Position  int       `json:"position"`
	EWTMin    int       `json:"ewt_min"`
	TrackURL  string    `json:"track_url"`
}

// AgentMessage is what a totem's agent sends: a job's result or the
// printer's state.
type AgentMessage struct {
	Type    string `json:"type"` // "result" or "status"
	Job     string `json:"job,omitempty"`
	OK      bool   `json:"ok,omitempty"`
	Error   string `json:"error,omitempty"`
	State   string `json:"state,omitempty"` // ok, paper_near_end, paper_out, cover_open, offline, error
	Version string `json:"version,omitempty"`
}

// TotemHealth is what the supervisor sees of a totem.
type TotemHealth struct {
	ID           string    `json:"id"`
	Connected    bool      `json:"connected"`
	LastSeen     time.Time `json:"last_seen"`
	PrinterState string    `json:"printer_state"`
	LastError    string    `json:"last_error,omitempty"`
	Pending      int       `json:"pending_jobs"`
	AgentVersion string    `json:"agent_version,omitempty"`
}

type totemRegistry struct {
	mu     sync.Mutex
	health map[string]*TotemHealth
	kick   map[string]chan struct{}
}

func (r *totemRegistry) get(id string) *TotemHealth {
	if r.health == nil {
		r.health = map[string]*TotemHealth{}
		r.kick = map[string]chan struct{}{}
	}
	h, ok := r.health[id]
	if !ok {
		h = &TotemHealth{ID: id, PrinterState: "unknown"}
		r.health[id] = h
	}
	return h
}

func (r *totemRegistry) update(id string, f func(h *TotemHealth)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(r.get(id))
}

func (s *Server) jobTicket(t *hub.Ticket) JobTicket {
	site := s.eng.Site()
	sv, _ := site.Service(t.Service)
	v, _ := s.eng.Ticket(t.ID)
	return JobTicket{Comune: site.Comune, Office: site.Name.IT, Number: t.Number, Service: sv.Name.IT, ServiceEN: sv.Name.EN,
		IssuedAt: t.IssuedAt, Position: v.Position, EWTMin: minutes(v.EWT), TrackURL: s.trackURL(t)}
}

func (s *Server) knownTotem(id string) bool {
	for _, t := range s.eng.Site().Totems {
		if t.ID == id {
			return true
		}
	}
	return false
}

func (s *Server) totemDevice(c echo.Context) (string, error) {
	id := c.Param("id")
	if !s.knownTotem(id) {
		return "", hub.Errorf(hub.KindNotFound, "totem_not_found", "no totem %q", id)
	}
	p, ok := principal(c)
	if !ok {
		return "", s.unauthenticated(c)
	}
	if p.Device != hub.DeviceTotem || p.ID != id {
		return "", hub.ErrForbidden
	}
	return id, nil
}

// totemJobs serves GET /api/v1/totems/{id}/jobs: the agent's websocket.
// On connect the hub sends every pending job of that totem, then each new
// one; the agent answers each with a result. Jobs older than
// hub.JobMaxAge are failed as expired instead of printed. A job is marked
// only by its result, so a connection lost mid-job resends it; the agent
// remembers what it printed and answers a resend without printing again.
func (s *Server) totemJobs(c echo.Context) error {
	id, err := s.totemDevice(c)
	if err != nil {
		return err
	}
	ws, err := upgrader.Upgrade(c.Response(), c.Request(), nil)
	if err != nil {
		return nil
	}
	defer ws.Close()
	log := s.log.With("totem", id)
	sub, _, _ := s.eng.Subscribe(256)
	defer sub.Close()
	s.totems.update(id, func(h *TotemHealth) { h.Connected, h.LastSeen = true, s.eng.Now() })
	defer s.totems.update(id, func(h *TotemHealth) { h.Connected = false })

	var wmu sync.Mutex
	write := func(v any) error {
		data, err := json.Marshal(v)
		if err != nil {
			return err
		}
		wmu.Lock()
		defer wmu.Unlock()
		_ = ws.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
		return ws.WriteMessage(websocket.TextMessage, data)
	}
	sent := map[string]bool{}
	sendPending := func() error {
		for _, t := range s.eng.PrintJobs(id) {
			if sent[t.ID] {
				continue
			}
			if s.eng.Now().Sub(t.PrintAt) > hub.JobMaxAge {
				if _, err := s.eng.PrintResult(c.Request().Context(), id, t.ID, false, "expired: not printed within 3 minutes"); err != nil {
					log.Error("expire job", "err", err)
				}
				continue
			}
			sent[t.ID] = true
			if err := write(JobMessage{Type: "job", Job: t.ID, Ticket: s.jobTicket(t)}); err != nil {
				return err
			}
		}
		return nil
	}
	if err := sendPending(); err != nil {
		return nil
	}

	pongWait := s.cfg.PingInterval * 2
	ws.SetReadLimit(4096)
	_ = ws.SetReadDeadline(time.Now().Add(pongWait))
	ws.SetPongHandler(func(string) error { return ws.SetReadDeadline(time.Now().Add(pongWait)) })
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				return
			}
			_ = ws.SetReadDeadline(time.Now().Add(pongWait))
			var m AgentMessage
			if err := decodeJSON(data, &m, false); err != nil {
				log.Warn("bad agent message", "err", err)
				continue
			}
			now := s.eng.Now()
			switch m.Type {
			case "result":
				t, err := s.eng.PrintResult(c.Request().Context(), id, m.Job, m.OK, m.Error)
				if err != nil {
					log.Warn("job result", "job", m.Job, "err", err)
					continue
				}
				s.totems.update(id, func(h *TotemHealth) {
					h.LastSeen = now
					if !m.OK {
						h.LastError = t.Number + ": " + m.Error
					}
				})
			case "status":
				s.totems.update(id, func(h *TotemHealth) { h.LastSeen, h.PrinterState, h.AgentVersion = now, m.State, m.Version })
			}
		}
	}()
	ping := time.NewTicker(s.cfg.PingInterval)
	defer ping.Stop()
	for {
		select {
		case ev, ok := <-sub.C:
			if !ok {
				return nil
			}
			if ev.Type == hub.EventTicketIssued || ev.Type == hub.EventTicketReprint {
				if ev.Type == hub.EventTicketReprint {
					delete(sent, ev.Data.TicketID)
				}
				if err := sendPending(); err != nil {
					return nil
				}
			}
		case <-ping.C:
			wmu.Lock()
			err := ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(s.cfg.WriteTimeout))
			wmu.Unlock()
			if err != nil {
				return nil
			}
		case <-gone:
			return nil
		}
	}
}

func (s *Server) totemHelp(c echo.Context) error {
	id := c.Param("id")
	p, _ := principal(c)
	if p.IsDevice() {
		var err error
		if id, err = s.totemDevice(c); err != nil {
			return err
		}
	} else if !s.knownTotem(id) {
		return hub.Errorf(hub.KindNotFound, "totem_not_found", "no totem %q", id)
	}
	if err := decodeBody(c.Request().Body, &struct{}{}, true); err != nil {
		return err
	}
	if err := s.eng.Help(c.Request().Context(), id, p.ID); err != nil {
		return err
	}
	return c.NoContent(http.StatusAccepted)
}

func (s *Server) totemList(c echo.Context) error {
	out := []TotemHealth{}
	s.totems.mu.Lock()
	for _, t := range s.eng.Site().Totems {
		h := *s.totems.get(t.ID)
		out = append(out, h)
	}
	s.totems.mu.Unlock()
	for i := range out {
		out[i].Pending = len(s.eng.PrintJobs(out[i].ID))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return c.JSON(http.StatusOK, out)
}

func (s *Server) reprint(c echo.Context) error {
	if err := decodeBody(c.Request().Body, &struct{}{}, true); err != nil {
		return err
	}
	p, _ := principal(c)
	t, err := s.eng.Reprint(c.Request().Context(), c.Param("id"), p.ID)
	if err != nil {
		return err
	}
	return s.ticketReply(c, t)
}
