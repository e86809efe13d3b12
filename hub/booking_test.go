package hub_test

import (
	"testing"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/stretchr/testify/require"
)

func TestValidFiscalCode(t *testing.T) {
	// The textbook example, and the same with omocodia (digits replaced by
	// letters, check character recomputed).
	for _, cf := range []string{"RSSMRA85T10A562S", "RSSMRAURTMLARSNL"} {
		require.True(t, hub.ValidFiscalCode(cf), cf)
	}
	for _, cf := range []string{"", "RSSMRA85T10A562X", "rssmra85t10a562s", "RSSMRA85T10A562", "RSSMRA85T10A562SS", "1SSMRA85T10A562S"} {
		require.False(t, hub.ValidFiscalCode(cf), cf)
	}
}

func TestSlotsAndCapacity(t *testing.T) {
	e := newEnv(t) // Tuesday 2026-12-01 09:00, Europe/Rome
	slots, err := e.eng.Slots("servizi_sociali", "2026-12-02")
	require.NoError(t, err)
	require.NotEmpty(t, slots)
	first := slots[0]
	require.Equal(t, 8, first.Start.Hour())
	require.Equal(t, 30, first.Start.Minute())
	require.Greater(t, first.PriorityCapacity, 0)
	require.LessOrEqual(t, first.Capacity, first.PriorityCapacity, "part of the capacity is held back for walk-ins")
	// Book the ordinary capacity, then the slot is full for ordinary
	// bookings but still open to a priority category.
	for i := 0; i < first.Capacity; i++ {
		_, err := e.eng.Book(ctx, hub.BookRequest{Strict: true, Service: "servizi_sociali", Slot: first.Start, Channel: hub.ChannelPhone})
		require.NoError(t, err)
	}
	_, err = e.eng.Book(ctx, hub.BookRequest{Strict: true, Service: "servizi_sociali", Slot: first.Start})
	require.Equal(t, "slot_full", code(err))
	if first.PriorityCapacity > first.Capacity {
		_, err = e.eng.Book(ctx, hub.BookRequest{Strict: true, Service: "servizi_sociali", Slot: first.Start, Priority: hub.PriorityDisability})
		require.NoError(t, err)
	}
	slots, _ = e.eng.Slots("servizi_sociali", "2026-12-02")
	require.Equal(t, 0, slots[0].Free)
	// Not a slot: off the grid, in the past, on a Sunday.
	for _, bad := range []time.Time{first.Start.Add(7 * time.Minute), e.clock.Now().Add(-time.Hour), time.Date(2026, 12, 6, 9, 0, 0, 0, e.clock.Now().Location())} {
		_, err = e.eng.Book(ctx, hub.BookRequest{Strict: true, Service: "servizi_sociali", Slot: bad})
		require.Equal(t, "invalid_slot", code(err), bad)
	}
	_, err = e.eng.Slots("nope", "2026-12-02")
	require.Equal(t, "service_not_found", code(err))
	_, err = e.eng.Slots("cie", "tomorrow")
	require.Equal(t, "invalid_day", code(err))

	// A cancelled booking frees its place.
	a, err := e.eng.Book(ctx, hub.BookRequest{Strict: true, Service: "cie", Slot: first.Start, Citizen: &hub.Citizen{FiscalCode: "rssmra85t10a562s", Name: "Mario Rossi"}, CaseID: "CASE-1"})
	require.NoError(t, err)
	require.Equal(t, "RSSMRA85T10A562S", a.Citizen.FiscalCode)
	require.NotEmpty(t, a.PersonKey)
	_, err = e.eng.CancelAppointment(ctx, a.Code, "agent")
	require.NoError(t, err)
	_, err = e.eng.CancelAppointment(ctx, a.Code, "agent")
	require.Equal(t, "appointment_not_cancellable", code(err))
	_, _, err = e.eng.Issue(ctx, hub.IssueRequest{Appointment: a.Code})
	require.Equal(t, "appointment_not_found", code(err))
	_, err = e.eng.Book(ctx, hub.BookRequest{Service: "cie", Slot: first.Start, Citizen: &hub.Citizen{FiscalCode: "XXX"}})
	require.Equal(t, "invalid_fiscal_code", code(err))
}

