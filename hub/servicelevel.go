package hub

import "time"

// ServiceLevel is today's live service level of one service, for
// monitoring: how many visits were called within the service's target
// wait, against those called plus those who waited (or are waiting)
// beyond it without being called. The reports compute the same figure
// for closed days from the event log (package kpi).
type ServiceLevel struct {
	Service  string
	Target   time.Duration
	InTarget int
	// Called counts today's visits called at least once.
	Called int
	// Missed are visits not called yet (or gone) after waiting longer
	// than the target; OverTarget is the part of them still waiting.
	Missed     int
	OverTarget int
}

// Ratio is the service level in 0…1, and false when nothing counts yet.
func (l ServiceLevel) Ratio() (float64, bool) {
	n := l.Called + l.Missed
	if n == 0 {
		return 0, false
	}
	return float64(l.InTarget) / float64(n), true
}

// ServiceLevels returns today's service level of every service, in
// catalogue order.
func (e *Engine) ServiceLevels() []ServiceLevel {
	e.mu.RLock()
	defer e.mu.RUnlock()
	now := e.clock()
	today := e.day(now)
	idx := map[string]int{}
	out := make([]ServiceLevel, len(e.site.Services))
	for i, sv := range e.site.Services {
		idx[sv.ID] = i
		out[i] = ServiceLevel{Service: sv.ID, Target: sv.TargetWait}
	}
	for _, t := range e.tickets {
		if t.Day != today {
			continue
		}
		// A visit counts under the service it was issued for.
		service := t.Service
		if len(t.Steps) > 0 {
			service = t.Steps[0].Service
		}
		i, ok := idx[service]
		if !ok {
			continue
		}
		l := &out[i]
		if len(t.Steps) > 0 {
			l.Called++
			if t.Steps[0].CalledAt.Sub(t.IssuedAt) <= l.Target {
				l.InTarget++
			}
			continue
		}
		end := now
		if t.ClosedAt != nil {
			end = *t.ClosedAt
		}
		if end.Sub(t.IssuedAt) > l.Target {
			l.Missed++
			if t.Status == StatusWaiting {
				l.OverTarget++
			}
		}
	}
	return out
}
