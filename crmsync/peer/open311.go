package peer

import (
	"errors"
	"math"
	"mime"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Jurisdiction is the peer's Open311 jurisdiction_id. The peer is a
// single-jurisdiction server: jurisdiction_id may be omitted; any other
// value is a 404.
const Jurisdiction = "reggiocalabria.it"

// Service is one entry of the Open311 catalogue.
type Service struct {
	Code        string
	Name        string
	Description string
	Group       string
	Keywords    []string
	// Agency is the office the requests go to.
	Agency string
}

// Services is the catalogue. Its codes are the hub's report topics
// (hub.ReportTopics), in the same order: a test keeps them in step.
var Services = []Service{
	{"strade", "Strade e marciapiedi", "Buche, dissesti, segnaletica, marciapiedi danneggiati", "Manutenzione urbana",
		[]string{"buca", "asfalto", "marciapiede", "segnaletica"}, "Settore Lavori Pubblici – Manutenzione strade"},
	{"illuminazione", "Illuminazione pubblica", "Lampioni spenti, guasti o danneggiati", "Manutenzione urbana",
		[]string{"lampione", "luce", "buio"}, "Settore Lavori Pubblici – Pubblica illuminazione"},
	{"rifiuti", "Rifiuti e pulizia", "Mancata raccolta, rifiuti abbandonati, cassonetti", "Ambiente",
		[]string{"raccolta", "cassonetto", "discarica", "pulizia"}, "Settore Ambiente – Igiene urbana"},
	{"verde", "Verde pubblico", "Alberi, aiuole, parchi e giardini", "Ambiente",
		[]string{"albero", "potatura", "parco", "giardino"}, "Settore Ambiente – Verde pubblico"},
	// Water moved from Hermes Servizi Metropolitani to Sorical on 1 Jan
	// 2024 (press report, to be confirmed by the Comune).
	{"acqua", "Acqua e fognature", "Perdite, mancanza d'acqua, tombini e fognature", "Servizi a rete",
		[]string{"perdita", "acquedotto", "fogna", "tombino"}, "Sorical S.p.A. – Servizio idrico"},
	{"servizi", "Servizi comunali", "Reclami e segnalazioni sui servizi del Comune e degli sportelli", "Servizi al cittadino",
		[]string{"sportello", "attesa", "pratica", "servizio"}, "Sportello Unico per il Cittadino"},
	{"personale", "Personale comunale", "Reclami su cortesia e comportamento del personale", "Servizi al cittadino",
		[]string{"cortesia", "comportamento", "operatore"}, "Ufficio Relazioni con il Pubblico"},
	{"altro", "Altro", "Tutto ciò che non rientra nelle altre categorie", "Servizi al cittadino",
		[]string{"altro"}, "Ufficio Relazioni con il Pubblico"},
}

func serviceByCode(code string) (Service, bool) {
	for _, s := range Services {
		if s.Code == code {
			return s, true
		}
	}
	return Service{}, false
}

// The attributes every service defines (GET services/{code}.json).
type attrDef struct {
	Code, Datatype, Description string
	Values                      [][2]string
}

var serviceAttributes = []attrDef{
	{"external_id", "string", "Identificativo esterno del caso (es. l'id della pratica dello Sportello): la richiesta si ritrova con GET requests.json?external_id=…; con una descrizione, ammette richieste senza luogo (reclami sui servizi).", nil},
	{"kind", "singlevaluelist", "Tipo di richiesta", [][2]string{{"segnalazione", "Segnalazione"}, {"reclamo", "Reclamo"}}},
	{"channel", "singlevaluelist", "Canale di provenienza", [][2]string{{"totem", "Totem"}, {"desk", "Sportello"}, {"web", "Web (SVU)"}, {"phone", "Telefono"}}},
	{"protocol", "string", "Protocollo provvisorio dello Sportello (es. SP-2026-000001)", nil},
	{"codice_fiscale", "string", "Codice fiscale del cittadino, per collegare la richiesta alla sua scheda; mai restituito.", nil},
}

// o311Error is the Open311 error shape; answers carry a list.
type o311Error struct {
	Code        int    `json:"code"`
	Description string `json:"description"`
}

func o311Fail(w http.ResponseWriter, status int, desc string) {
	writeJSON(w, status, []o311Error{{Code: status, Description: desc}})
}

// formError is a refusal of the request form: an HTTP status (400, 404)
// and a description.
type formError struct {
	Status      int
	Description string
}

func (e *formError) Error() string { return e.Description }

func badForm(desc string) *formError {
	return &formError{Status: http.StatusBadRequest, Description: desc}
}

var (
	attrKeyRE  = regexp.MustCompile(`^attribute\[([A-Za-z0-9_.-]{1,64})\](\[\])?$`)
	htmlTagRE  = regexp.MustCompile(`<\s*/?\s*[A-Za-z!?]`)
	phoneRE    = regexp.MustCompile(`^[0-9+ ().-]{3,40}$`)
	requestKey = map[string]bool{"api_key": true, "jurisdiction_id": true, "service_code": true, "lat": true, "long": true,
		"address_string": true, "address_id": true, "email": true, "device_id": true, "account_id": true,
		"first_name": true, "last_name": true, "phone": true, "description": true, "media_url": true}
)

const (
	maxDescription = 4000
	maxAttributes  = 20
	maxAttrValues  = 10
)

// ParseRequestForm validates the fields of POST requests.json (the
// api_key aside) and returns the new request, not yet numbered. Rules:
//
//   - an empty value is an absent one; a field given twice with different
//     values is refused;
//   - service_code is required and must be in the catalogue (else 404);
//     jurisdiction_id, when given, must be Jurisdiction (else 404);
//   - a location is required: lat and long together, address_string or
//     address_id; or else attribute[external_id] together with a
//     description (a complaint about a service has no place);
//   - description ≤ 4000 characters, no HTML; the other texts are short
//     single lines; email and media_url must parse; lat/long in range;
//   - attribute[code]=v and attribute[code][]=v (multi): at most 20 codes
//     of at most 10 values; kind, channel and codice_fiscale are checked
//     against their definitions; unknown codes are kept as given.
//
// Unknown non-attribute fields are ignored, as Open311 servers do.
func ParseRequestForm(form url.Values) (*ServiceRequest, error) {
	one := map[string]string{}
	attrs := map[string][]string{}
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		vals := form[k]
		if m := attrKeyRE.FindStringSubmatch(k); m != nil {
			for _, v := range vals {
				if v = strings.TrimSpace(v); v != "" {
					attrs[m[1]] = append(attrs[m[1]], v)
				}
			}
			continue
		}
		if strings.HasPrefix(k, "attribute[") {
			return nil, badForm("malformed attribute name: use attribute[code] or attribute[code][]")
		}
		if !requestKey[k] {
			continue
		}
		v := ""
		for _, x := range vals {
			x = strings.TrimSpace(x)
			if x == "" {
				continue
			}
			if v != "" && x != v {
				return nil, badForm(k + " is given more than once")
			}
			v = x
		}
		if v != "" {
			one[k] = v
		}
	}
	if j := one["jurisdiction_id"]; j != "" && j != Jurisdiction {
		return nil, &formError{Status: http.StatusNotFound, Description: "jurisdiction_id not found: this server serves " + Jurisdiction}
	}
	code := one["service_code"]
	if code == "" {
		return nil, badForm("service_code is required")
	}
	svc, ok := serviceByCode(code)
	if !ok {
		return nil, &formError{Status: http.StatusNotFound, Description: "service_code not found"}
	}
	r := &ServiceRequest{ServiceCode: svc.Code, ServiceName: svc.Name, AgencyResponsible: svc.Agency, Status: "open"}

	// Texts.
	texts := []struct {
		key       string
		dst       *string
		max       int
		multiline bool
	}{
		{"description", &r.Description, maxDescription, true},
		{"address_string", &r.Address, 500, false},
		{"address_id", &r.AddressID, 100, false},
		{"email", &r.Email, 254, false},
		{"device_id", &r.DeviceID, 100, false},
		{"account_id", &r.AccountID, 100, false},
		{"first_name", &r.FirstName, 100, false},
		{"last_name", &r.LastName, 100, false},
		{"phone", &r.Phone, 40, false},
		{"media_url", &r.MediaURL, 2000, false},
	}
	for _, t := range texts {
		v := one[t.key]
		if !cleanText(v, t.max, t.multiline) {
			return nil, badForm(t.key + " must be text of at most " + strconv.Itoa(t.max) + " characters without control characters")
		}
		*t.dst = v
	}
	if htmlTagRE.MatchString(r.Description) {
		return nil, badForm("description must not contain HTML")
	}
	if r.Email != "" {
		if a, err := mail.ParseAddress(r.Email); err != nil || a.Address != r.Email {
			return nil, badForm("email is not a valid address")
		}
	}
	if r.Phone != "" && !phoneRE.MatchString(r.Phone) {
		return nil, badForm("phone must be digits, spaces and + ( ) - .")
	}
	if r.MediaURL != "" {
		u, err := url.Parse(r.MediaURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, badForm("media_url must be an absolute http(s) URL")
		}
	}

	// Location.
	lat, long := one["lat"], one["long"]
	if (lat == "") != (long == "") {
		return nil, badForm("lat and long go together")
	}
	if lat != "" {
		la, err1 := strconv.ParseFloat(lat, 64)
		lo, err2 := strconv.ParseFloat(long, 64)
		if err1 != nil || err2 != nil || math.IsNaN(la) || math.IsNaN(lo) || la < -90 || la > 90 || lo < -180 || lo > 180 {
			return nil, badForm("lat and long must be WGS84 decimal degrees")
		}
		r.Lat, r.Long = &la, &lo
	}

	// Attributes.
	if len(attrs) > maxAttributes {
		return nil, badForm("too many attributes")
	}
	for code, vals := range attrs {
		if len(vals) > maxAttrValues {
			return nil, badForm("attribute[" + code + "] has too many values")
		}
		for _, v := range vals {
			if !cleanText(v, 1000, false) {
				return nil, badForm("attribute[" + code + "] must be short text without control characters")
			}
		}
		for _, d := range serviceAttributes {
			if d.Code != code {
				continue
			}
			if len(vals) > 1 {
				return nil, badForm("attribute[" + code + "] takes one value")
			}
			if d.Values != nil {
				okv := false
				for _, kv := range d.Values {
					okv = okv || kv[0] == vals[0]
				}
				if !okv {
					return nil, badForm("attribute[" + code + "] has an unknown value")
				}
			}
		}
	}
	if v := attrs["external_id"]; len(v) == 1 {
		if len(v[0]) > maxExtValue {
			return nil, badForm("attribute[external_id] is over 255 characters")
		}
		r.ExternalID = v[0]
	}
	for _, name := range []string{"codice_fiscale", "fiscal_code"} {
		for i, v := range attrs[name] {
			cf, err := ParseFiscalCode(v)
			if err != nil {
				return nil, badForm("attribute[" + name + "] is not a valid codice fiscale")
			}
			attrs[name][i] = cf
		}
	}
	if len(attrs) > 0 {
		r.Attributes = attrs
	}
	hasPlace := r.Lat != nil || r.Address != "" || r.AddressID != ""
	if !hasPlace && !(r.ExternalID != "" && r.Description != "") {
		return nil, badForm("a location is required: lat and long, address_string or address_id (or attribute[external_id] with a description)")
	}
	return r, nil
}

