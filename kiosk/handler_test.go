package kiosk_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/httpapi"
	"github.com/comune-rc/sportello/kiosk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKioskPageAccess(t *testing.T) {
	h := startHub(t, kiosk.Config{})
	clerk := login(t, h, "clerk01")
	tests := []struct {
		name   string
		path   string
		header map[string]string
		status int
		has    []string
	}{
		{"no token", "/kiosk/totem-1", nil, 403, []string{"Totem non abilitato", "Totem not enrolled", "?token="}},
		{"unknown token", "/kiosk/totem-1?token=nope", nil, 403, []string{"Totem non abilitato"}},
		{"another totem's token", "/kiosk/totem-1?token=demo-totem-2", nil, 403, []string{"Totem non abilitato"}},
		{"another totem's bearer", "/kiosk/totem-1", map[string]string{"Authorization": "Bearer demo-totem-2"}, 403, nil},
		{"a display", "/kiosk/totem-1?token=demo-display-1", nil, 403, nil},
		{"unknown totem", "/kiosk/totem-9?token=demo-totem-1", nil, 404, []string{"Totem sconosciuto", "Unknown totem", "totem-9"}},
		{"unknown totem, no token", "/kiosk/nope", nil, 404, []string{"Totem sconosciuto"}},
		{"its own token", "/kiosk/totem-1?token=demo-totem-1", nil, 200, []string{`data-totem="totem-1"`, "Prendi il numero"}},
		{"its own bearer", "/kiosk/totem-3", map[string]string{"Authorization": "Bearer demo-totem-3"}, 200, []string{`data-totem="totem-3"`}},
		{"staff preview", "/kiosk/totem-2", map[string]string{"Authorization": "Bearer " + clerk}, 200, []string{`data-totem="totem-2"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, client(t), "GET", h.URL+tt.path, "", tt.header)
			require.Equal(t, tt.status, r.Status, r.Body)
			assert.Contains(t, r.Header.Get("Content-Type"), "text/html")
			assert.Equal(t, "no-store", r.Header.Get("Cache-Control"))
			assert.Contains(t, r.Body, `<html lang="it">`)
			for _, s := range tt.has {
				assert.True(t, strings.Contains(r.Body, s), "the page has %q", s)
			}
			assert.Equal(t, tt.name == "staff preview", strings.Contains(r.Body, `class="preview"`), "only staff get the preview banner")
		})
	}
}

func TestKioskTokenBecomesCookie(t *testing.T) {
	h := startHub(t, kiosk.Config{})
	c := client(t)
	r := do(t, c, "GET", h.URL+"/kiosk/totem-1?token=demo-totem-1", "", nil)
	require.Equal(t, http.StatusOK, r.Status)
	var found bool
	for _, ck := range (&http.Response{Header: r.Header}).Cookies() {
		if ck.Name == httpapi.DeviceCookie {
			found = true
			assert.Equal(t, "demo-totem-1", ck.Value)
			assert.True(t, ck.HttpOnly)
		}
	}
	require.True(t, found, "the device cookie is set")
	// The browser comes back without the token.
	r = do(t, c, "GET", h.URL+"/kiosk/totem-1", "", nil)
	assert.Equal(t, http.StatusOK, r.Status)
	// The cookie is for totem-1 only.
	r = do(t, c, "GET", h.URL+"/kiosk/totem-2", "", nil)
	assert.Equal(t, http.StatusForbidden, r.Status)
}

// Every asset the pages reference is served, under its hashed URL.
func TestPagesAssets(t *testing.T) {
	h := startHub(t, kiosk.Config{})
	v, _, err := h.Engine.Issue(context.Background(), hub.IssueRequest{Service: "certificati", By: "totem-1"})
	require.NoError(t, err)
	re := regexp.MustCompile(`/assets/[A-Za-z0-9._-]+`)
	for _, path := range []string{"/kiosk/totem-1?token=demo-totem-1", "/t/" + v.TrackToken, "/t/nope", "/kiosk/totem-9"} {
		r := do(t, client(t), "GET", h.URL+path, "", nil)
		urls := re.FindAllString(r.Body, -1)
		require.NotEmpty(t, urls, path)
		for _, u := range urls {
			a := do(t, client(t), "GET", h.URL+u, "", nil)
			assert.Equal(t, http.StatusOK, a.Status, u)
		}
		assert.Contains(t, r.Header.Get("Content-Security-Policy"), "script-src 'self'")
	}
}

func TestCheckin(t *testing.T) {
	h := startHub(t, kiosk.Config{})
	ctx := context.Background()
	a, err := h.Engine.Book(ctx, hub.BookRequest{Service: "cie", Slot: time.Now().Add(20 * time.Minute)})
	require.NoError(t, err)
	totem := map[string]string{"Authorization": "Bearer demo-totem-1", "Content-Type": "application/json"}
	url := h.URL + "/kiosk/totem-1/checkin"

	// Scanned from the booking's QR code: a URL with code=, any case.
	scan := "https://prenota.comune.reggio-calabria.it/a?code=" + strings.ToLower(a.Code[:4]+"-"+a.Code[4:]) + "\r\n"
	r := do(t, client(t), "POST", url, `{"scan":`+jsString(scan)+`}`, totem)
	require.Equal(t, http.StatusCreated, r.Status, r.Body)
	tk := r.JSON(t)
	assert.Regexp(t, `^C\d{3}$`, tk["number"])
	assert.Equal(t, "cie", tk["service"])
	assert.Contains(t, tk, "position")
	assert.Contains(t, tk, "ewt_min")
	assert.True(t, strings.HasPrefix(tk["track_url"].(string), h.URL+"/t/"), tk["track_url"])
	assert.NotContains(t, tk, "priority")
	assert.Equal(t, a.Code, tk["appointment"])

	got := findTicket(t, h, tk["number"].(string))
	assert.Equal(t, a.Code, got.Appointment)
	assert.Equal(t, hub.ChannelTotem, got.Channel)
	assert.Equal(t, "totem-1", got.IssuedBy)
	assert.True(t, isPrintJob(h, "totem-1", got.ID), "the totem prints it")
	appt, err := h.Engine.Appointment(a.Code)
	require.NoError(t, err)
	assert.Equal(t, "checked_in", appt.Status)

	// Typing it again (or a second scan) gives the same ticket.
	r = do(t, client(t), "POST", url, `{"code":`+jsString(a.Code)+`}`, totem)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	assert.Equal(t, tk["number"], r.JSON(t)["number"])
}

func TestCheckinStaffPreviewDoesNotPrint(t *testing.T) {
	h := startHub(t, kiosk.Config{})
	a, err := h.Engine.Book(context.Background(), hub.BookRequest{Service: "certificati", Slot: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	r := do(t, client(t), "POST", h.URL+"/kiosk/totem-2/checkin", `{"code":"`+a.Code+`"}`,
		map[string]string{"Authorization": "Bearer " + login(t, h, "clerk02"), "Content-Type": "application/json"})
	require.Equal(t, http.StatusCreated, r.Status, r.Body)
	assert.Empty(t, h.Engine.PrintJobs("totem-2"))
	assert.NotContains(t, r.JSON(t), "print")
}

func TestCheckinErrors(t *testing.T) {
	h := startHub(t, kiosk.Config{})
	ok := map[string]string{"Authorization": "Bearer demo-totem-1", "Content-Type": "application/json"}
	tests := []struct {
		name   string
		totem  string
		body   string
		header map[string]string
		status int
		code   string
		field  string
	}{
		{"not a code", "totem-1", `{"scan":"buongiorno"}`, ok, 400, "invalid_code", "scan"},
		{"look-alike letters", "totem-1", `{"code":"AB3D7K9O"}`, ok, 400, "invalid_code", "code"},
		{"unknown appointment", "totem-1", `{"code":"AB3D7K9M"}`, ok, 404, "appointment_not_found", ""},
		{"empty", "totem-1", `{}`, ok, 400, "missing_field", "code"},
		{"unknown field", "totem-1", `{"code":"AB3D7K9M","priority":"disability"}`, ok, 400, "unknown_field", "priority"},
		{"wrong type", "totem-1", `{"code":12345678}`, ok, 400, "invalid_field", "code"},
		{"not JSON", "totem-1", `code=AB3D7K9M`, ok, 400, "invalid_json", ""},
		{"trailing data", "totem-1", `{"code":"AB3D7K9M"} {}`, ok, 400, "invalid_json", ""},
		{"a form post", "totem-1", `{"code":"AB3D7K9M"}`, map[string]string{"Authorization": "Bearer demo-totem-1", "Content-Type": "text/plain"}, 400, "unsupported_media_type", ""},
		{"no device", "totem-1", `{"code":"AB3D7K9M"}`, map[string]string{"Content-Type": "application/json"}, 401, "unauthorized", ""},
		{"bad token", "totem-1", `{"code":"AB3D7K9M"}`, map[string]string{"Authorization": "Bearer nope", "Content-Type": "application/json"}, 401, "invalid_token", ""},
		{"another totem", "totem-1", `{"code":"AB3D7K9M"}`, map[string]string{"Authorization": "Bearer demo-totem-2", "Content-Type": "application/json"}, 403, "forbidden", ""},
		{"a display", "totem-1", `{"code":"AB3D7K9M"}`, map[string]string{"Authorization": "Bearer demo-display-1", "Content-Type": "application/json"}, 403, "forbidden", ""},
		{"unknown totem", "totem-9", `{"code":"AB3D7K9M"}`, ok, 404, "totem_not_found", ""},
		{"too large", "totem-1", `{"scan":"` + strings.Repeat("a", httpapi.MaxBody) + `"}`, ok, 413, "body_too_large", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, client(t), "POST", h.URL+"/kiosk/"+tt.totem+"/checkin", tt.body, tt.header)
			require.Equal(t, tt.status, r.Status, r.Body)
			assert.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))
			p := r.JSON(t)
			assert.Equal(t, tt.code, p["code"])
			if tt.field != "" {
				assert.Equal(t, tt.field, p["field"])
			}
		})
	}
	assert.Empty(t, h.Engine.Tickets(hub.TicketFilter{}), "no error issues a ticket")
}

func TestTrackPage(t *testing.T) {
	h := startHub(t, kiosk.Config{})
	tk, _, err := h.Engine.Issue(context.Background(), hub.IssueRequest{Service: "residenza", Priority: hub.PriorityDisability, By: "totem-1", Channel: hub.ChannelTotem})
	require.NoError(t, err)
	r := do(t, client(t), "GET", h.URL+"/t/"+tk.TrackToken, "", nil)
	require.Equal(t, http.StatusOK, r.Status)
	assert.Contains(t, r.Body, tk.Number)
	assert.Contains(t, r.Body, "Residenza e cambio di indirizzo")
	assert.Contains(t, r.Body, "Residence and change of address")
	assert.Contains(t, r.Body, "Lascia la coda")
	assert.Equal(t, "same-origin", r.Header.Get("Referrer-Policy"))
	assert.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	assertNoPriority(t, r.Body)

	for _, bad := range []string{"nope", strings.Repeat("a", 300), tk.TrackToken + "x"} {
		r = do(t, client(t), "GET", h.URL+"/t/"+bad, "", nil)
		require.Equal(t, http.StatusNotFound, r.Status)
		assert.Contains(t, r.Body, "Biglietto non trovato")
		assert.Contains(t, r.Body, "Ticket not found")
	}
}

// priorityWords are the priority categories in both languages, as the
// totem's choice screen names them.
var priorityWords = []string{"disabil", "104/1992", "gravidanza", "pregnan", "anzian", "older person", "elderly", "precedenza", "priority"}

func assertNoPriority(t *testing.T, s string) {
	t.Helper()
	low := strings.ToLower(s)
	for _, w := range priorityWords {
		assert.NotContains(t, low, w, "a priority category is shown")
	}
}
