package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/comune-rc/sportello/crmsync"
	"github.com/comune-rc/sportello/crmsync/peer"
	"github.com/comune-rc/sportello/desk"
	"github.com/comune-rc/sportello/display"
	"github.com/comune-rc/sportello/hub/httpapi"
	"github.com/comune-rc/sportello/kiosk"
)

// The routes of oaMountedElsewhere that the session mounts and must
// exercise: the JSON routes of the totem and display pages and the CzRM
// worker's admin routes.
func init() {
	for _, k := range []string{
		"POST /kiosk/{id}/checkin", "GET /display/{id}/phrase", "GET /display/{id}/version",
		"GET /api/v1/admin/crmsync", "GET /api/v1/admin/crmsync/pending", "GET /api/v1/admin/crmsync/dead",
		"POST /api/v1/admin/crmsync/dead/{seq}/replay", "POST /api/v1/admin/crmsync/dead/{seq}/discard",
		"POST /api/v1/admin/crmsync/reconcile", "GET /desk/history", "GET /api/v1/staffing",
	} {
		oaMountedElsewhere[k] = true
	}
	// The tracking page's 404 is the kiosk's HTML error page.
	oaNotProblem["GET /t/{token} 404"] = true
}

// oaPages is the session's hub option: the kiosk, display and crmsync
// mounts, the worker connected to a reference CzRM on a real loopback
// server. The worker does not call back into the engine (no Reduce, no
// OnReportDelivered), so that the session's events are its own.
type oaPages struct {
	czrm *peer.Peer
	w    *crmsync.Worker
	up   *crmsync.UpsertClient
}

func newOAPages(t *testing.T) (*oaPages, hubOption) {
	czrm, err := peer.New(peer.Config{Data: t.TempDir(), Demo: true})
	require.NoError(t, err)
	psrv := httptest.NewServer(czrm.Handler())
	t.Cleanup(func() { _ = czrm.Close(); psrv.CloseClientConnections(); psrv.Close() })
	up, o311, err := crmsync.NewCzRMBindings(psrv.URL, "sportello", "demo", crmsync.Mapping{}, nil)
	require.NoError(t, err)
	p := &oaPages{czrm: czrm, up: up}
	return p, hubOption{mounts: func(th *testHub) []func(*echo.Echo) {
		w, err := crmsync.New(crmsync.Config{Store: th.Store, Upsert: up, Open311: o311, Location: th.Engine.Site().Location(), Logger: quiet,
			PollInterval: 5 * time.Millisecond, BackoffBase: time.Millisecond, BackoffCap: 5 * time.Millisecond, BreakerThreshold: 1000, NoReconcile: true})
		require.NoError(t, err)
		p.w = w
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- w.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		return []func(*echo.Echo){
			desk.Mount(desk.Config{Engine: th.Engine, Accounts: th.Acc, History: up.CitizenHistory, Reports: th.Store}),
			kiosk.Mount(kiosk.Config{Engine: th.Engine, PublicURL: th.URL}),
			display.Mount(display.Config{Engine: th.Engine, Version: "test"}),
			crmsync.Mount(w),
		}
	}}
}

// TestOpenAPIMountedRoutesServed: every documented route that another
// package mounts is really served by it, as documented.
func TestOpenAPIMountedRoutesServed(t *testing.T) {
	pages, opt := newOAPages(t)
	h := newTestHub(t, opt)
	require.NotNil(t, pages.w)
	served := map[string]bool{}
	api := httpapi.New(httpapi.Config{Engine: h.Engine, Accounts: h.Acc, Mount: []func(*echo.Echo){
		desk.Mount(desk.Config{Engine: h.Engine, Accounts: h.Acc}),
		kiosk.Mount(kiosk.Config{Engine: h.Engine}), display.Mount(display.Config{Engine: h.Engine}), crmsync.Mount(pages.w)}})
	for _, r := range api.Echo().Routes() {
		served[r.Method+" "+oaPath(r.Path)] = true
	}
	for k := range oaMountedElsewhere {
		require.True(t, served[k], "openapi.yaml documents %s as mounted by a page package, which does not route it", k)
	}
}