// publicRequest is a request as GET answers show it: the Open311 fields
// and our external_id, never the citizen's personal fields.
type publicRequest struct {
	ServiceRequestID  string   `json:"service_request_id"`
	Status            string   `json:"status"`
	StatusNotes       string   `json:"status_notes,omitempty"`
	ServiceName       string   `json:"service_name"`
	ServiceCode       string   `json:"service_code"`
	Description       string   `json:"description,omitempty"`
	AgencyResponsible string   `json:"agency_responsible,omitempty"`
	ServiceNotice     string   `json:"service_notice,omitempty"`
	RequestedDatetime string   `json:"requested_datetime"`
	UpdatedDatetime   string   `json:"updated_datetime"`
	ExpectedDatetime  string   `json:"expected_datetime,omitempty"`
	Address           string   `json:"address,omitempty"`
	AddressID         string   `json:"address_id,omitempty"`
	Zipcode           string   `json:"zipcode,omitempty"`
	Lat               *float64 `json:"lat,omitempty"`
	Long              *float64 `json:"long,omitempty"`
	MediaURL          string   `json:"media_url,omitempty"`
	ExternalID        string   `json:"external_id,omitempty"`
}

func (p *Peer) publicRequest(r *ServiceRequest) publicRequest {
	out := publicRequest{ServiceRequestID: r.ServiceRequestID, Status: r.Status, StatusNotes: r.StatusNotes,
		ServiceName: r.ServiceName, ServiceCode: r.ServiceCode, Description: r.Description,
		AgencyResponsible: r.AgencyResponsible, ServiceNotice: r.ServiceNotice,
		RequestedDatetime: r.RequestedAt.In(p.loc).Format(time.RFC3339), UpdatedDatetime: r.UpdatedAt.In(p.loc).Format(time.RFC3339),
		Address: r.Address, AddressID: r.AddressID, Zipcode: r.Zipcode, Lat: r.Lat, Long: r.Long, MediaURL: r.MediaURL,
		ExternalID: r.ExternalID}
	if r.ExpectedAt != nil {
		out.ExpectedDatetime = r.ExpectedAt.In(p.loc).Format(time.RFC3339)
	}
	return out
}

