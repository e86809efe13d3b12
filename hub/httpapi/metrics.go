package httpapi

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/comune-rc/sportello/hub"
	"github.com/labstack/echo/v4"
)

// metrics writes the Prometheus text format by hand: a handful of gauges
// and counters do not need a client library.
func (s *Server) metrics(c echo.Context) error {
	st := s.eng.Stats()
	var b strings.Builder
	gauge := func(name, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name)
	}
	counter := func(name, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s counter\n", name, help, name)
	}
	gauge("sportello_queue_waiting", "Tickets waiting per service.")
	for _, q := range st.Queue {
		fmt.Fprintf(&b, "sportello_queue_waiting{service=%q} %d\n", q.Service, q.Waiting)
	}
	gauge("sportello_queue_longest_wait_minutes", "Longest current wait per service.")
	for _, q := range st.Queue {
		fmt.Fprintf(&b, "sportello_queue_longest_wait_minutes{service=%q} %d\n", q.Service, q.LongestWaitMin)
	}
	gauge("sportello_queue_estimated_wait_minutes", "Estimated wait of a new ticket per service.")
	for _, q := range st.Queue {
		fmt.Fprintf(&b, "sportello_queue_estimated_wait_minutes{service=%q} %d\n", q.Service, q.EWTMin)
	}
	gauge("sportello_tickets", "Tickets of the day by status.")
	statuses := make([]string, 0, len(st.ByStatus))
	for k := range st.ByStatus {
		statuses = append(statuses, string(k))
	}
	sort.Strings(statuses)
	for _, k := range statuses {
		fmt.Fprintf(&b, "sportello_tickets{status=%q} %d\n", k, st.ByStatus[hubStatus(k)])
	}
	gauge("sportello_counters_open", "Counters and rooms open.")
	fmt.Fprintf(&b, "sportello_counters_open %d\n", st.OpenDesks)
	counter("sportello_events_total", "Events committed (the last seq).")
	fmt.Fprintf(&b, "sportello_events_total %d\n", st.LastSeq)
	gauge("sportello_websocket_clients", "Live-feed clients connected.")
	fmt.Fprintf(&b, "sportello_websocket_clients %d\n", s.live.clients.Load())
	counter("sportello_websocket_dropped_total", "Live-feed clients dropped for being slow.")
	fmt.Fprintf(&b, "sportello_websocket_dropped_total %d\n", s.live.dropped.Load())
	counter("sportello_websocket_messages_total", "Live-feed messages sent.")
	fmt.Fprintf(&b, "sportello_websocket_messages_total %d\n", s.live.sent.Load())
	s.monitoringMetrics(&b)
	return c.Blob(http.StatusOK, "text/plain; version=0.0.4; charset=utf-8", []byte(b.String()))
}

func hubStatus(s string) hub.Status { return hub.Status(s) }
