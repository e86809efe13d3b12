package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"
)

// maxReplay bounds a since= replay; a client further behind gets a fresh
// snapshot, which is cheaper for both sides.
const maxReplay = 10_000

// message is the contract's live-feed message.
type message struct {
	Seq  uint64    `json:"seq"`
	Type string    `json:"type"`
	At   time.Time `json:"at"`
	Data any       `json:"data"`
}

type liveStats struct {
	clients atomic.Int64
	dropped atomic.Int64
	sent    atomic.Int64
}

var upgrader = websocket.Upgrader{
	ReadBufferSize:  1024,
	WriteBufferSize: 4096,
	// Screens and totems are on the office LAN and the feed is public.
	CheckOrigin: func(r *http.Request) bool { return true },
}

func publicMessage(e hub.Event) message {
	p := e.Public()
	return message{Seq: p.Seq, Type: p.Type, At: p.At, Data: p.Data}
}

// liveFeed serves GET /api/v1/live: subscribe first, then replay from the
// store what the client missed (or send a snapshot), then stream. Because
// the subscription and the snapshot's seq are taken under the engine's
// lock, nothing falls between replay and stream, and nothing comes twice.
func (s *Server) liveFeed(c echo.Context) error {
	var since uint64
	hasSince := false
	if q := c.QueryParam("since"); q != "" {
		n, err := strconv.ParseUint(q, 10, 64)
		if err != nil {
			return hub.FieldError("invalid_since", "since", "since must be a non-negative integer")
		}
		since, hasSince = n, true
	}
	ws, err := upgrader.Upgrade(c.Response(), c.Request(), nil)
	if err != nil {
		return nil // the upgrader already answered
	}
	defer ws.Close()
	s.live.clients.Add(1)
	defer s.live.clients.Add(-1)

	sub, snap, seq := s.eng.Subscribe(s.cfg.LiveBuffer)
	defer sub.Close()

	first := []message{}
	sendSnapshot := !hasSince
	if hasSince && since < seq {
		events, ok, err := s.eng.EventsSince(since, maxReplay+1)
		if err != nil {
			s.log.Error("live replay", "err", err)
			return nil
		}
		if !ok || len(events) > maxReplay {
			sendSnapshot = true
		} else {
			for _, e := range events {
				if e.Seq > seq {
					break
				}
				if e.Private() {
					continue
				}
				first = append(first, publicMessage(e))
			}
		}
	} else if hasSince && since > seq {
		// A seq from the future: the client talked to another store.
		sendSnapshot = true
	}
	if sendSnapshot {
		first = []message{{Seq: seq, Type: hub.EventSnapshot, At: s.eng.Now(), Data: snap}}
	}

	// Reader: only control frames are expected; it keeps the read
	// deadline moving with pongs and notices when the client goes.
	gone := make(chan struct{})
	pongWait := s.cfg.PingInterval * 2
	ws.SetReadLimit(512)
	_ = ws.SetReadDeadline(time.Now().Add(pongWait))
	ws.SetPongHandler(func(string) error { return ws.SetReadDeadline(time.Now().Add(pongWait)) })
	go func() {
		defer close(gone)
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
					// No pong within the wait: a client that stopped
					// reading (or vanished) is dropped.
					s.live.dropped.Add(1)
				}
				return
			}
		}
	}()

	write := func(m message) error {
		data, err := json.Marshal(m)
		if err != nil {
			return err
		}
		_ = ws.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
		if err := ws.WriteMessage(websocket.TextMessage, data); err != nil {
			return err
		}
		s.live.sent.Add(1)
		return nil
	}
	for _, m := range first {
		if err := write(m); err != nil {
			return nil
		}
	}
	ping := time.NewTicker(s.cfg.PingInterval)
	defer ping.Stop()
	for {
		select {
		case e, ok := <-sub.C:
			if !ok {
				if sub.Dropped() {
					s.live.dropped.Add(1)
					_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation, "too slow: reconnect with since="), time.Now().Add(time.Second))
				} else {
					_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "hub stopping"), time.Now().Add(time.Second))
				}
				return nil
			}
			if err := write(publicMessage(e)); err != nil {
				if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
					// Stuck socket: the client stopped reading.
					s.live.dropped.Add(1)
				}
				return nil
			}
		case <-ping.C:
			if err := ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(s.cfg.WriteTimeout)); err != nil {
				return nil
			}
		case <-gone:
			return nil
		}
	}
}
