package httpapi_test

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"strings"
	"testing"

	"github.com/comune-rc/sportello/hub/httpapi"
	"github.com/stretchr/testify/require"
)

func TestHealthzAndServices(t *testing.T) {
	h := newTestHub(t)
	status, body := h.do(http.MethodGet, "/healthz", "", nil)
	require.Equal(t, http.StatusOK, status)
	require.JSONEq(t, `{"status":"ok","version":"test"}`, string(body))
	status, body = h.do(http.MethodGet, "/api/v1/services", "", nil)
	require.Equal(t, http.StatusOK, status)
	svcs := decode[[]struct {
		ID, Prefix, Category string
		Name                 struct{ IT, EN string }
		TargetWaitMin        int `json:"target_wait_min"`
	}](t, body)
	require.NotEmpty(t, svcs)
	for _, s := range svcs {
		require.NotEmpty(t, s.Name.IT)
		require.NotEmpty(t, s.Name.EN)
		require.Greater(t, s.TargetWaitMin, 0)
	}
	status, body = h.do(http.MethodGet, "/api/v1/counters", "", nil)
	require.Equal(t, http.StatusOK, status)
	counters := decode[[]struct{ ID, Kind, State string }](t, body)
	require.Len(t, counters, 23)
	require.Equal(t, "1", counters[0].ID)
	require.Equal(t, "R5", counters[22].ID)
}

func TestTicketFlowOverHTTP(t *testing.T) {
	h := newTestHub(t)
	totem := h.device("demo-totem-1")
	clerk := h.as("clerk03")
	status, body := totem.do(http.MethodPost, "/api/v1/tickets", `{"service":"certificati","priority":"disability"}`)
	require.Equal(t, http.StatusCreated, status, string(body))
	tk := decode[ticket](t, body)
	require.Equal(t, "A001", tk.Number)
	require.Equal(t, "totem", tk.Channel)
	require.Equal(t, 1, tk.Position)
	require.True(t, strings.HasPrefix(tk.TrackURL, h.URL+"/t/"), tk.TrackURL)

	status, _ = clerk.do(http.MethodPost, "/api/v1/counters/3/open", nil)
	require.Equal(t, http.StatusOK, status)
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/call-next", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	called := decode[ticket](t, body)
	require.Equal(t, tk.ID, called.ID)
	require.Equal(t, "3", *called.Counter)
	status, _ = clerk.do(http.MethodPost, "/api/v1/counters/3/recall", nil)
	require.Equal(t, http.StatusOK, status)
	status, _ = clerk.do(http.MethodPost, "/api/v1/counters/3/start", nil)
	require.Equal(t, http.StatusOK, status)
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/finish", `{"outcome":"rilasciato"}`)
	require.Equal(t, http.StatusOK, status, string(body))
	require.Equal(t, "done", decode[ticket](t, body).Status)
	status, _ = clerk.do(http.MethodPost, "/api/v1/counters/3/call-next", nil)
	require.Equal(t, http.StatusNoContent, status)

	// Public views carry no priority; staff views do.
	status, body = h.do(http.MethodGet, "/api/v1/tickets/"+tk.ID, "", nil)
	require.Equal(t, http.StatusUnauthorized, status)
	status, body = clerk.do(http.MethodGet, "/api/v1/tickets/"+tk.ID, nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "disability", decode[ticket](t, body).Priority)
	track := strings.TrimPrefix(tk.TrackURL, h.URL)
	status, body = h.do(http.MethodGet, "/api/v1/track/"+strings.TrimPrefix(track, "/t/"), "", nil)
	require.Equal(t, http.StatusOK, status)
	require.NotContains(t, string(body), "priority")
}

func TestIdempotencyKeyOverHTTP(t *testing.T) {
	h := newTestHub(t)
	hdr := http.Header{"Idempotency-Key": {"abc-1"}, "Authorization": {"Bearer demo-totem-2"}}
	status, first := h.rawDo(http.MethodPost, "/api/v1/tickets", "", hdr, []byte(`{"service":"cie"}`))
	require.Equal(t, http.StatusCreated, status)
	status, again := h.rawDo(http.MethodPost, "/api/v1/tickets", "", hdr, []byte(`{"service":"cie"}`))
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, decode[ticket](t, first).ID, decode[ticket](t, again).ID)
	status, body := h.do(http.MethodGet, "/api/v1/queue", "", nil)
	require.Equal(t, http.StatusOK, status)
	for _, q := range decode[[]struct {
		Service string
		Waiting int
	}](t, body) {
		if q.Service == "cie" {
			require.Equal(t, 1, q.Waiting, "the repeat issued nothing")
		}
	}
}

