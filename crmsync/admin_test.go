package crmsync_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/comune-rc/sportello/crmsync"
	"github.com/comune-rc/sportello/crmsync/peer"
	"github.com/comune-rc/sportello/hub/hubtest"
	"github.com/labstack/echo/v4"
)

func login(t *testing.T, base, user string) string {
	t.Helper()
	resp, err := http.Post(base+"/api/v1/auth/login", "application/json", strings.NewReader(fmt.Sprintf(`{"username":%q,"password":"demo"}`, user)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Token string }
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&out) != nil || out.Token == "" {
		t.Fatalf("login %s: %s", user, resp.Status)
	}
	return out.Token
}

func do(t *testing.T, method, url, token, body string, into any) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if into != nil && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(b, into); err != nil {
			t.Fatalf("%s %s: %v in %s", method, url, err, b)
		}
	}
	code := ""
	if resp.StatusCode/100 != 2 {
		var p struct{ Code string }
		_ = json.Unmarshal(b, &p)
		code = p.Code
	}
	return resp.StatusCode, code
}

// The admin routes on a real hub: status, dead letters, replay; admin
// role only.
func TestAdminRoutes(t *testing.T) {
	t.Parallel()
	ph := startPeer(t)
	up, o, err := crmsync.NewCzRMBindings(ph.URL, "sportello", "demo", crmsync.Mapping{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var w *crmsync.Worker
	h := hubtest.Start(t, hubtest.Options{Pages: func(h *hubtest.Hub) []func(*echo.Echo) {
		cfg := crmsync.Config{Store: h.Store, Upsert: up, Open311: o}
		fast(&cfg)
		cfg.Concurrency = 1
		w, err = crmsync.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return []func(*echo.Echo){crmsync.Mount(w)}
	}})
	r := &rig{t: t, h: h, ph: ph, up: up, o: o, w: w}
	if err := ph.faults().Set(peer.KindUpsert, peer.Fault{Mode: peer.ModeError, Status: 400, Count: 1}); err != nil {
		t.Fatal(err)
	}
	a, b := r.issue("certificati"), r.issue("tributi")
	run(t, w)
	eventually(t, "a dead letter", func() bool {
		s := w.Status()
		return s.DeadLetters == 1 && s.DeliveredTotal == 1 && s.InFlight == 0 && r.matches(b.ID)
	})

	base := h.URL + "/api/v1/admin/crmsync"
	admin, clerk := login(t, h.URL, "admin"), login(t, h.URL, "clerk01")
	if st, code := do(t, "GET", base, "", "", nil); st != 401 || code != "unauthorized" {
		t.Fatalf("anonymous: %d %s", st, code)
	}
	if st, code := do(t, "GET", base, clerk, "", nil); st != 403 || code != "forbidden" {
		t.Fatalf("clerk: %d %s", st, code)
	}
	if st, _ := do(t, "GET", base+"/dead", login(t, h.URL, "supervisor"), "", nil); st != 403 {
		t.Fatalf("supervisor: %d", st)
	}
	var status map[string]any
	if st, _ := do(t, "GET", base, admin, "", &status); st != 200 {
		t.Fatalf("status: %d", st)
	}
	for _, k := range []string{"backlog", "oldest_pending_at", "last_error", "last_error_at", "delivered_total", "dead_letters", "breaker_state"} {
		if _, ok := status[k]; !ok {
			t.Fatalf("status lacks %q: %v", k, status)
		}
	}
	if status["dead_letters"] != 1.0 || status["delivered_total"] != 1.0 || status["backlog"] != 1.0 || status["breaker_state"] != "closed" {
		t.Fatalf("status figures %v", status)
	}
	var dead []crmsync.DeadLetter
	if st, _ := do(t, "GET", base+"/dead", admin, "", &dead); st != 200 || len(dead) != 1 || dead[0].ExternalID != a.ID {
		t.Fatalf("dead letters: %d %+v", st, dead)
	}
	if st, code := do(t, "POST", base+"/dead/abc/replay", admin, "", nil); st != 400 || code != "invalid_seq" {
		t.Fatalf("bad seq: %d %s", st, code)
	}
	if st, code := do(t, "POST", fmt.Sprintf("%s/dead/%d/replay", base, dead[0].Seq+99), admin, "", nil); st != 404 || code != "dead_letter_not_found" {
		t.Fatalf("unknown seq: %d %s", st, code)
	}
	if st, _ := do(t, "POST", fmt.Sprintf("%s/dead/%d/replay", base, dead[0].Seq), clerk, "", nil); st != 403 {
		t.Fatalf("clerk replay: %d", st)
	}
	var replayed crmsync.DeadLetter
	if st, _ := do(t, "POST", fmt.Sprintf("%s/dead/%d/replay", base, dead[0].Seq), admin, "", &replayed); st != 200 || replayed.Seq != dead[0].Seq {
		t.Fatalf("replay: %d %+v", st, replayed)
	}
	eventually(t, "the replayed visit", func() bool { return r.matches(a.ID) && r.drained() })
	status = nil
	do(t, "GET", base, admin, "", &status)
	if status["dead_letters"] != 0.0 || status["delivered_total"] != 2.0 || status["backlog"] != 0.0 || status["oldest_pending_at"] != nil {
		t.Fatalf("status after replay %v", status)
	}
	var rep crmsync.ReconcileReport
	if st, _ := do(t, "POST", base+"/reconcile", admin, `{"day":"`+a.Day+`"}`, &rep); st != 200 || rep.Visits != 2 || rep.Matched != 2 {
		t.Fatalf("reconcile: %d %+v", st, rep)
	}
	if st, code := do(t, "POST", base+"/reconcile", admin, `{"day":"yesterday"}`, nil); st != 400 || code != "invalid_day" {
		t.Fatalf("bad day: %d %s", st, code)
	}
	// A second refusal, discarded by the admin with a reason.
	if err := ph.faults().Set(peer.KindUpsert, peer.Fault{Mode: peer.ModeError, Status: 422, Count: 1}); err != nil {
		t.Fatal(err)
	}
	c := r.issue("cie")
	w.Notify()
	eventually(t, "a second dead letter", func() bool { return w.Status().DeadLetters == 1 && w.Status().InFlight == 0 })
	dead = nil
	do(t, "GET", base+"/dead", admin, "", &dead)
	if len(dead) != 1 || dead[0].ExternalID != c.ID || dead[0].HTTPStatus != 422 {
		t.Fatalf("dead letters %+v", dead)
	}
	discard := fmt.Sprintf("%s/dead/%d/discard", base, dead[0].Seq)
	if st, code := do(t, "POST", discard, admin, `{}`, nil); st != 400 || code != "invalid_reason" {
		t.Fatalf("discard without a reason: %d %s", st, code)
	}
	if st, code := do(t, "POST", discard, admin, `{"reason":"test visit","extra":1}`, nil); st != 400 || code != "invalid_body" {
		t.Fatalf("discard with an unknown field: %d %s", st, code)
	}
	if st, _ := do(t, "POST", discard, admin, `{"reason":"test visit, not for the CzRM"}`, nil); st != 200 {
		t.Fatalf("discard: %d", st)
	}
	status = nil
	do(t, "GET", base, admin, "", &status)
	if status["dead_letters"] != 0.0 || status["discarded_total"] != 1.0 || status["backlog"] != 0.0 {
		t.Fatalf("status after the discard %v", status)
	}

	var pend []crmsync.Pending
	if st, _ := do(t, "GET", base+"/pending", admin, "", &pend); st != 200 || len(pend) != 0 {
		t.Fatalf("pending: %d %+v", st, pend)
	}
}
