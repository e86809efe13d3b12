package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// oaSurveySession is the satisfaction survey's part of TestOpenAPISession:
// a counter's feedback screen, the tracking link and a totem rate visits
// at counter 5, and every refusal is a coded problem that changes
// nothing. Every request is checked against openapi.yaml by v.
func oaSurveySession(t *testing.T, h *testHub, v *oaValidator) {
	t.Helper()
	anon := h.device("")
	totem := h.device("demo-totem-2")
	screen := h.device("demo-display-4")
	clerk := h.as("clerk15")
	status, body := clerk.do(http.MethodPost, "/api/v1/counters/5/open", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	issue := func() ticket {
		status, body := clerk.do(http.MethodPost, "/api/v1/tickets", `{"service":"stato_civile","channel":"desk"}`)
		require.Equal(t, http.StatusCreated, status, string(body))
		return decode[ticket](t, body)
	}
	serve := func(tk ticket) {
		status, body := clerk.do(http.MethodPost, "/api/v1/counters/5/call", `{"ticket":"`+tk.ID+`"}`)
		require.Equal(t, http.StatusOK, status, string(body))
		status, body = clerk.do(http.MethodPost, "/api/v1/counters/5/start", nil)
		require.Equal(t, http.StatusOK, status, string(body))
		status, body = clerk.do(http.MethodPost, "/api/v1/counters/5/finish", `{"outcome":"rilasciato"}`)
		require.Equal(t, http.StatusOK, status, string(body))
	}
	a, b := issue(), issue()
	tokenA := a.TrackURL[strings.LastIndex(a.TrackURL, "/")+1:]
	tokenB := b.TrackURL[strings.LastIndex(b.TrackURL, "/")+1:]

	// The counter's screen itself (the kiosk's page), opened once with the
	// device's token; an unknown counter is an HTML page that says so.
	status, body = anon.do(http.MethodGet, "/feedback/5?token=demo-display-4", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	require.Contains(t, string(body), "<html")
	status, body = anon.do(http.MethodGet, "/feedback/99?token=demo-display-4", nil)
	require.Equal(t, http.StatusNotFound, status, string(body))

	// Nothing to rate yet at counter 5; unknown counters and strangers.
	status, _ = screen.do(http.MethodGet, "/api/v1/feedback/5", nil)
	require.Equal(t, http.StatusNoContent, status)
	status, body = screen.do(http.MethodGet, "/api/v1/feedback/99", nil)
	oaRequireProblem(t, status, body, http.StatusNotFound, "counter_not_found")
	v.with(oaReqNoCredentials, func() {
		status, body = anon.do(http.MethodGet, "/api/v1/feedback/5", nil)
		oaRequireProblem(t, status, body, http.StatusUnauthorized, "unauthorized")
		status, body = anon.do(http.MethodPost, "/api/v1/feedback/5", `{"number":"N001","score":5}`)
		oaRequireProblem(t, status, body, http.StatusUnauthorized, "unauthorized")
	})
	// A visit still waiting cannot be rated; an unknown link neither.
	before := h.Engine.LastSeq()
	status, body = anon.do(http.MethodPost, "/api/v1/track/"+tokenB+"/rating", `{"score":5}`)
	oaRequireProblem(t, status, body, http.StatusConflict, "visit_not_finished")
	status, body = anon.do(http.MethodPost, "/api/v1/track/not-a-token/rating", `{"score":5}`)
	oaRequireProblem(t, status, body, http.StatusNotFound, "ticket_not_found")
	require.Equal(t, before, h.Engine.LastSeq(), "refused ratings change nothing")

	// The counter's screen offers the visit just finished there.
	serve(a)
	status, body = screen.do(http.MethodGet, "/api/v1/feedback/5", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	fb := decode[struct{ Counter, Number, Service string }](t, body)
	require.Equal(t, "5", fb.Counter)
	require.Equal(t, a.Number, fb.Number)
	status, body = screen.do(http.MethodPost, "/api/v1/feedback/5", `{"number":"`+b.Number+`","score":4}`)
	oaRequireProblem(t, status, body, http.StatusConflict, "feedback_expired")
	v.with(oaReqInvalidBody, func() {
		status, body = screen.do(http.MethodPost, "/api/v1/feedback/5", `{"number":"`+a.Number+`","score":0}`)
		p := oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_score")
		require.Equal(t, "score", p.Field)
		status, body = screen.do(http.MethodPost, "/api/v1/feedback/5", `{"number":"`+a.Number+`","score":3,"reason":"meteo"}`)
		oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_reason")
		status, body = anon.do(http.MethodPost, "/api/v1/track/"+tokenA+"/rating", `{"score":3,"comment":"`+strings.Repeat("x", 501)+`"}`)
		oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_comment")
		status, body = anon.do(http.MethodPost, "/api/v1/track/"+tokenA+"/rating", `{"score":3,"stars":2}`)
		oaRequireProblem(t, status, body, http.StatusBadRequest, "unknown_field")
	})
	require.Equal(t, before+3, h.Engine.LastSeq(), "the call, start and finish only: refused ratings change nothing")
	status, body = screen.do(http.MethodPost, "/api/v1/feedback/5", `{"number":"`+a.Number+`","score":4,"reason":"cortesia","comment":"Gentilissimi"}`)
	require.Equal(t, http.StatusCreated, status, string(body))
	got := decode[struct {
		Number, Channel, Reason string
		Score                   int
	}](t, body)
	require.Equal(t, a.Number, got.Number)
	require.Equal(t, 4, got.Score)
	require.Equal(t, "counter", got.Channel)
	require.NotContains(t, string(body), "Gentilissimi")
	// Rated: the screen resets, and a second answer is refused.
	status, _ = screen.do(http.MethodGet, "/api/v1/feedback/5", nil)
	require.Equal(t, http.StatusNoContent, status)
	status, body = anon.do(http.MethodPost, "/api/v1/track/"+tokenA+"/rating", `{"score":1}`)
	p := oaRequireProblem(t, status, body, http.StatusConflict, "already_rated")
	require.Contains(t, p.Detail, "one answer per visit")

	// The second visit, rated at a totem that scanned its QR code.
	serve(b)
	status, body = totem.do(http.MethodPost, "/api/v1/track/"+tokenB+"/rating", `{"score":2,"reason":"attesa"}`)
	require.Equal(t, http.StatusCreated, status, string(body))
	require.Equal(t, "totem", decode[struct{ Channel string }](t, body).Channel)
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/5/close", nil)
	require.Equal(t, http.StatusOK, status, string(body))

	// The clerk's own view of the visit carries no rating.
	status, body = clerk.do(http.MethodGet, "/api/v1/tickets/"+a.ID, nil)
	require.Equal(t, http.StatusOK, status, string(body))
	require.NotContains(t, string(body), `"rating"`)
	require.NotContains(t, string(body), "Gentilissimi")

	// /metrics has today's service level, but no live count of the
	// answers (it would tell the clerk their own rating).
	status, body = anon.do(http.MethodGet, "/metrics", nil)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, string(body), `sportello_service_level_ratio{service="stato_civile"} 1.0000`)
	require.NotContains(t, string(body), "rating")
}
