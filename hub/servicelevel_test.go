package hub_test

import (
	"testing"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/stretchr/testify/require"
)

// TestServiceLevels: today's live service level counts the visits called
// within the target against those called plus those waiting (or gone)
// beyond it.
func TestServiceLevels(t *testing.T) {
	e := newEnv(t)
	e.open1("1", "clerk01")
	level := func(service string) hub.ServiceLevel {
		for _, l := range e.eng.ServiceLevels() {
			if l.Service == service {
				return l
			}
		}
		t.Fatalf("no service %s", service)
		return hub.ServiceLevel{}
	}
	_, ok := level("certificati").Ratio()
	require.False(t, ok, "nothing yet")
	a := e.issue("certificati", hub.PriorityNone) // target 15 min
	b := e.issue("certificati", hub.PriorityNone)
	c := e.issue("certificati", hub.PriorityNone)
	e.clock.Advance(10 * time.Minute)
	_, err := e.eng.CallTicket(ctx, "1", "clerk01", a.ID) // 10 min: within
	require.NoError(t, err)
	_, err = e.eng.Finish(ctx, "1", "clerk01", hub.FinishRequest{})
	require.NoError(t, err)
	e.clock.Advance(10 * time.Minute)
	_, err = e.eng.CallTicket(ctx, "1", "clerk01", b.ID) // 20 min: beyond
	require.NoError(t, err)
	l := level("certificati")
	require.Equal(t, hub.ServiceLevel{Service: "certificati", Target: 15 * time.Minute, InTarget: 1, Called: 2, Missed: 1, OverTarget: 1}, l, "c waits for 20 minutes")
	r, ok := l.Ratio()
	require.True(t, ok)
	require.InDelta(t, 1.0/3, r, 1e-9)
	_, err = e.eng.Cancel(ctx, c.ID, "citizen")
	require.NoError(t, err)
	l = level("certificati")
	require.Equal(t, 1, l.Missed, "gone after the target: still missed")
	require.Zero(t, l.OverTarget)
}