// oaExerciseMounted drives the mounted routes through the validator: a
// booking checked in at the totem page, a screen's announcement and
// version, and the CzRM worker's admin routes with a dead letter replayed
// and another discarded. It makes no event after the check-in.
func oaExerciseMounted(t *testing.T, h *testHub, v *oaValidator, pages *oaPages) {
	anon, totem, screen := h.device(""), h.device("demo-totem-1"), h.device("demo-display-1")
	clerk, sup, admin := h.as("clerk03"), h.as("supervisor"), h.as("admin")

	// The totem page's check-in.
	slot := time.Now().Add(time.Hour).Format(time.RFC3339)
	status, body := clerk.do(http.MethodPost, "/api/v1/appointments", `{"service":"consulenza_tributaria","slot":"`+slot+`","channel":"phone","case_id":"RC-2026-000007"}`)
	require.Equal(t, http.StatusCreated, status, string(body))
	code := decode[struct{ Code string }](t, body).Code
	status, body = totem.do(http.MethodPost, "/kiosk/totem-1/checkin", `{"code":"`+code+`"}`)
	require.Equal(t, http.StatusCreated, status, string(body))
	kt := decode[struct{ ID, Appointment, Print string }](t, body)
	require.Equal(t, code, kt.Appointment)
	require.Equal(t, "pending", kt.Print, "the totem prints its own check-in")
	status, body = totem.do(http.MethodPost, "/kiosk/totem-1/checkin", `{"code":"`+code+`"}`)
	require.Equal(t, http.StatusOK, status, "a second check-in is the same ticket: %s", body)
	require.Equal(t, kt.ID, decode[struct{ ID string }](t, body).ID)
	status, body = totem.do(http.MethodPost, "/kiosk/totem-1/checkin", `{"code":"ZZZZ-ZZZZ"}`)
	require.Contains(t, []int{http.StatusBadRequest, http.StatusNotFound}, status, string(body))
	status, body = totem.do(http.MethodPost, "/kiosk/totem-9/checkin", `{"code":"`+code+`"}`)
	oaRequireProblem(t, status, body, http.StatusNotFound, "totem_not_found")
	status, body = screen.do(http.MethodPost, "/kiosk/totem-1/checkin", `{"code":"`+code+`"}`)
	oaRequireProblem(t, status, body, http.StatusForbidden, "forbidden")
	v.with(oaReqInvalidBody, func() {
		status, body = totem.do(http.MethodPost, "/kiosk/totem-1/checkin", `{"code":"`+code+`","who":"me"}`)
		oaRequireProblem(t, status, body, http.StatusBadRequest, "unknown_field")
	})
	v.with(oaReqNoCredentials, func() {
		status, body = anon.do(http.MethodPost, "/kiosk/totem-1/checkin", `{"code":"`+code+`"}`)
		require.Equal(t, http.StatusUnauthorized, status, string(body))
	})

	// A screen's announcement and version.
	status, body = screen.do(http.MethodGet, "/display/1/phrase?number=A023&counter=5", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	ph := decode[struct{ Clips []struct{ Clip, URL string } }](t, body)
	require.Greater(t, len(ph.Clips), 3)
	require.Equal(t, display.ChimeClip, ph.Clips[0].Clip)
	status, body = sup.do(http.MethodGet, "/display/2/phrase?number=W004&counter=R1&kind=room", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	status, body = screen.do(http.MethodGet, "/display/1/phrase?number=%21%21&counter=5", nil)
	oaRequireProblem(t, status, body, http.StatusBadRequest, "unspeakable_call")
	status, body = clerk.do(http.MethodGet, "/display/1/phrase?number=A023&counter=5", nil)
	oaRequireProblem(t, status, body, http.StatusForbidden, "forbidden")
	status, body = screen.do(http.MethodGet, "/display/99/phrase?number=A023&counter=5", nil)
	oaRequireProblem(t, status, body, http.StatusNotFound, "display_not_found")
	status, body = anon.do(http.MethodGet, "/display/1/version", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	require.Equal(t, "test", decode[struct{ Hub string }](t, body).Hub)
	status, body = anon.do(http.MethodGet, "/display/99/version", nil)
	oaRequireProblem(t, status, body, http.StatusNotFound, "display_not_found")

	// The desk's CzRM history of the citizen at the counter: the clerk
	// holding room R3 sees the timeline of the citizen in front of them.
	const cf = "RSSMRA85T10A562S"
	status, body = clerk.do(http.MethodPost, "/api/v1/tickets", `{"service":"consulenza_tributaria","channel":"phone","case_id":"RC-2026-000008","citizen":{"fiscal_code":"`+cf+`"}}`)
	require.Equal(t, http.StatusCreated, status, string(body))
	withCF := decode[ticket](t, body)
	room := h.as("clerk07")
	status, body = room.do(http.MethodPost, "/api/v1/counters/R3/open", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	status, body = room.do(http.MethodPost, "/api/v1/counters/R3/call", `{"ticket":"`+withCF.ID+`"}`)
	require.Equal(t, http.StatusOK, status, string(body))
	deadline := time.Now().Add(15 * time.Second)
	for {
		status, body = room.do(http.MethodGet, "/desk/history?ticket="+withCF.ID, nil)
		require.Equal(t, http.StatusOK, status, string(body))
		hist := decode[struct {
			Available, Known bool
			Entries          []struct{ Number, Status string }
		}](t, body)
		require.True(t, hist.Available, string(body))
		if hist.Known && len(hist.Entries) == 1 && hist.Entries[0].Number == withCF.Number && hist.Entries[0].Status == "called" {
			break
		}
		require.True(t, time.Now().Before(deadline), "the visit did not reach the citizen's CzRM timeline: %s", body)
		time.Sleep(10 * time.Millisecond)
	}
	require.NotContains(t, string(body), cf, "the code stays in the hub")
	status, body = clerk.do(http.MethodGet, "/desk/history?ticket="+withCF.ID, nil)
	oaRequireProblem(t, status, body, http.StatusForbidden, "not_at_counter")
	status, body = totem.do(http.MethodGet, "/desk/history?ticket="+withCF.ID, nil)
	oaRequireProblem(t, status, body, http.StatusForbidden, "forbidden")
	v.with(oaReqNoCredentials, func() {
		status, body = anon.do(http.MethodGet, "/desk/history?ticket="+withCF.ID, nil)
		require.Equal(t, http.StatusUnauthorized, status, string(body))
	})
	for _, step := range []string{"start", "finish", "close"} {
		status, body = room.do(http.MethodPost, "/api/v1/counters/R3/"+step, nil)
		require.Equal(t, http.StatusOK, status, "%s: %s", step, body)
	}

	// The supervisor console's staffing advice: today's forecast from
	// the session's history (none before today), a past day, refusals.
	status, body = sup.do(http.MethodGet, "/api/v1/staffing", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	adv := decode[struct {
		Basis  string
		Groups []struct{ Counters []string }
	}](t, body)
	require.Equal(t, "none", adv.Basis, "the session's visits are today's")
	require.Len(t, adv.Groups, 2, "the desks and the rooms")
	status, body = sup.do(http.MethodGet, "/api/v1/staffing?day="+time.Now().AddDate(0, 0, 7).Format("2006-01-02"), nil)
	require.Equal(t, http.StatusOK, status, string(body))
	require.NotEqual(t, "none", decode[struct{ Basis string }](t, body).Basis, "a week on, today is history")
	// The check by simulation runs in the background: poll until it
	// answers, so the checked shape is validated too.
	type checkState struct {
		Check struct{ Status, Error string }
	}
	for deadline := time.Now().Add(60 * time.Second); ; {
		status, body = sup.do(http.MethodGet, "/api/v1/staffing?day="+time.Now().AddDate(0, 0, 7).Format("2006-01-02"), nil)
		require.Equal(t, http.StatusOK, status, string(body))
		if st := decode[checkState](t, body).Check; st.Status != "pending" {
			require.Contains(t, []string{"checked", "none"}, st.Status, string(body))
			break
		}
		require.True(t, time.Now().Before(deadline), "the staffing check did not finish: %s", body)
		time.Sleep(10 * time.Millisecond)
	}
	status, body = sup.do(http.MethodGet, "/api/v1/staffing?day=2026-13-01", nil)
	oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_day")
	status, body = clerk.do(http.MethodGet, "/api/v1/staffing", nil)
	oaRequireProblem(t, status, body, http.StatusForbidden, "forbidden")
	v.with(oaReqNoCredentials, func() {
		status, body = anon.do(http.MethodGet, "/api/v1/staffing", nil)
		require.Equal(t, http.StatusUnauthorized, status, string(body))
	})

	// The CzRM worker: the status for supervisors, everything else for
	// admins; the session's visits reach the CzRM.
	status, body = sup.do(http.MethodGet, "/api/v1/admin/crmsync", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	status, body = clerk.do(http.MethodGet, "/api/v1/admin/crmsync", nil)
	oaRequireProblem(t, status, body, http.StatusForbidden, "forbidden")
	v.with(oaReqNoCredentials, func() {
		status, body = anon.do(http.MethodGet, "/api/v1/admin/crmsync", nil)
		require.Equal(t, http.StatusUnauthorized, status, string(body))
	})
	drained := func() {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			s := pages.w.Status()
			if s.Backlog == s.DeadLetters && s.InFlight == 0 && s.Pending == s.Held {
				return
			}
			require.True(t, time.Now().Before(deadline), "the worker did not settle: %+v", s)
			time.Sleep(5 * time.Millisecond)
		}
	}
	drained()
	status, body = admin.do(http.MethodGet, "/api/v1/admin/crmsync/pending", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	status, body = sup.do(http.MethodGet, "/api/v1/admin/crmsync/pending", nil)
	oaRequireProblem(t, status, body, http.StatusForbidden, "forbidden")

	// A visit edited at the CzRM is stale: the reconciliation re-sends
	// it, the CzRM refuses it for good (400), it is a dead letter;
	// replayed, it goes; the second time it is discarded.
	for round, action := range []string{"replay", "discard"} {
		_, err := pages.up.Upsert(context.Background(), kt.ID, map[string]any{"Status__c": "edited_at_the_czrm"})
		require.NoError(t, err)
		require.NoError(t, pages.czrm.Faults().Set(peer.KindUpsert, peer.Fault{Mode: peer.ModeError, Status: 400, Count: 1}))
		status, body = admin.do(http.MethodPost, "/api/v1/admin/crmsync/reconcile", nil)
		require.Equal(t, http.StatusOK, status, string(body))
		rep := decode[struct{ Stale, Requeued int }](t, body)
		require.Equal(t, 1, rep.Stale, string(body))
		require.Equal(t, 1, rep.Requeued, string(body))
		var dead []struct {
			Seq  uint64
			Held bool
		}
		deadline := time.Now().Add(15 * time.Second)
		for {
			status, body = admin.do(http.MethodGet, "/api/v1/admin/crmsync/dead", nil)
			require.Equal(t, http.StatusOK, status, string(body))
			dead = decode[[]struct {
				Seq  uint64
				Held bool
			}](t, body)
			if len(dead) == 1 {
				break
			}
			require.True(t, time.Now().Before(deadline), "round %d: no dead letter: %s", round, body)
			time.Sleep(5 * time.Millisecond)
		}
		seq := fmt.Sprint(dead[0].Seq)
		if action == "replay" {
			status, body = admin.do(http.MethodPost, "/api/v1/admin/crmsync/dead/"+seq+"/replay", nil)
			require.Equal(t, http.StatusOK, status, string(body))
			status, body = admin.do(http.MethodPost, "/api/v1/admin/crmsync/dead/"+seq+"/replay", "{}")
			oaRequireProblem(t, status, body, http.StatusNotFound, "dead_letter_not_found")
		} else {
			v.with(oaReqInvalidBody, func() {
				status, body = admin.do(http.MethodPost, "/api/v1/admin/crmsync/dead/"+seq+"/discard", `{}`)
				oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_reason")
			})
			status, body = admin.do(http.MethodPost, "/api/v1/admin/crmsync/dead/"+seq+"/discard", `{"reason":"the CzRM's edit stands"}`)
			require.Equal(t, http.StatusOK, status, string(body))
			status, body = admin.do(http.MethodPost, "/api/v1/admin/crmsync/dead/"+seq+"/discard", `{"reason":"again"}`)
			oaRequireProblem(t, status, body, http.StatusNotFound, "dead_letter_not_found")
		}
		drained()
	}
	v.with(oaReqInvalidParam, func() {
		status, body = admin.do(http.MethodPost, "/api/v1/admin/crmsync/dead/x/replay", nil)
		oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_seq")
	})
	status, body = admin.do(http.MethodPost, "/api/v1/admin/crmsync/reconcile", `{"day":"`+time.Now().Format("2006-01-02")+`"}`)
	require.Equal(t, http.StatusOK, status, string(body))
	v.with(oaReqUnchecked, func() {
		status, body = admin.do(http.MethodPost, "/api/v1/admin/crmsync/reconcile", `{"day":"yesterday"}`)
		oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_day")
	})
	status, body = sup.do(http.MethodPost, "/api/v1/admin/crmsync/reconcile", nil)
	oaRequireProblem(t, status, body, http.StatusForbidden, "forbidden")
	status, body = admin.do(http.MethodGet, "/api/v1/admin/crmsync", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	s := decode[struct {
		DeadLetters    int    `json:"dead_letters"`
		DiscardedTotal uint64 `json:"discarded_total"`
		DeliveredTotal uint64 `json:"delivered_total"`
	}](t, body)
	require.Zero(t, s.DeadLetters)
	require.EqualValues(t, 1, s.DiscardedTotal)
	require.Greater(t, s.DeliveredTotal, uint64(10))
}