// TestBadInputChangesNothing: every bad request gets a 4xx problem with a
// code, and the hub's state (its last seq) does not move.
func TestBadInputChangesNothing(t *testing.T) {
	h := newTestHub(t)
	clerk := h.token("clerk03")
	other := h.token("clerk04")
	status, _ := h.do(http.MethodPost, "/api/v1/counters/3/open", clerk, nil)
	require.Equal(t, http.StatusOK, status)
	status, _ = h.do(http.MethodPost, "/api/v1/tickets", "demo-totem-1", `{"service":"certificati"}`)
	require.Equal(t, http.StatusCreated, status)
	big := `{"service":"certificati","x":"` + strings.Repeat("a", 2<<20) + `"}`
	cases := []struct {
		name, method, path, token string
		body                      any
		status                    int
		code, field               string
	}{
		{"invalid JSON", "POST", "/api/v1/tickets", "demo-totem-1", `{"service":`, 400, "invalid_json", ""},
		{"not an object", "POST", "/api/v1/tickets", "demo-totem-1", `["certificati"]`, 400, "invalid_json", ""},
		{"trailing data", "POST", "/api/v1/tickets", "demo-totem-1", `{"service":"certificati"} {}`, 400, "invalid_json", ""},
		{"empty body", "POST", "/api/v1/tickets", "demo-totem-1", ``, 400, "invalid_json", ""},
		{"unknown field", "POST", "/api/v1/tickets", "demo-totem-1", `{"service":"certificati","vip":true}`, 400, "unknown_field", "vip"},
		{"wrong type", "POST", "/api/v1/tickets", "demo-totem-1", `{"service":42}`, 400, "invalid_field", "service"},
		{"missing service", "POST", "/api/v1/tickets", "demo-totem-1", `{}`, 400, "missing_field", "service"},
		{"unknown service", "POST", "/api/v1/tickets", "demo-totem-1", `{"service":"astronauti"}`, 404, "service_not_found", "service"},
		{"unknown priority", "POST", "/api/v1/tickets", "demo-totem-1", `{"service":"certificati","priority":"vip"}`, 400, "invalid_priority", "priority"},
		{"unknown channel", "POST", "/api/v1/tickets", "demo-totem-1", `{"service":"certificati","channel":"fax"}`, 400, "invalid_channel", "channel"},
		{"unknown appointment", "POST", "/api/v1/tickets", "demo-totem-1", `{"appointment":"ZZZZ2222"}`, 404, "appointment_not_found", ""},
		{"2 MiB body", "POST", "/api/v1/tickets", "demo-totem-1", big, 413, "body_too_large", ""},
		{"no token", "POST", "/api/v1/tickets", "", `{"service":"certificati"}`, 401, "unauthorized", ""},
		{"bad token", "POST", "/api/v1/tickets", "nope", `{"service":"certificati"}`, 401, "invalid_token", ""},
		{"display may not issue", "POST", "/api/v1/tickets", "demo-display-1", `{"service":"certificati"}`, 403, "forbidden", ""},
		{"totem may not call", "POST", "/api/v1/counters/3/call-next", "demo-totem-1", nil, 403, "forbidden", ""},
		{"totem may not read tickets", "GET", "/api/v1/tickets", "demo-totem-1", nil, 403, "forbidden", ""},
		{"unknown counter", "POST", "/api/v1/counters/99/call-next", clerk, nil, 404, "counter_not_found", ""},
		{"unknown ticket", "GET", "/api/v1/tickets/nope", clerk, nil, 404, "ticket_not_found", ""},
		{"call-next on a closed counter", "POST", "/api/v1/counters/5/call-next", clerk, nil, 409, "counter_closed", ""},
		{"another clerk's counter", "POST", "/api/v1/counters/3/call-next", other, nil, 403, "not_at_counter", ""},
		{"close another clerk's counter", "POST", "/api/v1/counters/3/close", other, nil, 403, "not_at_counter", ""},
		{"body on call-next", "POST", "/api/v1/counters/3/call-next", clerk, `{"force":true}`, 400, "unknown_field", "force"},
		{"transfer to nowhere", "POST", "/api/v1/counters/3/transfer", clerk, `{}`, 400, "invalid_transfer", "service"},
		{"transfer unknown service", "POST", "/api/v1/counters/3/transfer", clerk, `{"service":"nope"}`, 409, "no_current_ticket", ""},
		{"start without a ticket", "POST", "/api/v1/counters/3/start", clerk, nil, 409, "no_current_ticket", ""},
		{"wrong password", "POST", "/api/v1/auth/login", "", `{"username":"clerk03","password":"x"}`, 401, "invalid_credentials", ""},
		{"unknown user", "POST", "/api/v1/auth/login", "", `{"username":"nobody","password":"x"}`, 401, "invalid_credentials", ""},
		{"clerk may not back up", "GET", "/api/v1/admin/backup", clerk, nil, 403, "forbidden", ""},
		{"bad since", "GET", "/api/v1/live?since=x", "", nil, 400, "invalid_since", "since"},
		{"unknown route", "GET", "/api/v1/nothing", "", nil, 404, "not_found", ""},
		{"unknown status filter", "GET", "/api/v1/tickets?status=lost", clerk, nil, 400, "invalid_status", "status"},
	}
	seq := h.Engine.LastSeq()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := h.do(tc.method, tc.path, tc.token, tc.body)
			require.Equal(t, tc.status, status, string(body))
			p := decode[problemDoc](t, body)
			require.Equal(t, tc.code, p.Code, string(body))
			require.Equal(t, tc.status, p.Status)
			require.NotEmpty(t, p.Title)
			if tc.field != "" {
				require.Equal(t, tc.field, p.Field)
			}
			require.Equal(t, seq, h.Engine.LastSeq(), "state changed")
		})
	}
}

