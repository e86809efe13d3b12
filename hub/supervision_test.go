package hub_test

import (
	"testing"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/stretchr/testify/require"
)

func TestParkAndCallBack(t *testing.T) {
	e := newEnv(t)
	a := e.issue("certificati", hub.PriorityNone)
	b := e.issue("certificati", hub.PriorityNone)
	e.open1("1", "clerk01")
	e.open1("2", "clerk02")
	_, err := e.eng.CallNext(ctx, "1", "clerk01")
	require.NoError(t, err)
	p, err := e.eng.Park(ctx, "1", "clerk01", "va a prendere il documento")
	require.NoError(t, err)
	require.True(t, p.Parked)
	require.Equal(t, hub.StatusWaiting, p.Status)
	// Neither counter's call-next takes the parked ticket.
	c, err := e.eng.CallNext(ctx, "2", "clerk02")
	require.NoError(t, err)
	require.Equal(t, b.ID, c.ID)
	n, err := e.eng.CallNext(ctx, "1", "clerk01")
	require.NoError(t, err)
	require.Nil(t, n)
	_, err = e.eng.CallTicket(ctx, "2", "clerk02", a.ID)
	require.Equal(t, "counter_busy", code(err))
	back, err := e.eng.CallTicket(ctx, "1", "clerk01", a.ID)
	require.NoError(t, err)
	require.False(t, back.Parked)
	require.Equal(t, hub.StatusCalled, back.Status)
}

func TestAddServiceAndProfile(t *testing.T) {
	e := newEnv(t)
	e.issue("certificati", hub.PriorityNone)
	e.open1("3", "clerk03")
	_, err := e.eng.CallNext(ctx, "3", "clerk03")
	require.NoError(t, err)
	tk, err := e.eng.AddService(ctx, "3", "clerk03", "residenza")
	require.NoError(t, err)
	require.Equal(t, []string{"residenza"}, tk.Requested)
	_, err = e.eng.AddService(ctx, "3", "clerk03", "residenza")
	require.Equal(t, "duplicate_service", code(err))
	_, err = e.eng.AddService(ctx, "3", "clerk03", "nope")
	require.Equal(t, "service_not_found", code(err))

	c, err := e.eng.SetCounterServices(ctx, "4", []string{"tributi", "idrico"}, "supervisor")
	require.NoError(t, err)
	require.Equal(t, []string{"tributi", "idrico"}, c.Services)
	_, err = e.eng.SetCounterServices(ctx, "4", []string{"servizi_sociali"}, "supervisor")
	require.Equal(t, hub.KindInvalid, hub.ErrorKind(err), "a room service is not for a counter")
	_, err = e.eng.SetCounterServices(ctx, "4", nil, "supervisor")
	require.Error(t, err)
	e.restart()
	cv, err := e.eng.Counter("4")
	require.NoError(t, err)
	require.Equal(t, []string{"tributi", "idrico"}, cv.Counter.Services, "a live profile change survives a restart")
}

func TestForceCloseAndEndOfDay(t *testing.T) {
	e := newEnv(t)
	a := e.issue("certificati", hub.PriorityNone)
	e.issue("cie", hub.PriorityNone)
	e.open1("1", "clerk01")
	_, err := e.eng.CallNext(ctx, "1", "clerk01")
	require.NoError(t, err)
	_, err = e.eng.ForceClose(ctx, "1", "supervisor")
	require.NoError(t, err)
	v, _ := e.eng.Ticket(a.ID)
	require.Equal(t, hub.StatusWaiting, v.Ticket.Status, "back to waiting, keeping its place")
	require.Equal(t, 1, v.Position)
	cv, _ := e.eng.Counter("1")
	require.Equal(t, hub.CounterClosed, cv.Counter.State)

	e.open1("2", "clerk02")
	e.clock.Advance(8 * time.Hour)
	n, err := e.eng.EndOfDay(ctx, "chiusura ufficio", "supervisor")
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Empty(t, e.eng.Tickets(hub.TicketFilter{Status: hub.StatusWaiting}))
	for _, c := range e.eng.Counters() {
		require.Equal(t, hub.CounterClosed, c.Counter.State)
	}
	_, err = e.eng.EndOfDay(ctx, "", "supervisor")
	require.Error(t, err, "a reason is required")
}

func TestAuditTrail(t *testing.T) {
	e := newEnv(t)
	tk, _, err := e.eng.Issue(ctx, hub.IssueRequest{Service: "certificati", By: "totem-2"})
	require.NoError(t, err)
	e.open1("1", "clerk01")
	_, err = e.eng.CallNext(ctx, "1", "clerk01")
	require.NoError(t, err)
	_, err = e.eng.Finish(ctx, "1", "clerk01", hub.FinishRequest{Outcome: "rilasciato"})
	require.NoError(t, err)
	_, err = e.eng.Cancel(ctx, e.issue("cie", hub.PriorityNone).ID, "supervisor")
	require.NoError(t, err)
	all, err := e.eng.Audit(0, 0, "")
	require.NoError(t, err)
	var got []string
	for _, a := range all {
		require.NotEmpty(t, a.Actor, "every action has who: %+v", a)
		require.NotEmpty(t, a.At)
		got = append(got, a.Actor+" "+a.Action+" "+a.Target)
	}
	require.Equal(t, []string{
		"totem-2 ticket.issued " + tk.Number,
		"clerk01 counter.opened counter 1",
		"clerk01 ticket.called " + tk.Number,
		"clerk01 ticket.finished " + tk.Number,
		"totem-1 ticket.issued C001",
		"supervisor ticket.cancelled C001",
	}, got)
	mine, err := e.eng.Audit(0, 0, "clerk01")
	require.NoError(t, err)
	require.Len(t, mine, 3)
	require.Contains(t, mine[2].Detail, "outcome rilasciato")
}
