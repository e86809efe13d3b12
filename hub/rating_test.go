package hub_test

import (
	"strings"
	"testing"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/stretchr/testify/require"
)

// served issues a ticket and serves it to the end at counter 1.
func (e *env) served(service string) *hub.Ticket {
	e.t.Helper()
	tk := e.issue(service, hub.PriorityNone)
	_, err := e.eng.CallTicket(ctx, "1", "clerk01", tk.ID)
	require.NoError(e.t, err)
	_, err = e.eng.Start(ctx, "1", "clerk01")
	require.NoError(e.t, err)
	done, err := e.eng.Finish(ctx, "1", "clerk01", hub.FinishRequest{})
	require.NoError(e.t, err)
	require.Equal(e.t, tk.ID, done.ID)
	return done
}

func TestRateRefusals(t *testing.T) {
	e := newEnv(t)
	e.open1("1", "clerk01")
	waiting := e.issue("informazioni", hub.PriorityNone)
	done := e.served("certificati")
	noShow := e.issue("certificati", hub.PriorityNone)
	_, err := e.eng.CallNext(ctx, "1", "clerk01")
	require.NoError(t, err)
	_, err = e.eng.NoShow(ctx, "1", "clerk01")
	require.NoError(t, err)

	cases := []struct {
		name     string
		req      hub.RateRequest
		code     string
		kind     hub.Kind
		field    string
		contains string
	}{
		{"unknown id", hub.RateRequest{TicketID: "cedir-20261201-Z999", Score: 4}, "ticket_not_found", hub.KindNotFound, "", "no such visit"},
		{"unknown token", hub.RateRequest{Token: "nope", Score: 4}, "ticket_not_found", hub.KindNotFound, "", "no such visit"},
		{"unfinished", hub.RateRequest{TicketID: waiting.ID, Score: 4}, "visit_not_finished", hub.KindConflict, "", "not finished yet"},
		{"no-show", hub.RateRequest{TicketID: noShow.ID, Score: 2}, "visit_not_served", hub.KindConflict, "", "without a service"},
		{"score 0", hub.RateRequest{TicketID: done.ID, Score: 0}, "invalid_score", hub.KindInvalid, "score", "1 to 5"},
		{"score 6", hub.RateRequest{TicketID: done.ID, Score: 6}, "invalid_score", hub.KindInvalid, "score", "1 to 5"},
		{"reason", hub.RateRequest{TicketID: done.ID, Score: 3, Reason: "meteo"}, "invalid_reason", hub.KindInvalid, "reason", "one of"},
		{"comment too long", hub.RateRequest{TicketID: done.ID, Score: 3, Comment: strings.Repeat("é", hub.MaxRatingComment+1)}, "invalid_comment", hub.KindInvalid, "comment", "at most"},
		{"comment control", hub.RateRequest{TicketID: done.ID, Score: 3, Comment: "a\x07b"}, "invalid_comment", hub.KindInvalid, "comment", "control"},
		{"channel", hub.RateRequest{TicketID: done.ID, Score: 3, Channel: "fax"}, "invalid_channel", hub.KindInvalid, "channel", "web, counter or totem"},
	}
	before := e.eng.LastSeq()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.eng.Rate(ctx, c.req)
			require.Error(t, err)
			var he *hub.Error
			require.ErrorAs(t, err, &he)
			require.Equal(t, c.code, he.Code)
			require.Equal(t, c.kind, he.Kind)
			require.Equal(t, c.field, he.Field)
			require.Contains(t, he.Message, c.contains)
		})
	}
	require.Equal(t, before, e.eng.LastSeq(), "a refused rating changes nothing")
	v, err := e.eng.Ticket(done.ID)
	require.NoError(t, err)
	require.Nil(t, v.Ticket.Rating)

	// One answer per visit: the first is kept, the second refused.
	e.clock.Advance(time.Minute)
	got, err := e.eng.Rate(ctx, hub.RateRequest{Token: done.TrackToken, Score: 5, Reason: "cortesia", Comment: "  Molto gentili  "})
	require.NoError(t, err)
	require.Equal(t, &hub.Rating{Score: 5, Reason: "cortesia", Comment: "Molto gentili", Channel: "web", At: e.clock.Now()}, got.Rating)
	seq := e.eng.LastSeq()
	_, err = e.eng.Rate(ctx, hub.RateRequest{TicketID: done.ID, Score: 1, Channel: hub.RatedAtTotem})
	require.Equal(t, "already_rated", code(err))
	require.Contains(t, err.Error(), "one answer per visit")
	require.Equal(t, seq, e.eng.LastSeq())

	// The rating is durable, in the event log (without the comment) and in
	// the visit's CzRM outbox record.
	e.restart()
	v, err = e.eng.Ticket(done.ID)
	require.NoError(t, err)
	require.Equal(t, 5, v.Ticket.Rating.Score)
	evs, _, err := e.store.EventsSince(seq-1, 0)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	require.Equal(t, hub.EventTicketRated, evs[0].Type)
	require.Equal(t, 5, evs[0].Data.Score)
	require.Equal(t, "cortesia", evs[0].Data.Reason)
	require.True(t, evs[0].Private())
	_, recs, err := e.store.Outbox(0, 0)
	require.NoError(t, err)
	last := recs[len(recs)-1]
	require.Equal(t, hub.EventTicketRated, last.Type)
	require.Equal(t, done.ID, last.TicketID)
	require.Equal(t, "Molto gentili", last.Ticket.Rating.Comment)

	// After the rating window the survey is closed.
	e.open1("1", "clerk01")
	late := e.served("certificati")
	e.clock.Advance(hub.RatingWindow + time.Minute)
	_, err = e.eng.Rate(ctx, hub.RateRequest{TicketID: late.ID, Score: 3})
	require.Equal(t, "rating_closed", code(err))
}