// checkJurisdiction answers 404 for a foreign jurisdiction_id.
func checkJurisdiction(w http.ResponseWriter, q url.Values) bool {
	if j := q.Get("jurisdiction_id"); j != "" && j != Jurisdiction {
		o311Fail(w, http.StatusNotFound, "jurisdiction_id not found: this server serves "+Jurisdiction)
		return false
	}
	return true
}

func (p *Peer) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"changeset": "2026-01-01T00:00:00Z",
		"contact":   "Reference CzRM peer of Sportello (development and test only)",
		"endpoints": []map[string]any{{
			"specification": "http://wiki.open311.org/GeoReport_v2",
			"url":           baseURL(r) + "/open311/v2",
			"changeset":     "2026-01-01T00:00:00Z",
			"type":          "test",
			"formats":       []string{"application/json"},
		}},
	})
}

func (p *Peer) handleServices(w http.ResponseWriter, r *http.Request) {
	if !checkJurisdiction(w, r.URL.Query()) {
		return
	}
	type entry struct {
		ServiceCode string `json:"service_code"`
		ServiceName string `json:"service_name"`
		Description string `json:"description"`
		Metadata    bool   `json:"metadata"`
		Type        string `json:"type"`
		Keywords    string `json:"keywords"`
		Group       string `json:"group"`
	}
	out := make([]entry, 0, len(Services))
	for _, s := range Services {
		out = append(out, entry{s.Code, s.Name, s.Description, true, "realtime", strings.Join(s.Keywords, ", "), s.Group})
	}
	p.faults.count(KindOpen311, func(s *Stats) { s.Applied++ })
	writeJSON(w, http.StatusOK, out)
}