func TestVirtualQueue(t *testing.T) {
	e := newEnv(t)
	mario := &hub.Citizen{FiscalCode: "RSSMRA85T10A562S"}
	walkIn := e.issue("certificati", hub.PriorityNone)
	e.clock.Advance(time.Minute)
	v, err := e.eng.JoinQueue(ctx, hub.JoinRequest{Service: "certificati", Citizen: mario, By: "svu"})
	require.NoError(t, err)
	require.Equal(t, "virtual", v.Kind)
	_, err = e.eng.JoinQueue(ctx, hub.JoinRequest{Service: "certificati", Citizen: mario})
	require.Equal(t, "already_in_queue", code(err))
	_, err = e.eng.JoinQueue(ctx, hub.JoinRequest{Service: "tributi", Citizen: mario})
	require.NoError(t, err)
	_, err = e.eng.JoinQueue(ctx, hub.JoinRequest{Service: "idrico", Citizen: mario})
	require.Equal(t, "limit_reached", code(err))
	_, err = e.eng.JoinQueue(ctx, hub.JoinRequest{Service: "idrico"})
	require.Equal(t, "missing_field", code(err))

	// Checked in at the totem later, the place counts from joining: ahead
	// of a walk-in who came in between.
	e.clock.Advance(20 * time.Minute)
	later := e.issue("certificati", hub.PriorityNone)
	tk, _, err := e.eng.Issue(ctx, hub.IssueRequest{Appointment: v.Code, By: "totem-1"})
	require.NoError(t, err)
	require.Equal(t, v.Slot, tk.Arrival)
	require.Equal(t, "RSSMRA85T10A562S", tk.Citizen.FiscalCode)
	pos := map[string]int{}
	for _, id := range []string{walkIn.ID, tk.ID, later.ID} {
		tv, _ := e.eng.Ticket(id)
		pos[id] = tv.Position
	}
	require.Equal(t, 1, pos[walkIn.ID])
	require.Equal(t, 2, pos[tk.ID])
	require.Equal(t, 3, pos[later.ID])
}

func TestSendToSportelloAndPersonalData(t *testing.T) {
	e := newEnv(t)
	tk, _, err := e.eng.Issue(ctx, hub.IssueRequest{Service: "tributi", Channel: hub.ChannelPhone, CaseID: "CZRM-00042", Citizen: &hub.Citizen{FiscalCode: "RSSMRA85T10A562S", Name: "Mario Rossi"}, By: "agent07"})
	require.NoError(t, err)
	require.Equal(t, "CZRM-00042", tk.CaseID)
	// The public feed carries neither the case nor the citizen.
	snap, _ := e.eng.Snapshot()
	_ = snap
	e.open1("12", "clerk12")
	_, err = e.eng.CallNext(ctx, "12", "clerk12")
	require.NoError(t, err)
	_, err = e.eng.Finish(ctx, "12", "clerk12", hub.FinishRequest{Outcome: "ok"})
	require.NoError(t, err)
	// After delivery the visit keeps only the keyed hash.
	require.NoError(t, e.eng.ReduceCitizen(ctx, tk.ID))
	v, _ := e.eng.Ticket(tk.ID)
	require.Empty(t, v.Ticket.Citizen.FiscalCode)
	require.Empty(t, v.Ticket.Citizen.Name)
	require.Equal(t, e.eng.PersonKey("RSSMRA85T10A562S"), v.Ticket.Citizen.Hash)
	e.restart()
	v, _ = e.eng.Ticket(tk.ID)
	require.Empty(t, v.Ticket.Citizen.FiscalCode, "reduced on disk too")

	// Retention: appointments and visits older than the limit lose it.
	a, err := e.eng.Book(ctx, hub.BookRequest{Service: "cie", Slot: e.clock.Now().Add(time.Hour), Citizen: &hub.Citizen{FiscalCode: "RSSMRA85T10A562S"}})
	require.NoError(t, err)
	e.clock.Advance(40 * 24 * time.Hour)
	n, err := e.eng.PurgePersonal(ctx, 30*24*time.Hour)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	got, _ := e.eng.Appointment(a.Code)
	require.Empty(t, got.Citizen.FiscalCode)
}

// A visit delivered after midnight is reduced on disk and does not come
// back into the new day's lists.
func TestReduceCitizenOfAPastDay(t *testing.T) {
	e := newEnv(t)
	tk, _, err := e.eng.Issue(ctx, hub.IssueRequest{Service: "tributi", Channel: hub.ChannelPhone, Citizen: &hub.Citizen{FiscalCode: "RSSMRA85T10A562S", Name: "Mario Rossi"}, By: "agent07"})
	require.NoError(t, err)
	e.open1("12", "clerk12")
	_, err = e.eng.CallNext(ctx, "12", "clerk12")
	require.NoError(t, err)
	_, err = e.eng.Finish(ctx, "12", "clerk12", hub.FinishRequest{Outcome: "ok"})
	require.NoError(t, err)
	e.clock.Advance(24 * time.Hour)
	e.restart()
	require.NoError(t, e.eng.ReduceCitizen(ctx, tk.ID))
	got, err := e.store.Ticket(tk.ID)
	require.NoError(t, err)
	require.Empty(t, got.Citizen.FiscalCode)
	require.Equal(t, e.eng.PersonKey("RSSMRA85T10A562S"), got.Citizen.Hash)
	for _, v := range e.eng.Tickets(hub.TicketFilter{}) {
		require.NotEqual(t, tk.ID, v.Ticket.ID, "yesterday's visit is back in today's list")
	}
	require.Equal(t, hub.ErrorCode(e.eng.ReduceCitizen(ctx, "cedir-19990101-A001")), "ticket_not_found")
}
