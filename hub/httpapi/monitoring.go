package httpapi

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// CzRMHealth is what /metrics shows of the CzRM sync (crmsync's status,
// wired in by cmd so that httpapi does not import crmsync).
type CzRMHealth struct {
	Backlog     int
	DeadLetters int
	// OldestPending is the age of the oldest undelivered change (0: none).
	OldestPending time.Duration
	BreakerOpen   bool
	LastDelivered time.Time
}

// printerStates are the printer states a totem's agent reports; each is
// a series of sportello_printer_state so that alerts match on one.
var printerStates = []string{"ok", "paper_near_end", "paper_out", "cover_open", "offline", "error", "unknown"}

// monitoringMetrics writes the gauges for live monitoring and alerting:
// today's service level, totems and their printers, display heartbeats
// and the CzRM backlog. Survey answers are not here on purpose: a live
// count would let a clerk tell their own visit's rating. Names are documented in
// docs/monitoring.md; docs/monitoring/alerts.yml uses them.
func (s *Server) monitoringMetrics(b *strings.Builder) {
	gauge := func(name, help string) {
		fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name)
	}
	levels := s.eng.ServiceLevels()
	gauge("sportello_service_level_ratio", "Today's share of visits called within the service's target wait (0-1); absent for services without visits yet.")
	for _, l := range levels {
		if r, ok := l.Ratio(); ok {
			fmt.Fprintf(b, "sportello_service_level_ratio{service=%q} %.4f\n", l.Service, r)
		}
	}
	gauge("sportello_service_level_visits", "Today's visits counted in the service level (called, or waited beyond the target).")
	for _, l := range levels {
		fmt.Fprintf(b, "sportello_service_level_visits{service=%q} %d\n", l.Service, l.Called+l.Missed)
	}
	gauge("sportello_service_target_wait_minutes", "Each service's target wait (the service level's threshold).")
	for _, l := range levels {
		fmt.Fprintf(b, "sportello_service_target_wait_minutes{service=%q} %d\n", l.Service, int(l.Target/time.Minute))
	}
	gauge("sportello_queue_over_target", "Tickets waiting longer than their service's target right now.")
	for _, l := range levels {
		fmt.Fprintf(b, "sportello_queue_over_target{service=%q} %d\n", l.Service, l.OverTarget)
	}
	// Totems and their printers.
	s.totems.mu.Lock()
	var totems []TotemHealth
	for _, t := range s.eng.Site().Totems {
		totems = append(totems, *s.totems.get(t.ID))
	}
	s.totems.mu.Unlock()
	sort.Slice(totems, func(i, j int) bool { return totems[i].ID < totems[j].ID })
	gauge("sportello_totem_connected", "1 when the totem's print agent is connected.")
	for _, t := range totems {
		fmt.Fprintf(b, "sportello_totem_connected{totem=%q} %d\n", t.ID, b2i(t.Connected))
	}
	gauge("sportello_totem_pending_jobs", "Tickets waiting to be printed by the totem.")
	for _, t := range totems {
		fmt.Fprintf(b, "sportello_totem_pending_jobs{totem=%q} %d\n", t.ID, len(s.eng.PrintJobs(t.ID)))
	}
	gauge("sportello_printer_state", "1 for the printer state the totem's agent last reported (ok, paper_near_end, paper_out, cover_open, offline, error, unknown).")
	for _, t := range totems {
		st := t.PrinterState
		if st == "" {
			st = "unknown"
		}
		for _, ps := range printerStates {
			fmt.Fprintf(b, "sportello_printer_state{totem=%q,state=%q} %d\n", t.ID, ps, b2i(st == ps))
		}
	}
	gauge("sportello_printer_paper_out", "1 when the totem's printer is out of paper.")
	for _, t := range totems {
		fmt.Fprintf(b, "sportello_printer_paper_out{totem=%q} %d\n", t.ID, b2i(t.PrinterState == "paper_out"))
	}

	// Displays.
	now := s.eng.Now()
	ds := s.Displays()
	gauge("sportello_display_online", "1 when the screen sent a heartbeat within the last minute.")
	for _, d := range ds {
		fmt.Fprintf(b, "sportello_display_online{display=%q} %d\n", d.ID, b2i(d.Online))
	}
	gauge("sportello_display_heartbeat_age_seconds", "Seconds since the screen's last heartbeat (-1: none since the hub started).")
	for _, d := range ds {
		age := -1.0
		if !d.LastSeen.IsZero() {
			age = now.Sub(d.LastSeen).Seconds()
		}
		fmt.Fprintf(b, "sportello_display_heartbeat_age_seconds{display=%q} %.0f\n", d.ID, age)
	}

	// The CzRM sync.
	var cz CzRMHealth
	configured := s.cfg.CzRM != nil
	if configured {
		cz = s.cfg.CzRM()
	}
	gauge("sportello_czrm_configured", "1 when the hub sends visits to a CzRM.")
	fmt.Fprintf(b, "sportello_czrm_configured %d\n", b2i(configured))
	gauge("sportello_czrm_backlog", "Visits and reports not yet delivered to the CzRM (dead letters included).")
	fmt.Fprintf(b, "sportello_czrm_backlog %d\n", cz.Backlog)
	gauge("sportello_czrm_dead_letters", "Changes the CzRM refused for good, waiting for an operator.")
	fmt.Fprintf(b, "sportello_czrm_dead_letters %d\n", cz.DeadLetters)
	gauge("sportello_czrm_oldest_pending_seconds", "Age of the oldest change not yet delivered (0: none).")
	fmt.Fprintf(b, "sportello_czrm_oldest_pending_seconds %.0f\n", cz.OldestPending.Seconds())
	gauge("sportello_czrm_breaker_open", "1 while the circuit breaker to the CzRM is open.")
	fmt.Fprintf(b, "sportello_czrm_breaker_open %d\n", b2i(cz.BreakerOpen))
}

func b2i(v bool) int {
	if v {
		return 1
	}
	return 0
}
