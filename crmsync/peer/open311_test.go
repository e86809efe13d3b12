package peer_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/comune-rc/sportello/crmsync/peer"
	"github.com/comune-rc/sportello/hub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOpen311CatalogueMirrorsHubTopics(t *testing.T) {
	e := start(t)
	r := do(t, "GET", e.URL+"/open311/v2/services.json", "", nil)
	require.Equal(t, 200, r.Status)
	var codes []string
	for _, s := range r.List(t) {
		codes = append(codes, s["service_code"].(string))
		assert.NotEmpty(t, s["service_name"])
		assert.NotEmpty(t, s["description"])
		assert.Equal(t, "realtime", s["type"])
		assert.Equal(t, true, s["metadata"])
		assert.NotEmpty(t, s["group"])
		assert.NotEmpty(t, s["keywords"])
	}
	assert.Equal(t, hub.ReportTopics, codes, "the catalogue is the hub's report topics")

	d := do(t, "GET", e.URL+"/open311/v2/services/strade.json", "", nil)
	require.Equal(t, 200, d.Status)
	attrs := d.Map(t)["attributes"].([]any)
	var ac []string
	for _, a := range attrs {
		ac = append(ac, a.(map[string]any)["code"].(string))
	}
	assert.Contains(t, ac, "external_id")
	assert.Contains(t, ac, "kind")
	assert.Equal(t, 404, do(t, "GET", e.URL+"/open311/v2/services/nope.json", "", nil).Status)
	assert.Equal(t, 404, do(t, "GET", e.URL+"/open311/v2/services/strade.xml", "", nil).Status)
	assert.Equal(t, 404, do(t, "GET", e.URL+"/open311/v2/services.json?jurisdiction_id=milano.it", "", nil).Status)
	assert.Equal(t, 200, do(t, "GET", e.URL+"/open311/v2/services.json?jurisdiction_id="+peer.Jurisdiction, "", nil).Status)
	disc := do(t, "GET", e.URL+"/open311/v2/discovery.json", "", nil)
	assert.Equal(t, 200, disc.Status)
	assert.Contains(t, disc.Body, e.URL+"/open311/v2")
}