func TestProblemContentType(t *testing.T) {
	h := newTestHub(t)
	req, _ := http.NewRequest(http.MethodPost, h.URL+"/api/v1/tickets", bytes.NewReader([]byte(`{`)))
	req.Header.Set("Authorization", "Bearer demo-totem-1")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
}

func TestLoginLockout(t *testing.T) {
	h := newTestHub(t)
	for i := 0; i < 5; i++ {
		status, _ := h.do(http.MethodPost, "/api/v1/auth/login", "", `{"username":"clerk07","password":"wrong"}`)
		require.Equal(t, http.StatusUnauthorized, status)
	}
	status, body := h.do(http.MethodPost, "/api/v1/auth/login", "", `{"username":"clerk07","password":"demo"}`)
	require.Equal(t, http.StatusUnauthorized, status)
	require.Equal(t, "account_locked", decode[problemDoc](t, body).Code)
}

func TestLogoutEndsSession(t *testing.T) {
	h := newTestHub(t)
	tok := h.token("supervisor")
	status, body := h.do(http.MethodGet, "/api/v1/auth/me", tok, nil)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, string(body), "supervisor")
	status, _ = h.do(http.MethodPost, "/api/v1/auth/logout", tok, nil)
	require.Equal(t, http.StatusNoContent, status)
	status, body = h.do(http.MethodGet, "/api/v1/tickets", tok, nil)
	require.Equal(t, http.StatusUnauthorized, status)
	require.Equal(t, "invalid_token", decode[problemDoc](t, body).Code)
}

func TestMetrics(t *testing.T) {
	h := newTestHub(t)
	status, _ := h.do(http.MethodPost, "/api/v1/tickets", "demo-totem-1", `{"service":"tributi"}`)
	require.Equal(t, http.StatusCreated, status)
	status, body := h.do(http.MethodGet, "/metrics", "", nil)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, string(body), `sportello_queue_waiting{service="tributi"} 1`)
	require.Contains(t, string(body), "sportello_websocket_clients 0")
	require.Contains(t, string(body), "sportello_events_total 1")
}

func TestBackupEndpoint(t *testing.T) {
	h := newTestHub(t)
	status, _ := h.do(http.MethodPost, "/api/v1/tickets", "demo-totem-1", `{"service":"tributi"}`)
	require.Equal(t, http.StatusCreated, status)
	status, body := h.do(http.MethodGet, "/api/v1/admin/backup", h.token("admin"), nil)
	require.Equal(t, http.StatusOK, status)
	require.Greater(t, len(body), 4096)
	// A bbolt file starts with its meta page magic at offset 16.
	require.Equal(t, uint32(0xED0CDAED), binary.LittleEndian.Uint32(body[16:20]))
}

// TestSessionCookieNeedsCSRF: a change made with the session cookie alone
// (what a hostile page can make a browser send) is refused; with the
// session's CSRF token it goes through.
func TestSessionCookieNeedsCSRF(t *testing.T) {
	h := newTestHub(t)
	tok := h.token("clerk05")
	cookie := http.Header{"Cookie": {httpapi.SessionCookie + "=" + tok}}
	status, _ := h.rawDo(http.MethodGet, "/api/v1/tickets", "", cookie, nil)
	require.Equal(t, http.StatusOK, status, "reads need no token")
	status, body := h.rawDo(http.MethodPost, "/api/v1/counters/5/open", "", cookie, nil)
	require.Equal(t, http.StatusForbidden, status)
	require.Equal(t, "csrf_failed", decode[problemDoc](t, body).Code)
	bad := cookie.Clone()
	bad.Set(httpapi.CSRFHeader, "0123456789abcdef0123456789abcdef")
	status, _ = h.rawDo(http.MethodPost, "/api/v1/counters/5/open", "", bad, nil)
	require.Equal(t, http.StatusForbidden, status)
	good := cookie.Clone()
	good.Set(httpapi.CSRFHeader, httpapi.CSRFFor(tok))
	status, body = h.rawDo(http.MethodPost, "/api/v1/counters/5/open", "", good, nil)
	require.Equal(t, http.StatusOK, status, string(body))
	// A bearer token is not sent by browsers on their own: no CSRF needed.
	status, _ = h.do(http.MethodPost, "/api/v1/counters/5/close", tok, nil)
	require.Equal(t, http.StatusOK, status)
}
