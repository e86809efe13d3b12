package peer_test

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/comune-rc/sportello/crmsync/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestFaultError(t *testing.T) {
	e := start(t)
	tok := e.token(t)
	f := e.p.Faults()
	require.NoError(t, f.Set(peer.KindUpsert, peer.Fault{Mode: peer.ModeError, Count: 2}))

	for i := 0; i < 2; i++ {
		r := e.upsert(t, tok, "Case", "Ext__c", "f1", `{"A__c":1}`)
		assert.Equal(t, 500, r.Status)
		assert.Equal(t, "SERVER_ERROR", r.List(t)[0]["errorCode"])
		_, err := e.p.Record("Case", "Ext__c", "f1")
		assert.ErrorIs(t, err, peer.ErrNotFound, "an error fault applies nothing")
	}
	assert.Equal(t, 201, e.upsert(t, tok, "Case", "Ext__c", "f1", `{"A__c":1}`).Status, "the fault hit only the next 2 calls")
	st := f.Stats(peer.KindUpsert)
	assert.EqualValues(t, 3, st.Calls)
	assert.EqualValues(t, 2, st.Faulted)
	assert.EqualValues(t, 1, st.Applied)

	// Other statuses, in the shape of each kind; until cleared.
	require.NoError(t, f.Set(peer.KindOpen311, peer.Fault{Mode: peer.ModeError, Status: 503}))
	for i := 0; i < 3; i++ {
		r := e.open311(t, url.Values{"api_key": {"demo"}, "service_code": {"verde"}, "address_string": {"Villa Comunale"}})
		assert.Equal(t, 503, r.Status)
		assert.Contains(t, r.List(t)[0]["description"], "General Service Error")
	}
	assert.Contains(t, f.Active(), peer.KindOpen311)
	f.Clear(peer.KindOpen311)
	assert.Equal(t, 200, e.open311(t, url.Values{"api_key": {"demo"}, "service_code": {"verde"}, "address_string": {"Villa Comunale"}}).Status)
	assert.EqualValues(t, 1, f.Stats(peer.KindOpen311).Created)

	assert.Error(t, f.Set("bogus", peer.Fault{Mode: peer.ModeError}))
	assert.Error(t, f.Set(peer.KindToken, peer.Fault{Mode: "explode"}))
	assert.Error(t, f.Set(peer.KindToken, peer.Fault{Mode: peer.ModeError, Status: 200}))
	assert.Error(t, f.Set(peer.KindToken, peer.Fault{Mode: peer.ModeSlow}))
}

