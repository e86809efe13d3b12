package peer_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/comune-rc/sportello/crmsync/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

func TestTokenFlowWithOAuth2Client(t *testing.T) {
	e := start(t)
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInParams, oauth2.AuthStyleInHeader} {
		cc := clientcredentials.Config{ClientID: "sportello", ClientSecret: "demo", TokenURL: e.URL + "/services/oauth2/token", AuthStyle: style}
		tok, err := cc.Token(context.Background())
		require.NoError(t, err)
		assert.NotEmpty(t, tok.AccessToken)
		assert.Equal(t, "Bearer", tok.TokenType)
		assert.WithinDuration(t, time.Now().Add(2*time.Hour), tok.Expiry, time.Minute)

		// The oauth2 client then drives the data API.
		c := cc.Client(context.Background())
		req, err := http.NewRequest("PATCH", e.URL+sobjects+"Sportello_Visit__c/Visit_Ext_Id__c/v-"+string(rune('0'+int(style))), strings.NewReader(`{"Status__c":"waiting"}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		res, err := c.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		assert.Equal(t, http.StatusCreated, res.StatusCode)
	}

	// Wrong secret, unknown client: 401 invalid_client, for the oauth2
	// client too.
	cc := clientcredentials.Config{ClientID: "sportello", ClientSecret: "nope", TokenURL: e.URL + "/services/oauth2/token", AuthStyle: oauth2.AuthStyleInParams}
	_, err := cc.Token(context.Background())
	var re *oauth2.RetrieveError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "invalid_client", re.ErrorCode)
	assert.Equal(t, http.StatusUnauthorized, re.Response.StatusCode)
}

func TestTokenEndpointErrors(t *testing.T) {
	e := start(t)
	tokURL := e.URL + "/services/oauth2/token"
	cases := []struct {
		name   string
		form   url.Values
		ct     string
		status int
		code   string
	}{
		{"wrong secret", url.Values{"grant_type": {"client_credentials"}, "client_id": {"sportello"}, "client_secret": {"x"}}, "", 401, "invalid_client"},
		{"unknown client", url.Values{"grant_type": {"client_credentials"}, "client_id": {"who"}, "client_secret": {"demo"}}, "", 401, "invalid_client"},
		{"no credentials", url.Values{"grant_type": {"client_credentials"}}, "", 401, "invalid_client"},
		{"password grant", url.Values{"grant_type": {"password"}, "client_id": {"sportello"}, "client_secret": {"demo"}, "username": {"u"}, "password": {"p"}}, "", 400, "unsupported_grant_type"},
		{"refresh grant", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"r"}}, "", 400, "unsupported_grant_type"},
		{"no grant", url.Values{"client_id": {"sportello"}, "client_secret": {"demo"}}, "", 400, "invalid_request"},
		{"json body", nil, "application/json", 400, "invalid_request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hdr := form(nil)
			body := c.form.Encode()
			if c.ct != "" {
				hdr = map[string]string{"Content-Type": c.ct}
				body = `{"grant_type":"client_credentials"}`
			}
			r := do(t, "POST", tokURL, body, hdr)
			assert.Equal(t, c.status, r.Status, r.Body)
			assert.Equal(t, c.code, r.Map(t)["error"])
		})
	}
	assert.Equal(t, http.StatusMethodNotAllowed, do(t, "GET", tokURL, "", nil).Status)

	r := do(t, "POST", tokURL, url.Values{"grant_type": {"client_credentials"}, "client_id": {"sportello"}, "client_secret": {"demo"}}.Encode(), form(nil))
	require.Equal(t, 200, r.Status)
	m := r.Map(t)
	assert.Equal(t, "Bearer", m["token_type"])
	assert.EqualValues(t, 7200, m["expires_in"])
	assert.Equal(t, e.URL, m["instance_url"])
	assert.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	assert.NotContains(t, e.logs.String(), m["access_token"].(string), "tokens stay off the logs")
}

func TestTokenExpiryAndRevocation(t *testing.T) {
	e := start(t, func(c *peer.Config) { c.TokenTTL = 10 * time.Minute; c.Clients = map[string]string{"svu": "s3cret"} })
	tok := e.token(t)
	assert.Equal(t, 201, e.upsert(t, tok, "Case", "Ext__c", "a", `{"X__c":1}`).Status)

	e.clock.Advance(9 * time.Minute)
	assert.Equal(t, 200, e.upsert(t, tok, "Case", "Ext__c", "a", `{"X__c":1}`).Status)

	e.clock.Advance(time.Minute)
	r := e.upsert(t, tok, "Case", "Ext__c", "a", `{"X__c":2}`)
	assert.Equal(t, 401, r.Status)
	assert.Equal(t, "INVALID_SESSION_ID", r.List(t)[0]["errorCode"])
	assert.Equal(t, 401, do(t, "GET", e.URL+"/api/v1/records?external_id=a", "", bearer(tok)).Status)
	rec, err := e.p.Record("Case", "Ext__c", "a")
	require.NoError(t, err)
	assert.EqualValues(t, 1, rec.Version, "the refused call wrote nothing")

	// A new token works; revocation kills it.
	tok = e.token(t)
	assert.Equal(t, 200, e.upsert(t, tok, "Case", "Ext__c", "a", `{"X__c":1}`).Status)
	require.NoError(t, e.p.RevokeTokens())
	assert.Equal(t, 401, e.upsert(t, tok, "Case", "Ext__c", "a", `{"X__c":1}`).Status)

	// Configured clients besides the demo one.
	r = do(t, "POST", e.URL+"/services/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"svu"}, "client_secret": {"s3cret"}}.Encode(), form(nil))
	assert.Equal(t, 200, r.Status)
}

func TestUpsert(t *testing.T) {
	e := start(t)
	tok := e.token(t)
	const obj, fld, ext = "Sportello_Visit__c", "Visit_Ext_Id__c", "cedir-20260302-A023"

	r := e.upsert(t, tok, obj, fld, ext, `{"Status__c":"waiting","Service__c":"anagrafe","Steps__c":[{"service":"anagrafe","counter":"3"}],"Meta__c":{"b":1,"a":2}}`)
	require.Equal(t, http.StatusCreated, r.Status, r.Body)
	m := r.Map(t)
	assert.Equal(t, true, m["success"])
	assert.Equal(t, true, m["created"])
	assert.Equal(t, []any{}, m["errors"])
	id := m["id"].(string)
	assert.Len(t, id, 18)
	assert.Contains(t, r.Header.Get("Sforce-Limit-Info"), "api-usage=")

	rec, err := e.p.Record(obj, fld, ext)
	require.NoError(t, err)
	assert.EqualValues(t, 1, rec.Version)
	created := rec.UpdatedAt

	// An identical repeat (other key order, other spacing) is applied
	// without a new version.
	e.clock.Advance(time.Minute)
	r = e.upsert(t, tok, obj, fld, ext, `{ "Meta__c": {"a":2, "b":1}, "Steps__c":[{"counter":"3","service":"anagrafe"}], "Service__c":"anagrafe", "Status__c":"waiting" }`)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	assert.Equal(t, false, r.Map(t)["created"])
	assert.Equal(t, id, r.Map(t)["id"])
	rec, err = e.p.Record(obj, fld, ext)
	require.NoError(t, err)
	assert.EqualValues(t, 1, rec.Version)
	assert.EqualValues(t, 2, rec.Applies)
	assert.Equal(t, created, rec.UpdatedAt, "nothing changed")

	// A change: version + 1; fields not in the body stay.
	r = e.upsert(t, tok, obj, fld, ext, `{"Status__c":"done","Outcome__c":"certificato rilasciato"}`)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	rec, err = e.p.Record(obj, fld, ext)
	require.NoError(t, err)
	assert.EqualValues(t, 2, rec.Version)
	assert.JSONEq(t, `"done"`, string(rec.Fields["Status__c"]))
	assert.JSONEq(t, `"anagrafe"`, string(rec.Fields["Service__c"]))
	assert.True(t, rec.UpdatedAt.After(created))

	// GET by external id.
	g := do(t, "GET", e.URL+sobjects+obj+"/"+fld+"/"+ext, "", bearer(tok))
	require.Equal(t, 200, g.Status, g.Body)
	gm := g.Map(t)
	assert.Equal(t, "done", gm["Status__c"])
	assert.Equal(t, "certificato rilasciato", gm["Outcome__c"])
	assert.Equal(t, id, gm["Id"])
	assert.Equal(t, ext, gm[fld])
	assert.Equal(t, obj, gm["attributes"].(map[string]any)["type"])

	nf := do(t, "GET", e.URL+sobjects+obj+"/"+fld+"/nope", "", bearer(tok))
	assert.Equal(t, 404, nf.Status)
	assert.Equal(t, "NOT_FOUND", nf.List(t)[0]["errorCode"])

	st := e.p.Faults().Stats(peer.KindUpsert)
	assert.EqualValues(t, 1, st.Created)
	assert.EqualValues(t, 1, st.Updated)
	assert.EqualValues(t, 1, st.Unchanged)
	assert.EqualValues(t, 4, st.Applied, "three PATCHes and one GET applied")
}

func TestUpsertRefusals(t *testing.T) {
	e := start(t)
	tok := e.token(t)
	cases := []struct {
		name, path, body string
		status           int
		code             string
	}{
		{"Id in body", "Case/Ext__c/x1", `{"Id":"a0R000000000000001","A__c":1}`, 400, "INVALID_FIELD"},
		{"id in body, any case", "Case/Ext__c/x1", `{"ID":"1"}`, 400, "INVALID_FIELD"},
		{"ext field in body", "Case/Ext__c/x1", `{"Ext__c":"x1"}`, 400, "INVALID_FIELD"},
		{"ext field in body, any case", "Case/Ext__c/x1", `{"ext__C":"x1"}`, 400, "INVALID_FIELD"},
		{"bad field name", "Case/Ext__c/x1", `{"bad-name":1}`, 400, "INVALID_FIELD"},
		{"bad json", "Case/Ext__c/x1", `{"A__c":`, 400, "JSON_PARSER_ERROR"},
		{"array", "Case/Ext__c/x1", `[{"A__c":1}]`, 400, "JSON_PARSER_ERROR"},
		{"null", "Case/Ext__c/x1", `null`, 400, "JSON_PARSER_ERROR"},
		{"trailing data", "Case/Ext__c/x1", `{"A__c":1} {"B__c":2}`, 400, "JSON_PARSER_ERROR"},
		{"empty body", "Case/Ext__c/x1", ``, 400, "JSON_PARSER_ERROR"},
		{"bad version", "../v62/sobjects/Case/Ext__c/x1", `{}`, 404, "NOT_FOUND"},
		{"bad object", "Ca-se/Ext__c/x1", `{}`, 404, "NOT_FOUND"},
		{"Id as ext field", "Case/Id/x1", `{}`, 404, "NOT_FOUND"},
		{"updateOnly on a new record", "Case/Ext__c/x1?updateOnly=true", `{"A__c":1}`, 404, "NOT_FOUND"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := e.URL + sobjects + c.path
			if strings.HasPrefix(c.path, "../") {
				u = e.URL + "/services/data/v62/sobjects/Case/Ext__c/x1"
			}
			r := do(t, "PATCH", u, c.body, bearer(tok))
			assert.Equal(t, c.status, r.Status, r.Body)
			assert.Equal(t, c.code, r.List(t)[0]["errorCode"], r.Body)
		})
	}
	_, err := e.p.Record("Case", "Ext__c", "x1")
	assert.True(t, errors.Is(err, peer.ErrNotFound), "no refusal wrote anything")

	r := do(t, "PATCH", e.URL+sobjects+"Case/Ext__c/x1", `A__c=1`, map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/x-www-form-urlencoded"})
	assert.Equal(t, http.StatusUnsupportedMediaType, r.Status)
	r = do(t, "PATCH", e.URL+sobjects+"Case/Ext__c/x1", `{"A__c":1}`, map[string]string{"Content-Type": "application/json"})
	assert.Equal(t, 401, r.Status)
	r = do(t, "PATCH", e.URL+sobjects+"Case/Ext__c/x1", `{"A__c":"`+strings.Repeat("x", 1<<20)+`"}`, bearer(tok))
	assert.Equal(t, http.StatusRequestEntityTooLarge, r.Status)

	// "attributes" is Salesforce's annotation, not a field; null clears.
	r = e.upsert(t, tok, "Case", "Ext__c", "x2", `{"attributes":{"type":"Case"},"A__c":1,"B__c":"b"}`)
	require.Equal(t, 201, r.Status, r.Body)
	r = e.upsert(t, tok, "Case", "Ext__c", "x2", `{"B__c":null}`)
	require.Equal(t, 200, r.Status, r.Body)
	rec, err := e.p.Record("Case", "Ext__c", "x2")
	require.NoError(t, err)
	assert.NotContains(t, rec.Fields, "attributes")
	assert.Equal(t, "null", string(rec.Fields["B__c"]))
	assert.EqualValues(t, 2, rec.Version)
	r = do(t, "PATCH", e.URL+sobjects+"Case/Ext__c/x2?updateOnly=true", `{"A__c":3}`, bearer(tok))
	assert.Equal(t, 200, r.Status, r.Body)
}

func TestRecordsEndpoint(t *testing.T) {
	e := start(t)
	tok := e.token(t)
	const ext = "cedir-20260302-B007"
	require.Equal(t, 201, e.upsert(t, tok, "Sportello_Visit__c", "Visit_Ext_Id__c", ext, `{"Status__c":"done"}`).Status)
	require.Equal(t, 201, e.upsert(t, tok, "Case", "Sportello_Ext_Id__c", ext, `{"Subject":"Visita"}`).Status)
	require.Equal(t, 200, e.upsert(t, tok, "Case", "Sportello_Ext_Id__c", ext, `{"Subject":"Visita B007"}`).Status)
	require.Equal(t, 201, e.upsert(t, tok, "Case", "Sportello_Ext_Id__c", "other", `{"Subject":"x"}`).Status)
	r := e.open311(t, url.Values{"api_key": {"demo"}, "service_code": {"servizi"}, "description": {"Attesa troppo lunga"},
		"attribute[external_id]": {ext}, "email": {"mario@example.org"}})
	require.Equal(t, 200, r.Status, r.Body)
	srid := r.List(t)[0]["service_request_id"]

	g := do(t, "GET", e.URL+"/api/v1/records?external_id="+ext, "", bearer(tok))
	require.Equal(t, 200, g.Status, g.Body)
	list := g.List(t)
	require.Len(t, list, 3)
	objects := map[string]map[string]any{}
	for _, it := range list {
		keys := []string{}
		for k := range it {
			keys = append(keys, k)
		}
		assert.ElementsMatch(t, []string{"external_id", "object", "fields", "version", "updated_at"}, keys)
		assert.Equal(t, ext, it["external_id"])
		_, err := time.Parse(time.RFC3339, it["updated_at"].(string))
		assert.NoError(t, err)
		objects[it["object"].(string)] = it
	}
	assert.Equal(t, "done", objects["Sportello_Visit__c"]["fields"].(map[string]any)["Status__c"])
	assert.EqualValues(t, 2, objects["Case"]["version"])
	assert.Equal(t, "Visita B007", objects["Case"]["fields"].(map[string]any)["Subject"])
	sr := objects["ServiceRequest"]["fields"].(map[string]any)
	assert.Equal(t, srid, sr["service_request_id"])
	assert.Equal(t, "open", sr["status"])
	assert.NotContains(t, sr, "email", "no personal fields")

	empty := do(t, "GET", e.URL+"/api/v1/records?external_id=none", "", bearer(tok))
	assert.Equal(t, 200, empty.Status)
	assert.Equal(t, "[]\n", empty.Body)
	bad := do(t, "GET", e.URL+"/api/v1/records", "", bearer(tok))
	assert.Equal(t, 400, bad.Status)
	assert.Equal(t, "application/problem+json", bad.Header.Get("Content-Type"))
	assert.Equal(t, 401, do(t, "GET", e.URL+"/api/v1/records?external_id="+ext, "", nil).Status)
	assert.Equal(t, 401, do(t, "GET", e.URL+"/api/v1/records?external_id="+ext, "", bearer("demo")).Status, "a secret is not a token")
}

func TestRestartKeepsData(t *testing.T) {
	e := start(t)
	tok := e.token(t)
	require.Equal(t, 201, e.upsert(t, tok, "Case", "Ext__c", "k1", `{"A__c":1}`).Status)
	require.Equal(t, 200, e.upsert(t, tok, "Case", "Ext__c", "k1", `{"A__c":2}`).Status)
	r := e.open311(t, url.Values{"api_key": {"demo"}, "service_code": {"strade"}, "address_string": {"Via Marina 1"}, "attribute[external_id]": {"k1"}})
	require.Equal(t, 200, r.Status, r.Body)
	assert.Equal(t, "RC-2026-000001", r.List(t)[0]["service_request_id"])

	e.restart(t)

	rec, err := e.p.Record("Case", "Ext__c", "k1")
	require.NoError(t, err)
	assert.EqualValues(t, 2, rec.Version)
	// The token survives too (stored hashed), and the numbering goes on.
	assert.Equal(t, 200, e.upsert(t, tok, "Case", "Ext__c", "k1", `{"A__c":2}`).Status)
	rec, err = e.p.Record("Case", "Ext__c", "k1")
	require.NoError(t, err)
	assert.EqualValues(t, 2, rec.Version)
	g := do(t, "GET", e.URL+"/api/v1/records?external_id=k1", "", bearer(tok))
	assert.Len(t, g.List(t), 2)
	r = e.open311(t, url.Values{"api_key": {"demo"}, "service_code": {"strade"}, "address_string": {"Via Marina 2"}})
	assert.Equal(t, "RC-2026-000002", r.List(t)[0]["service_request_id"])
	assert.Equal(t, 200, do(t, "GET", e.URL+"/open311/v2/requests/RC-2026-000001.json", "", nil).Status)
}

func TestNewAndRun(t *testing.T) {
	_, err := peer.New(peer.Config{})
	assert.Error(t, err, "Data is required")
	_, err = peer.New(peer.Config{Data: t.TempDir(), Clients: map[string]string{"x": ""}})
	assert.Error(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	done := make(chan error, 1)
	dir := t.TempDir()
	go func() {
		done <- peer.Run(ctx, "127.0.0.1:0", peer.Config{Data: dir, Demo: true}, func(u string) { urls <- u })
	}()
	var base string
	select {
	case base = <-urls:
	case err := <-done:
		t.Fatal(err)
	}
	assert.True(t, strings.HasPrefix(base, "http://127.0.0.1:"))
	r := do(t, "GET", base+"/healthz", "", nil)
	assert.Equal(t, 200, r.Status)

	// A hanging call does not hold the shutdown.
	require.NoError(t, func() error {
		r := do(t, "PUT", base+"/_peer/faults/records", `{"mode":"hang"}`, map[string]string{"Authorization": "Bearer demo"})
		if r.Status != 200 {
			return errors.New(r.Body)
		}
		return nil
	}())
	hung := make(chan error, 1)
	go func() {
		_, err := send(fresh(time.Minute), "GET", base+"/api/v1/records?external_id=x", "", nil)
		hung <- err
	}()
	eventually(t, func() bool {
		r, err := send(plain, "GET", base+"/_peer/stats", "", map[string]string{"Authorization": "Bearer demo"})
		return err == nil && strings.Contains(r.Body, `"records":{"calls":1`)
	}, "the hanging call to arrive")
	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	assert.Error(t, <-hung, "the hanging call was dropped")

	// ":0" gives a URL a local client can use.
	ctx2, cancel2 := context.WithCancel(context.Background())
	go func() { done <- peer.Run(ctx2, ":0", peer.Config{Data: dir}, func(u string) { urls <- u }) }()
	base = <-urls
	assert.True(t, strings.HasPrefix(base, "http://127.0.0.1:"), base)
	assert.Equal(t, 200, do(t, "GET", base+"/healthz", "", nil).Status)
	cancel2()
	assert.NoError(t, <-done)
}
