package desk_test

import (
	"context"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/comune-rc/sportello/crmsync"
	"github.com/comune-rc/sportello/crmsync/peer"
	"github.com/comune-rc/sportello/desk"
	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/hubtest"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"
)

// TestBrowserSupervisorCzRMSync: with the CzRM down for two hours of the
// hub's (simulated) clock, the supervisor console shows the visits
// waiting to be sent, how long the oldest has waited, the link down and
// the last error; once the CzRM is back and the backlog drained, it shows
// zero and the link up.
func TestBrowserSupervisorCzRMSync(t *testing.T) {
	czrm, err := peer.New(peer.Config{Data: t.TempDir(), Demo: true})
	require.NoError(t, err)
	psrv := httptest.NewServer(czrm.Handler())
	t.Cleanup(func() { _ = czrm.Close(); psrv.CloseClientConnections(); psrv.Close() })
	require.NoError(t, czrm.Faults().Set(peer.KindAll, peer.Fault{Mode: peer.ModeError, Status: 503}))

	clock := newClock()
	var w *crmsync.Worker
	h := hubtest.Start(t, hubtest.Options{Clock: clock.Now, Pages: func(h *hubtest.Hub) []func(*echo.Echo) {
		up, o311, err := crmsync.NewCzRMBindings(psrv.URL, "sportello", "demo", crmsync.Mapping{}, nil)
		require.NoError(t, err)
		w, err = crmsync.New(crmsync.Config{Store: h.Store, Upsert: up, Open311: o311, Clock: clock.Now, Logger: hubtest.Quiet,
			PollInterval: 5 * time.Millisecond, NoReconcile: true, Rand: func() float64 { return 0.5 }})
		require.NoError(t, err)
		return []func(*echo.Echo){desk.Mount(desk.Config{Engine: h.Engine, Accounts: h.Accounts, Refresh: time.Second}), crmsync.Mount(w)}
	}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	for i := 0; i < 3; i++ {
		issue(t, h, "certificati", hub.PriorityNone)
	}
	w.Notify()
	tab := tab(t)
	browserLogin(t, tab, h, "supervisor", "/supervisor")
	waitFor(t, tab, "the CzRM card with the backlog", `(() => { const c = document.querySelector('#crmsync');
	  return c && !c.hidden && c.dataset.backlog === '3'; })()`)
	clock.Advance(2 * time.Hour)
	w.Notify()
	waitFor(t, tab, "two hours of waiting, the link down, the error", `document.querySelector('#cz-oldest').textContent.startsWith('2 h') &&
	  document.querySelector('#crmsync').dataset.breaker !== 'closed' && document.querySelector('#cz-error').textContent.includes('503') &&
	  document.querySelector('#cz-backlog').textContent === '3'`)
	shot(t, tab, "supervisor-czrm-down")
	require.Equal(t, 3, w.Status().Backlog)

	czrm.Faults().ClearAll()
	clock.Advance(6 * time.Minute) // past the breaker's cool-down and the backoff
	w.Notify()
	waitFor(t, tab, "the backlog drained", `(() => { const c = document.querySelector('#crmsync');
	  return c.dataset.backlog === '0' && c.dataset.breaker === 'closed' && document.querySelector('#cz-oldest').textContent === '—'; })()`)
	require.Equal(t, 0, w.Status().Backlog)
	require.Equal(t, "3", strconv.FormatUint(w.Status().DeliveredTotal, 10))
}