func TestFaultThrottle(t *testing.T) {
	e := start(t)
	f := e.p.Faults()
	require.NoError(t, f.Set(peer.KindToken, peer.Fault{Mode: peer.ModeThrottle, RetryAfter: 7, Count: 1}))
	r := do(t, "POST", e.URL+"/services/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"sportello"}, "client_secret": {"demo"}}.Encode(), form(nil))
	assert.Equal(t, http.StatusTooManyRequests, r.Status)
	assert.Equal(t, "7", r.Header.Get("Retry-After"))
	assert.Equal(t, "temporarily_unavailable", r.Map(t)["error"])
	tok := e.token(t)

	require.NoError(t, f.Set(peer.KindUpsert, peer.Fault{Mode: peer.ModeThrottle, Count: 1}))
	r = e.upsert(t, tok, "Case", "Ext__c", "t1", `{}`)
	assert.Equal(t, http.StatusTooManyRequests, r.Status)
	assert.Equal(t, "1", r.Header.Get("Retry-After"))
	assert.Equal(t, "REQUEST_LIMIT_EXCEEDED", r.List(t)[0]["errorCode"])
	assert.Equal(t, 201, e.upsert(t, tok, "Case", "Ext__c", "t1", `{}`).Status)
}

func TestFaultHang(t *testing.T) {
	e := start(t)
	tok := e.token(t)
	f := e.p.Faults()

	// Hang until the client times out: nothing applied.
	require.NoError(t, f.Set(peer.KindUpsert, peer.Fault{Mode: peer.ModeHang, Count: 1}))
	_, err := send(fresh(300*time.Millisecond), "PATCH", e.URL+sobjects+"Case/Ext__c/h1", `{"A__c":1}`, bearer(tok))
	require.Error(t, err)
	assert.True(t, isTimeout(err), "the client timed out: %v", err)
	eventually(t, func() bool { return f.Stats(peer.KindUpsert).Dropped == 1 }, "the hanging handler to notice the client left")
	_, err = e.p.Record("Case", "Ext__c", "h1")
	assert.ErrorIs(t, err, peer.ErrNotFound)

	// Bounded: with no client timeout, the peer drops the connection
	// after the fault's delay.
	require.NoError(t, f.Set(peer.KindRecords, peer.Fault{Mode: peer.ModeHang, Delay: 50 * time.Millisecond, Count: 1}))
	_, err = send(fresh(0), "GET", e.URL+"/api/v1/records?external_id=h1", "", bearer(tok))
	require.Error(t, err)
	assert.False(t, isTimeout(err))
	assert.Equal(t, 200, do(t, "GET", e.URL+"/api/v1/records?external_id=h1", "", bearer(tok)).Status)
}

func TestFaultApplyThenDrop(t *testing.T) {
	e := start(t)
	tok := e.token(t)
	f := e.p.Faults()
	require.NoError(t, f.Set(peer.KindUpsert, peer.Fault{Mode: peer.ModeDrop, Count: 1}))

	_, err := send(fresh(5*time.Second), "PATCH", e.URL+sobjects+"Sportello_Visit__c/Visit_Ext_Id__c/d1", `{"Status__c":"done"}`, bearer(tok))
	require.Error(t, err, "the client sees a connection error")
	assert.False(t, isTimeout(err), "not a timeout: %v", err)
	rec, err := e.p.Record("Sportello_Visit__c", "Visit_Ext_Id__c", "d1")
	require.NoError(t, err, "the write was applied before the drop")
	assert.EqualValues(t, 1, rec.Version)
	st := f.Stats(peer.KindUpsert)
	assert.EqualValues(t, 1, st.Applied)
	assert.EqualValues(t, 1, st.Dropped)

	// The sender retries: the keyed upsert absorbs it.
	r := e.upsert(t, tok, "Sportello_Visit__c", "Visit_Ext_Id__c", "d1", `{"Status__c":"done"}`)
	require.Equal(t, 200, r.Status)
	assert.Equal(t, false, r.Map(t)["created"])
	rec, err = e.p.Record("Sportello_Visit__c", "Visit_Ext_Id__c", "d1")
	require.NoError(t, err)
	assert.EqualValues(t, 1, rec.Version)
	assert.EqualValues(t, 2, rec.Applies)

	// Open311: the request exists although the client never got its id;
	// a search by external id finds it (reconcile before re-posting).
	require.NoError(t, f.Set(peer.KindOpen311, peer.Fault{Mode: peer.ModeDrop, Count: 1}))
	_, err = send(fresh(5*time.Second), "POST", e.URL+"/open311/v2/requests.json",
		url.Values{"api_key": {"demo"}, "service_code": {"acqua"}, "address_string": {"Via Aschenez"}, "attribute[external_id]": {"SP-2026-000042"}}.Encode(), form(nil))
	require.Error(t, err)
	s := do(t, "GET", e.URL+"/open311/v2/requests.json?external_id=SP-2026-000042", "", nil)
	require.Equal(t, 200, s.Status)
	assert.Len(t, s.List(t), 1)

	// Token: issued, then dropped.
	require.NoError(t, f.Set(peer.KindToken, peer.Fault{Mode: peer.ModeDrop, Count: 1}))
	_, err = send(fresh(5*time.Second), "POST", e.URL+"/services/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"sportello"}, "client_secret": {"demo"}}.Encode(), form(nil))
	require.Error(t, err)
	assert.EqualValues(t, 1, f.Stats(peer.KindToken).Dropped)
}

func TestFaultSlow(t *testing.T) {
	e := start(t)
	tok := e.token(t)
	f := e.p.Faults()

	require.NoError(t, f.Set(peer.KindUpsert, peer.Fault{Mode: peer.ModeSlow, Delay: 150 * time.Millisecond, Count: 1}))
	began := time.Now()
	r := e.upsert(t, tok, "Case", "Ext__c", "s1", `{"A__c":1}`)
	assert.Equal(t, 201, r.Status)
	assert.GreaterOrEqual(t, time.Since(began), 150*time.Millisecond, "answered no sooner than the delay")

	// Slower than the client's patience: the client times out, the write
	// lands afterwards (the ambiguous outcome).
	require.NoError(t, f.Set(peer.KindUpsert, peer.Fault{Mode: peer.ModeSlow, Delay: 400 * time.Millisecond, Count: 1}))
	_, err := send(fresh(100*time.Millisecond), "PATCH", e.URL+sobjects+"Case/Ext__c/s2", `{"A__c":1}`, bearer(tok))
	require.Error(t, err)
	assert.True(t, isTimeout(err))
	eventually(t, func() bool { _, err := e.p.Record("Case", "Ext__c", "s2"); return err == nil }, "the slow write to land")
}

func TestFaultAllKinds(t *testing.T) {
	e := start(t)
	tok := e.token(t)
	f := e.p.Faults()
	require.NoError(t, f.Set(peer.KindAll, peer.Fault{Mode: peer.ModeError, Count: 2}))
	require.NoError(t, f.Set(peer.KindRecords, peer.Fault{Mode: peer.ModeThrottle, RetryAfter: 3}))

	assert.Equal(t, 429, do(t, "GET", e.URL+"/api/v1/records?external_id=x", "", bearer(tok)).Status, "the kind's own fault wins")
	assert.Equal(t, 500, e.upsert(t, tok, "Case", "Ext__c", "a1", `{}`).Status)
	assert.Equal(t, 500, do(t, "GET", e.URL+"/open311/v2/services.json", "", nil).Status)
	assert.Equal(t, 200, do(t, "GET", e.URL+"/open311/v2/services.json", "", nil).Status, "all: 2 calls only")
	assert.Equal(t, 429, do(t, "GET", e.URL+"/api/v1/records?external_id=x", "", bearer(tok)).Status, "until cleared")
	f.ClearAll()
	assert.Equal(t, 200, do(t, "GET", e.URL+"/api/v1/records?external_id=x", "", bearer(tok)).Status)
	assert.EqualValues(t, 4, f.Stats(peer.KindAll).Faulted)
	f.ResetStats()
	assert.Equal(t, peer.Stats{}, f.Stats(peer.KindAll))
}

func TestFaultAdminEndpoint(t *testing.T) {
	e := start(t)
	tok := e.token(t)
	admin := map[string]string{"Authorization": "Bearer demo", "Content-Type": "application/json"}

	assert.Equal(t, 401, do(t, "PUT", e.URL+"/_peer/faults/upsert", `{"mode":"error"}`, map[string]string{"Authorization": "Bearer " + tok}).Status)
	assert.Equal(t, 401, do(t, "GET", e.URL+"/_peer/stats", "", nil).Status)

	r := do(t, "PUT", e.URL+"/_peer/faults/upsert", `{"mode":"throttle","retry_after_s":3,"count":1}`, admin)
	require.Equal(t, 200, r.Status, r.Body)
	assert.Equal(t, "throttle", r.Map(t)["upsert"].(map[string]any)["mode"])
	u := e.upsert(t, tok, "Case", "Ext__c", "adm", `{}`)
	assert.Equal(t, 429, u.Status)
	assert.Equal(t, "3", u.Header.Get("Retry-After"))

	r = do(t, "PUT", e.URL+"/_peer/faults/all", `{"mode":"slow","delay_ms":10}`, admin)
	require.Equal(t, 200, r.Status, r.Body)
	assert.Equal(t, 400, do(t, "PUT", e.URL+"/_peer/faults/all", `{"mode":"slow"}`, admin).Status)
	assert.Equal(t, 400, do(t, "PUT", e.URL+"/_peer/faults/all", `{"mode":"error","bogus":1}`, admin).Status)
	assert.Equal(t, 404, do(t, "PUT", e.URL+"/_peer/faults/views", `{"mode":"error"}`, admin).Status)
	assert.Equal(t, 200, do(t, "DELETE", e.URL+"/_peer/faults/all", "", admin).Status)
	require.NoError(t, e.p.Faults().Set(peer.KindToken, peer.Fault{Mode: peer.ModeError}))
	r = do(t, "DELETE", e.URL+"/_peer/faults", "", admin)
	assert.Equal(t, "{}\n", r.Body)

	s := do(t, "GET", e.URL+"/_peer/stats", "", admin)
	require.Equal(t, 200, s.Status)
	var stats map[string]peer.Stats
	s.JSON(t, &stats)
	assert.EqualValues(t, 1, stats["upsert"].Faulted)
	assert.EqualValues(t, 1, stats["token"].Applied)
	assert.Equal(t, 204, do(t, "DELETE", e.URL+"/_peer/stats", "", admin).Status)

	assert.Equal(t, 204, do(t, "POST", e.URL+"/_peer/revoke-tokens", "", admin).Status)
	assert.Equal(t, 401, e.upsert(t, tok, "Case", "Ext__c", "adm", `{}`).Status)

	// Without Demo and without AdminSecret there is no admin endpoint.
	e2 := start(t, func(c *peer.Config) { c.Demo = false; c.Clients = map[string]string{"sportello": "x"} })
	assert.Equal(t, 404, do(t, "GET", e2.URL+"/_peer/stats", "", admin).Status)
	e3 := start(t, func(c *peer.Config) { c.Demo = false; c.AdminSecret = "s3" })
	assert.Equal(t, 401, do(t, "GET", e3.URL+"/_peer/stats", "", admin).Status)
	assert.Equal(t, 200, do(t, "GET", e3.URL+"/_peer/stats", "", map[string]string{"Authorization": "Bearer s3"}).Status)
	assert.False(t, strings.Contains(e.logs.String(), "Bearer"), "no credential in the logs")
}