// jsonFile strips the ".json" of a path segment; other formats are not
// served.
func jsonFile(w http.ResponseWriter, file string) (string, bool) {
	name, ok := strings.CutSuffix(file, ".json")
	if !ok || name == "" {
		o311Fail(w, http.StatusNotFound, "not found: this server answers JSON only (.json)")
		return "", false
	}
	return name, true
}

func (p *Peer) handleServiceDefinition(w http.ResponseWriter, r *http.Request) {
	code, ok := jsonFile(w, r.PathValue("file"))
	if !ok || !checkJurisdiction(w, r.URL.Query()) {
		return
	}
	if _, ok := serviceByCode(code); !ok {
		o311Fail(w, http.StatusNotFound, "service_code not found")
		return
	}
	type value struct {
		Key  string `json:"key"`
		Name string `json:"name"`
	}
	type attr struct {
		Variable            bool    `json:"variable"`
		Code                string  `json:"code"`
		Datatype            string  `json:"datatype"`
		Required            bool    `json:"required"`
		DatatypeDescription string  `json:"datatype_description"`
		Order               int     `json:"order"`
		Description         string  `json:"description"`
		Values              []value `json:"values,omitempty"`
	}
	attrs := make([]attr, 0, len(serviceAttributes))
	for i, d := range serviceAttributes {
		a := attr{Variable: true, Code: d.Code, Datatype: d.Datatype, Order: i + 1, Description: d.Description}
		for _, kv := range d.Values {
			a.Values = append(a.Values, value{kv[0], kv[1]})
		}
		attrs = append(attrs, a)
	}
	p.faults.count(KindOpen311, func(s *Stats) { s.Applied++ })
	writeJSON(w, http.StatusOK, map[string]any{"service_code": code, "attributes": attrs})
}

