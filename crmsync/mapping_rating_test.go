package crmsync_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/comune-rc/sportello/crmsync"
	"github.com/comune-rc/sportello/crmsync/peer"
	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/hubtest"
	"github.com/stretchr/testify/require"
)

// The survey's answer travels with the visit: score and reason by
// default, the comment only when the mapping asks for it.
func TestVisitFieldsCarryTheRating(t *testing.T) {
	tk := &hub.Ticket{ID: "cedir-20261201-A001", Number: "A001", Status: hub.StatusDone}
	f := crmsync.DefaultMapping().VisitFields(tk)
	require.Contains(t, f, "Satisfaction__c")
	require.Nil(t, f["Satisfaction__c"], "no answer yet: null")
	tk.Rating = &hub.Rating{Score: 4, Reason: "cortesia", Comment: "Gentili", Channel: hub.RatedOnWeb, At: time.Now()}
	f = crmsync.DefaultMapping().VisitFields(tk)
	require.Equal(t, 4, f["Satisfaction__c"])
	require.Equal(t, "cortesia", f["Satisfaction_Reason__c"])
	for _, v := range f {
		require.NotEqual(t, "Gentili", v, "the comment is opt-in")
	}
	m := crmsync.Mapping{Fields: map[string]string{"satisfaction": "Voto__c", "satisfaction_comment": "Commento__c"}}
	require.NoError(t, m.Validate())
	require.Equal(t, "Gentili", m.VisitFields(tk)["Commento__c"])
}

// A rating given after the visit reached the CzRM updates the visit there
// (the reference peer over real HTTP).
func TestRatingReachesTheCzRM(t *testing.T) {
	p, err := peer.New(peer.Config{Data: t.TempDir(), Demo: true})
	require.NoError(t, err)
	srv := httptest.NewServer(p.Handler())
	t.Cleanup(func() { _ = p.Close(); srv.CloseClientConnections(); srv.Close() })
	h := hubtest.Start(t, hubtest.Options{})
	up, o, err := crmsync.NewCzRMBindings(srv.URL, "sportello", "demo", crmsync.Mapping{}, nil)
	require.NoError(t, err)
	w, err := crmsync.New(crmsync.Config{Store: h.Store, Upsert: up, Open311: o, Location: h.Engine.Site().Location(),
		PollInterval: 5 * time.Millisecond, BackoffBase: time.Millisecond, BackoffCap: 10 * time.Millisecond, NoReconcile: true, Logger: hubtest.Quiet})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	bg := context.Background()
	tk, _, err := h.Engine.Issue(bg, hub.IssueRequest{Service: "certificati", By: "totem-1"})
	require.NoError(t, err)
	_, err = h.Engine.OpenCounter(bg, "1", "clerk01")
	require.NoError(t, err)
	_, err = h.Engine.CallTicket(bg, "1", "clerk01", tk.ID)
	require.NoError(t, err)
	_, err = h.Engine.Finish(bg, "1", "clerk01", hub.FinishRequest{})
	require.NoError(t, err)
	m := crmsync.DefaultMapping()
	field := func(name string) string {
		r, err := p.Record(m.Object, m.ExtIDField, tk.ID)
		if err != nil || r == nil {
			return ""
		}
		return string(r.Fields[name])
	}
	deadline := time.Now().Add(15 * time.Second)
	for field("Status__c") != `"done"` {
		require.True(t, time.Now().Before(deadline), "the finished visit never reached the peer")
		time.Sleep(5 * time.Millisecond)
	}
	_, err = h.Engine.Rate(bg, hub.RateRequest{TicketID: tk.ID, Score: 2, Reason: "attesa", Comment: "troppa attesa"})
	require.NoError(t, err)
	for field("Satisfaction__c") != "2" {
		require.True(t, time.Now().Before(deadline), "the rating never reached the peer: %s", field("Satisfaction__c"))
		time.Sleep(5 * time.Millisecond)
	}
	require.Equal(t, `"attesa"`, field("Satisfaction_Reason__c"))
	r, err := p.Record(m.Object, m.ExtIDField, tk.ID)
	require.NoError(t, err)
	for k, v := range r.Fields {
		require.NotContains(t, string(v), "troppa attesa", "field %s: the comment is opt-in", k)
	}
}