func TestOpen311PostAndGet(t *testing.T) {
	e := start(t)
	tok := e.token(t)
	cf := validCF(t, "VRDGPP80A41H224")

	r := e.open311(t, url.Values{"api_key": {"demo"}, "service_code": {"illuminazione"}, "lat": {"38.1102"}, "long": {"15.6613"},
		"address_string": {"Via Marina Bassa, lampione 12"}, "description": {"Lampione spento da una settimana.\nVicino alla fermata."},
		"attribute[kind]": {"segnalazione"}, "attribute[channel]": {"totem"}, "attribute[codice_fiscale]": {strings.ToLower(cf)},
		"email": {"giuseppina@example.org"}, "first_name": {"Giuseppina"}, "phone": {"+39 0965 000000"}})
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	ans := r.List(t)
	require.Len(t, ans, 1)
	id := ans[0]["service_request_id"].(string)
	assert.Equal(t, "RC-2026-000001", id)
	assert.Contains(t, ans[0]["service_notice"], id)

	// With a bearer token instead of api_key; a complaint with no place but
	// an external id and a description.
	r = do(t, "POST", e.URL+"/open311/v2/requests.json", url.Values{"service_code": {"personale"}, "description": {"Operatore scortese"},
		"attribute[external_id]": {"SP-2026-000009"}, "attribute[kind]": {"reclamo"}}.Encode(),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Authorization": "Bearer " + tok})
	require.Equal(t, 200, r.Status, r.Body)
	id2 := r.List(t)[0]["service_request_id"].(string)
	assert.Equal(t, "RC-2026-000002", id2)

	g := do(t, "GET", e.URL+"/open311/v2/requests/"+id+".json", "", nil)
	require.Equal(t, 200, g.Status, g.Body)
	one := g.List(t)
	require.Len(t, one, 1)
	sr := one[0]
	assert.Equal(t, "open", sr["status"])
	assert.Equal(t, "illuminazione", sr["service_code"])
	assert.Equal(t, "Illuminazione pubblica", sr["service_name"])
	assert.InDelta(t, 38.1102, sr["lat"], 1e-9)
	assert.Equal(t, "Via Marina Bassa, lampione 12", sr["address"])
	for _, k := range []string{"requested_datetime", "updated_datetime"} {
		ts, err := time.Parse(time.RFC3339, sr[k].(string))
		require.NoError(t, err, k)
		_, off := ts.Zone()
		assert.Equal(t, 3600, off, "%s carries the Rome offset (CET in March)", k)
	}
	exp, err := time.Parse(time.RFC3339, sr["expected_datetime"].(string))
	require.NoError(t, err)
	_, off := exp.Zone()
	assert.Equal(t, 7200, off, "30 days later it is CEST")
	for _, k := range []string{"email", "first_name", "phone", "attributes", "codice_fiscale"} {
		assert.NotContains(t, sr, k, "personal data is never in an Open311 answer")
	}
	assert.NotContains(t, g.Body, cf)
	var held *peer.ServiceRequest

	held, err = e.p.ServiceRequest(id)
	require.NoError(t, err)
	assert.Equal(t, []string{cf}, held.Attributes["codice_fiscale"], "the code is normalized")
	assert.Equal(t, "giuseppina@example.org", held.Email)

	nf := do(t, "GET", e.URL+"/open311/v2/requests/RC-2026-999999.json", "", nil)
	assert.Equal(t, 404, nf.Status)
	assert.EqualValues(t, 404, nf.List(t)[0]["code"])
	assert.Equal(t, 404, do(t, "GET", e.URL+"/open311/v2/requests/"+id+".xml", "", nil).Status)

	// Search.
	search := func(q string) []map[string]any {
		t.Helper()
		r := do(t, "GET", e.URL+"/open311/v2/requests.json?"+q, "", nil)
		require.Equal(t, 200, r.Status, r.Body)
		return r.List(t)
	}
	ids := func(l []map[string]any) []string {
		var out []string
		for _, x := range l {
			out = append(out, x["service_request_id"].(string))
		}
		return out
	}
	assert.Equal(t, []string{id2, id}, ids(search("")), "newest first")
	assert.Equal(t, []string{id}, ids(search("service_code=illuminazione")))
	assert.Equal(t, []string{id2, id}, ids(search("service_code=illuminazione,personale")))
	assert.Equal(t, []string{id2}, ids(search("external_id=SP-2026-000009")))
	assert.Empty(t, search("external_id=SP-2026-000010"))
	assert.Equal(t, []string{id}, ids(search("service_request_id="+id+",RC-2026-777777&service_code=personale")), "the id list overrides")
	assert.Len(t, search("status=open"), 2)
	assert.Empty(t, search("status=closed"))
	assert.Len(t, search("start_date=2026-03-02T10:00:00%2B01:00&end_date=2026-03-02T11:00:00%2B01:00"), 2)
	assert.Empty(t, search("start_date=2026-03-03T00:00:00Z"))

	// Older than 90 days: out of the default window, still found by id or
	// external id.
	e.clock.Advance(100 * 24 * time.Hour)
	assert.Empty(t, search(""))
	assert.Len(t, search("external_id=SP-2026-000009"), 1)
	assert.Len(t, search("service_request_id="+id), 1)

	for q, status := range map[string]int{
		"status=pending":          400,
		"start_date=yesterday":    400,
		"end_date=2026-01-01":     400,
		"service_code=nope":       404,
		"jurisdiction_id=roma.it": 404,
		"start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z": 400,
		"start_date=2026-03-01T00:00:00Z&end_date=2026-02-01T00:00:00Z": 400,
	} {
		r := do(t, "GET", e.URL+"/open311/v2/requests.json?"+q, "", nil)
		assert.Equal(t, status, r.Status, "%s: %s", q, r.Body)
		assert.EqualValues(t, status, r.List(t)[0]["code"], q)
	}
}

func TestOpen311PostRefusals(t *testing.T) {
	e := start(t)
	base := func() url.Values {
		return url.Values{"api_key": {"demo"}, "service_code": {"strade"}, "address_string": {"Via Roma 1"}}
	}
	with := func(k, v string) url.Values {
		x := base()
		if v == "" {
			x.Del(k)
		} else {
			x.Set(k, v)
		}
		return x
	}
	cases := []struct {
		name   string
		form   url.Values
		status int
	}{
		{"no api_key", with("api_key", ""), 403},
		{"wrong api_key", with("api_key", "nope"), 403},
		{"no service_code", with("service_code", ""), 400},
		{"unknown service_code", with("service_code", "parcheggi"), 404},
		{"foreign jurisdiction", with("jurisdiction_id", "milano.it"), 404},
		{"no location", with("address_string", ""), 400},
		{"external id without description", func() url.Values {
			x := with("address_string", "")
			x.Set("attribute[external_id]", "e1")
			return x
		}(), 400},
		{"lat without long", func() url.Values { x := with("address_string", ""); x.Set("lat", "38.1"); return x }(), 400},
		{"lat out of range", func() url.Values { x := base(); x.Set("lat", "138.1"); x.Set("long", "15"); return x }(), 400},
		{"description too long", with("description", strings.Repeat("a", 4001)), 400},
		{"description with HTML", with("description", "Guardate <script>alert(1)</script>"), 400},
		{"control characters", with("address_string", "Via\x00Roma"), 400},
		{"bad email", with("email", "not an address"), 400},
		{"bad media_url", with("media_url", "javascript:alert(1)"), 400},
		{"bad kind", with("attribute[kind]", "elogio"), 400},
		{"bad codice fiscale", with("attribute[codice_fiscale]", "RSSMRA80A01H501A"), 400},
		{"twice, different", func() url.Values { x := base(); x.Add("service_code", "verde"); return x }(), 400},
		{"malformed attribute", with("attribute[bad", "x"), 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.open311(t, c.form)
			assert.Equal(t, c.status, r.Status, r.Body)
			l := r.List(t)
			require.Len(t, l, 1)
			assert.EqualValues(t, c.status, l[0]["code"])
			assert.NotEmpty(t, l[0]["description"])
		})
	}
	r := do(t, "POST", e.URL+"/open311/v2/requests.json", `{"service_code":"strade"}`, map[string]string{"Content-Type": "application/json"})
	assert.Equal(t, 400, r.Status)

	// Accepted: exactly 4000 characters, an empty optional field, the same
	// value twice, unknown fields and attributes, multi-valued attributes.
	ok := base()
	ok.Set("description", strings.Repeat("è", 4000))
	ok.Set("email", "")
	ok.Add("service_code", "strade")
	ok.Set("zzz_unknown", "ignored")
	ok.Add("attribute[tags][]", "a")
	ok.Add("attribute[tags][]", "b")
	ok.Set("api_key", "")
	ok.Set("description", "Buca profonda <3 metri? no: 30 cm")
	r = do(t, "POST", e.URL+"/open311/v2/requests.json?api_key=demo", ok.Encode(), form(nil))
	require.Equal(t, 200, r.Status, r.Body)
	sr, err := e.p.ServiceRequest(r.List(t)[0]["service_request_id"].(string))
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, sr.Attributes["tags"])
}

func TestOpen311DuplicatesAreKeptAndCounted(t *testing.T) {
	e := start(t)
	v := url.Values{"api_key": {"demo"}, "service_code": {"rifiuti"}, "address_string": {"Piazza Duomo"}, "attribute[external_id]": {"SP-2026-000001"}}
	require.Equal(t, 200, e.open311(t, v).Status)
	require.Equal(t, 200, e.open311(t, v).Status)
	reqs, err := e.p.ServiceRequestsByExternalID("SP-2026-000001")
	require.NoError(t, err)
	assert.Len(t, reqs, 2, "Open311 has no idempotency key: a blind retry makes a second case")
	st := e.p.Faults().Stats(peer.KindOpen311)
	assert.EqualValues(t, 2, st.Created)
	assert.EqualValues(t, 1, st.Duplicates)
}
