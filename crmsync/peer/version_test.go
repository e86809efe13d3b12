package peer_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/comune-rc/sportello/crmsync/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestVersionGuard: an upsert whose Sync_Seq__c is lower than the
// record's is refused with 409 STALE_VERSION and changes nothing; an
// equal one is a re-delivery and is applied; a higher one goes through;
// an upsert without the field is not guarded; a version that is not a
// non-negative integer is refused.
func TestVersionGuard(t *testing.T) {
	e := start(t)
	tok := e.token(t)
	const obj, fld, ext = "Sportello_Visit__c", "Visit_Ext_Id__c", "cedir-20260302-A042"
	get := func() *peer.Record {
		t.Helper()
		rec, err := e.p.Record(obj, fld, ext)
		require.NoError(t, err)
		return rec
	}

	r := e.upsert(t, tok, obj, fld, ext, `{"Status__c":"called","Sync_Seq__c":5}`)
	require.Equal(t, http.StatusCreated, r.Status, r.Body)

	// Equal: applied (a re-delivery, or a reconciliation restoring a field).
	r = e.upsert(t, tok, obj, fld, ext, `{"Status__c":"called","Counter__c":"4","Sync_Seq__c":5}`)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	before := get()
	assert.JSONEq(t, `"4"`, string(before.Fields["Counter__c"]))

	// Lower: refused, nothing changed, counted and logged.
	r = e.upsert(t, tok, obj, fld, ext, `{"Status__c":"waiting","Counter__c":null,"Sync_Seq__c":3}`)
	require.Equal(t, http.StatusConflict, r.Status, r.Body)
	errs := r.List(t)
	require.Len(t, errs, 1)
	assert.Equal(t, peer.StaleVersion, errs[0]["errorCode"])
	assert.Equal(t, []any{"Sync_Seq__c"}, errs[0]["fields"])
	assert.Contains(t, errs[0]["message"], "3 is lower than the stored 5")
	after := get()
	assert.Equal(t, before, after, "a stale upsert changed the record")
	assert.EqualValues(t, 1, e.p.Faults().Stats(peer.KindUpsert).Stale)
	assert.Contains(t, e.logs.String(), "stale version")
	assert.NotContains(t, e.logs.String(), ext, "the log names the case")

	// Higher: applied.
	r = e.upsert(t, tok, obj, fld, ext, `{"Status__c":"done","Sync_Seq__c":9}`)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	assert.JSONEq(t, `"done"`, string(get().Fields["Status__c"]))
	assert.JSONEq(t, `9`, string(get().Fields["Sync_Seq__c"]))

	// Without the field (another client, an agent's tool): not guarded.
	r = e.upsert(t, tok, obj, fld, ext, `{"Notes__c":"x"}`)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	assert.JSONEq(t, `9`, string(get().Fields["Sync_Seq__c"]))

	for _, bad := range []string{`"abc"`, `-1`, `1.5`, `null`, `{}`, `true`} {
		r = e.upsert(t, tok, obj, fld, ext, `{"Status__c":"waiting","Sync_Seq__c":`+bad+`}`)
		assert.Equal(t, http.StatusBadRequest, r.Status, "version %s: %s", bad, r.Body)
		assert.Equal(t, "INVALID_TYPE_ON_FIELD_IN_RECORD", r.List(t)[0]["errorCode"], bad)
	}
	assert.JSONEq(t, `"done"`, string(get().Fields["Status__c"]), "a refused version wrote something")
	assert.EqualValues(t, 1, e.p.Faults().Stats(peer.KindUpsert).Stale)
}

// TestVersionGuardConfigured: the guarded field is configurable, and "-"
// turns the guard off (the bare keyed upsert: last write wins).
func TestVersionGuardConfigured(t *testing.T) {
	cases := []struct {
		field, sent string
		lowerStatus int
	}{
		{"Rev__c", "Rev__c", http.StatusConflict},
		{"Rev__c", "Sync_Seq__c", http.StatusOK}, // not the guarded field
		{"-", "Sync_Seq__c", http.StatusOK},
	}
	for _, c := range cases {
		t.Run(c.field+"/"+c.sent, func(t *testing.T) {
			e := start(t, func(cfg *peer.Config) { cfg.VersionField = c.field })
			tok := e.token(t)
			r := e.upsert(t, tok, "Case", "Ext__c", "v1", `{"A__c":"new","`+c.sent+`":7}`)
			require.Equal(t, http.StatusCreated, r.Status, r.Body)
			r = e.upsert(t, tok, "Case", "Ext__c", "v1", `{"A__c":"old","`+c.sent+`":2}`)
			require.Equal(t, c.lowerStatus, r.Status, r.Body)
		})
	}
}

// TestVersionGuardLateSlowCall: the hazard itself, over HTTP. An older
// state is sent first and the peer is slow with it; while it is still in
// flight a newer state is sent and applied; then the older one reaches
// the store — and is refused. The record keeps the newer state.
func TestVersionGuardLateSlowCall(t *testing.T) {
	e := start(t)
	tok := e.token(t)
	const obj, fld, ext = "Sportello_Visit__c", "Visit_Ext_Id__c", "cedir-20260302-A077"
	f := e.p.Faults()
	require.NoError(t, f.Set(peer.KindUpsert, peer.Fault{Mode: peer.ModeSlow, Delay: 300 * time.Millisecond, Count: 1}))

	late := make(chan reply, 1)
	go func() {
		r, err := send(plain, "PATCH", e.URL+sobjects+obj+"/"+fld+"/"+ext, `{"Status__c":"called","Sync_Seq__c":11}`, bearer(tok))
		if err != nil {
			r.Status, r.Body = -1, err.Error()
		}
		late <- r
	}()
	// The slow call has taken the fault and waits inside the peer.
	eventually(t, func() bool { return f.Stats(peer.KindUpsert).Calls >= 1 && len(f.Active()) == 0 }, "the slow call in flight")
	r := e.upsert(t, tok, obj, fld, ext, `{"Status__c":"done","Sync_Seq__c":12}`)
	require.Equal(t, http.StatusCreated, r.Status, r.Body)

	var lr reply
	select {
	case lr = <-late:
	case <-time.After(10 * time.Second):
		t.Fatal("the slow call never ended")
	}
	require.Equal(t, http.StatusConflict, lr.Status, lr.Body)
	assert.Equal(t, peer.StaleVersion, lr.List(t)[0]["errorCode"])
	rec, err := e.p.Record(obj, fld, ext)
	require.NoError(t, err)
	assert.JSONEq(t, `"done"`, string(rec.Fields["Status__c"]), "the late older state overwrote the newer one")
	assert.JSONEq(t, `12`, string(rec.Fields["Sync_Seq__c"]))
	assert.EqualValues(t, 1, rec.Version)
	assert.EqualValues(t, 1, f.Stats(peer.KindUpsert).Stale)
}