func TestRatingStaysOffThePublicFeed(t *testing.T) {
	e := newEnv(t)
	sub, _, _ := e.eng.Subscribe(64)
	defer sub.Close()
	e.open1("1", "clerk01")
	done := e.served("certificati")
	_, err := e.eng.Rate(ctx, hub.RateRequest{TicketID: done.ID, Score: 2, Channel: hub.RatedAtCounter})
	require.NoError(t, err)
	last := e.eng.LastSeq()
	// Everything up to the finish reaches the feed; the rating does not.
	var types []string
	for ev := range sub.C {
		types = append(types, ev.Type)
		if ev.Type == hub.EventTicketFinished {
			break
		}
	}
	require.NotContains(t, types, hub.EventTicketRated)
	select {
	case ev := <-sub.C:
		t.Fatalf("the feed sent %s (seq %d, last %d) after the finish", ev.Type, ev.Seq, last)
	default:
	}
	ev := hub.Event{Type: hub.EventTicketIssued, Data: hub.EventData{Score: 3, Slot: &time.Time{}}}.Public()
	require.Zero(t, ev.Data.Score)
	require.Nil(t, ev.Data.Slot)
}

func TestFeedbackVisit(t *testing.T) {
	e := newEnv(t)
	e.open1("1", "clerk01")
	_, err := e.eng.FeedbackVisit("99", time.Minute)
	require.Equal(t, "counter_not_found", code(err))
	got, err := e.eng.FeedbackVisit("1", time.Minute)
	require.NoError(t, err)
	require.Nil(t, got, "nothing served yet")
	first := e.served("certificati")
	got, err = e.eng.FeedbackVisit("1", time.Minute)
	require.NoError(t, err)
	require.Equal(t, first.ID, got.ID)
	_, err = e.eng.Rate(ctx, hub.RateRequest{TicketID: first.ID, Score: 4, Channel: hub.RatedAtCounter})
	require.NoError(t, err)
	got, err = e.eng.FeedbackVisit("1", time.Minute)
	require.NoError(t, err)
	require.Nil(t, got, "rated: the screen resets")
	e.clock.Advance(time.Minute)
	second := e.served("certificati")
	e.clock.Advance(2 * time.Minute)
	got, err = e.eng.FeedbackVisit("1", time.Minute)
	require.NoError(t, err)
	require.Nil(t, got, "%s ended too long ago", second.Number)
	got, err = e.eng.FeedbackVisit("1", 5*time.Minute)
	require.NoError(t, err)
	require.Equal(t, second.ID, got.ID)
	e.issue("certificati", hub.PriorityNone)
	_, err = e.eng.CallNext(ctx, "1", "clerk01")
	require.NoError(t, err)
	got, err = e.eng.FeedbackVisit("1", 5*time.Minute)
	require.NoError(t, err)
	require.Nil(t, got, "the next citizen is at the counter")
}

func TestPurgeReachesPastDays(t *testing.T) {
	e := newEnv(t)
	e.open1("1", "clerk01")
	tk, _, err := e.eng.Issue(ctx, hub.IssueRequest{Service: "certificati", Channel: hub.ChannelPhone, Citizen: &hub.Citizen{FiscalCode: "RSSMRA85T10A562S", Name: "Mario Rossi"}, By: "agent07"})
	require.NoError(t, err)
	_, err = e.eng.CallTicket(ctx, "1", "clerk01", tk.ID)
	require.NoError(t, err)
	_, err = e.eng.Finish(ctx, "1", "clerk01", hub.FinishRequest{})
	require.NoError(t, err)
	_, err = e.eng.Rate(ctx, hub.RateRequest{TicketID: tk.ID, Score: 1, Comment: "Mario Rossi, 333 1234567"})
	require.NoError(t, err)
	_, err = e.eng.CloseCounter(ctx, "1", "clerk01")
	require.NoError(t, err)
	// Forty days later the visit is only on disk (a restart loads today's).
	e.clock.Advance(40 * 24 * time.Hour)
	e.restart()
	n, err := e.eng.PurgePersonal(ctx, 30*24*time.Hour)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	got, err := e.store.Ticket(tk.ID)
	require.NoError(t, err)
	require.Empty(t, got.Citizen.FiscalCode)
	require.Empty(t, got.Citizen.Name)
	require.NotEmpty(t, got.Citizen.Hash)
	require.Empty(t, got.Rating.Comment)
	require.Equal(t, 1, got.Rating.Score, "the score stays for the reports")
	n, err = e.eng.PurgePersonal(ctx, 30*24*time.Hour)
	require.NoError(t, err)
	require.Zero(t, n, "nothing left to purge")
}