// handlePostRequest: POST requests.json. The api_key is a client's
// secret or one of its access tokens; it may be the form field api_key
// (also in the query string) or an Authorization: Bearer header.
func (p *Peer) handlePostRequest(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		o311Fail(w, http.StatusBadRequest, "the body must be application/x-www-form-urlencoded; charset=utf-8")
		return
	}
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			o311Fail(w, http.StatusRequestEntityTooLarge, "the body is over 1 MiB")
			return
		}
		o311Fail(w, http.StatusBadRequest, "unreadable form")
		return
	}
	client, ok := p.apiKeyClient(r)
	if !ok {
		o311Fail(w, http.StatusForbidden, "api_key missing or invalid")
		return
	}
	req, err := ParseRequestForm(r.PostForm)
	if err != nil {
		fe := err.(*formError)
		o311Fail(w, fe.Status, fe.Description)
		return
	}
	now := p.now()
	year := now.In(p.loc).Format("2006")
	req.RequestedAt, req.UpdatedAt, req.FiledBy = now, now, client
	exp := now.AddDate(0, 0, 30)
	req.ExpectedAt = &exp
	dup, err := p.store.createRequest(req, p.cfg.RequestPrefix, year, func(r *ServiceRequest) {
		r.ServiceNotice = "Richiesta registrata con protocollo " + r.ServiceRequestID + ". Ufficio competente: " +
			r.AgencyResponsible + ". Risposta entro 30 giorni (L. 241/1990)."
	})
	if err != nil {
		p.log.Error("czrm open311 create failed", "err", err)
		o311Fail(w, http.StatusInternalServerError, "General Service Error: the store failed")
		return
	}
	p.faults.count(KindOpen311, func(s *Stats) {
		s.Applied++
		s.Created++
		if dup {
			s.Duplicates++
		}
	})
	type answer struct {
		ServiceRequestID string `json:"service_request_id"`
		ServiceNotice    string `json:"service_notice"`
		AccountID        string `json:"account_id,omitempty"`
	}
	writeJSON(w, http.StatusOK, []answer{{req.ServiceRequestID, req.ServiceNotice, req.AccountID}})
}

func (p *Peer) apiKeyClient(r *http.Request) (string, bool) {
	key := r.PostForm.Get("api_key")
	if key == "" {
		key = r.URL.Query().Get("api_key")
	}
	if key == "" {
		key = bearerToken(r)
	}
	if key == "" {
		return "", false
	}
	if c, ok := p.clientBySecret(key); ok {
		return c, true
	}
	return p.store.token(key, p.now())
}

// handleSearchRequests: GET requests.json. Parameters: service_request_id
// (comma list; overrides every other one), service_code (comma list),
// start_date and end_date (RFC 3339; at most 90 days apart; default the
// last 90 days), status (open, closed, comma list) and our extension
// external_id (attribute[external_id] of the POST; with it no default
// date window applies). Newest first, at most 1000.
func (p *Peer) handleSearchRequests(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !checkJurisdiction(w, q) {
		return
	}
	var match func(*ServiceRequest) bool
	if ids := splitList(q.Get("service_request_id")); len(ids) > 0 {
		want := map[string]bool{}
		for _, id := range ids {
			want[id] = true
		}
		match = func(sr *ServiceRequest) bool { return want[sr.ServiceRequestID] }
	} else {
		codes := map[string]bool{}
		for _, c := range splitList(q.Get("service_code")) {
			if _, ok := serviceByCode(c); !ok {
				o311Fail(w, http.StatusNotFound, "service_code not found")
				return
			}
			codes[c] = true
		}
		statuses := map[string]bool{}
		for _, s := range splitList(q.Get("status")) {
			if s != "open" && s != "closed" {
				o311Fail(w, http.StatusBadRequest, "status must be open or closed")
				return
			}
			statuses[s] = true
		}
		ext := q.Get("external_id")
		start, end, err := dateWindow(q.Get("start_date"), q.Get("end_date"), p.now(), ext != "")
		if err != nil {
			o311Fail(w, http.StatusBadRequest, err.Error())
			return
		}
		match = func(sr *ServiceRequest) bool {
			return (len(codes) == 0 || codes[sr.ServiceCode]) &&
				(len(statuses) == 0 || statuses[sr.Status]) &&
				(ext == "" || sr.ExternalID == ext) &&
				(start.IsZero() || !sr.RequestedAt.Before(start)) &&
				(end.IsZero() || !sr.RequestedAt.After(end))
		}
	}
	var found []*ServiceRequest
	if err := p.store.eachRequest(func(sr *ServiceRequest) bool {
		if match(sr) {
			found = append(found, sr)
		}
		return true
	}); err != nil {
		o311Fail(w, http.StatusInternalServerError, "General Service Error: the store failed")
		return
	}
	// Newest first; among equal times, the later filed first.
	for i, j := 0, len(found)-1; i < j; i, j = i+1, j-1 {
		found[i], found[j] = found[j], found[i]
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].RequestedAt.After(found[j].RequestedAt) })
	if len(found) > 1000 {
		found = found[:1000]
	}
	out := make([]publicRequest, 0, len(found))
	for _, sr := range found {
		out = append(out, p.publicRequest(sr))
	}
	p.faults.count(KindOpen311, func(s *Stats) { s.Applied++ })
	writeJSON(w, http.StatusOK, out)
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// dateWindow resolves start_date/end_date: absent ones default to a
// 90-day window (none at all when open is set and neither is given).
func dateWindow(startS, endS string, now time.Time, open bool) (time.Time, time.Time, error) {
	const window = 90 * 24 * time.Hour
	var start, end time.Time
	var err error
	if startS != "" {
		if start, err = time.Parse(time.RFC3339, startS); err != nil {
			return start, end, errors.New("start_date must be ISO 8601 with a time zone (e.g. 2026-01-05T09:00:00+01:00)")
		}
	}
	if endS != "" {
		if end, err = time.Parse(time.RFC3339, endS); err != nil {
			return start, end, errors.New("end_date must be ISO 8601 with a time zone (e.g. 2026-01-05T18:00:00+01:00)")
		}
	}
	switch {
	case start.IsZero() && end.IsZero():
		if open {
			return start, end, nil
		}
		end = now
		start = now.Add(-window)
	case start.IsZero():
		start = end.Add(-window)
	case end.IsZero():
		end = start.Add(window)
	}
	if end.Before(start) {
		return start, end, errors.New("end_date is before start_date")
	}
	if end.Sub(start) > window {
		return start, end, errors.New("start_date and end_date are more than 90 days apart")
	}
	return start, end, nil
}

func (p *Peer) handleGetRequest(w http.ResponseWriter, r *http.Request) {
	id, ok := jsonFile(w, r.PathValue("file"))
	if !ok || !checkJurisdiction(w, r.URL.Query()) {
		return
	}
	sr, err := p.store.request(id)
	if errors.Is(err, ErrNotFound) {
		o311Fail(w, http.StatusNotFound, "service_request_id not found")
		return
	}
	if err != nil {
		o311Fail(w, http.StatusInternalServerError, "General Service Error: the store failed")
		return
	}
	p.faults.count(KindOpen311, func(s *Stats) { s.Applied++ })
	writeJSON(w, http.StatusOK, []publicRequest{p.publicRequest(sr)})
}
