package peer

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ---- OAuth2 token endpoint (Salesforce shape) --------------------------------

type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	InstanceURL string `json:"instance_url"`
	IssuedAt    string `json:"issued_at"`
}

func tokenError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// handleToken: POST /services/oauth2/token, grant_type=client_credentials
// with client_id and client_secret in the form (Salesforce) or in HTTP
// Basic (RFC 6749 §2.3.1).
func (p *Peer) handleToken(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Pragma", "no-cache")
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		tokenError(w, http.StatusBadRequest, "invalid_request", "the body must be application/x-www-form-urlencoded")
		return
	}
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "unreadable form")
		return
	}
	switch g := r.PostForm.Get("grant_type"); g {
	case "client_credentials":
	case "":
		tokenError(w, http.StatusBadRequest, "invalid_request", "grant_type is required")
		return
	default:
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "only grant_type=client_credentials is supported")
		return
	}
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if !p.checkClient(id, secret) {
		if basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="czrm"`)
		}
		tokenError(w, http.StatusUnauthorized, "invalid_client", "invalid client credentials")
		return
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		tokenError(w, http.StatusInternalServerError, "server_error", "no randomness")
		return
	}
	tok := base64.RawURLEncoding.EncodeToString(b)
	now := p.now()
	if err := p.store.putToken(tok, id, now.Add(p.cfg.TokenTTL), now); err != nil {
		tokenError(w, http.StatusInternalServerError, "server_error", "could not store the token")
		return
	}
	p.faults.count(KindToken, func(s *Stats) { s.Applied++ })
	writeJSON(w, http.StatusOK, tokenAnswer{AccessToken: tok, TokenType: "Bearer", ExpiresIn: int(p.cfg.TokenTTL / time.Second),
		InstanceURL: baseURL(r), IssuedAt: strconv.FormatInt(now.UnixMilli(), 10)})
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// ---- sObject keyed upsert (Salesforce subset) --------------------------------

// sfError is the Salesforce REST error shape; answers carry a list.
type sfError struct {
	ErrorCode string   `json:"errorCode"`
	Message   string   `json:"message"`
	Fields    []string `json:"fields,omitempty"`
}

func sfFail(w http.ResponseWriter, status int, code, msg string, fields ...string) {
	writeJSON(w, status, []sfError{{ErrorCode: code, Message: msg, Fields: fields}})
}

type upsertAnswer struct {
	ID      string    `json:"id"`
	Success bool      `json:"success"`
	Errors  []sfError `json:"errors"`
	Created bool      `json:"created"`
}

var (
	apiVersionRE = regexp.MustCompile(`^v[0-9]{1,3}\.[0-9]$`)
	apiNameRE    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,79}$`)
)

const (
	maxFields    = 500
	maxExtValue  = 255
	maxFieldJSON = 128 << 10
)

// sobjectPath validates the path of an sObject call; it answers and
// returns false when the path is not one the peer serves.
func sobjectPath(w http.ResponseWriter, r *http.Request) (object, field, value string, ok bool) {
	object, field, value = r.PathValue("object"), r.PathValue("field"), r.PathValue("value")
	if !apiVersionRE.MatchString(r.PathValue("version")) {
		sfFail(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return "", "", "", false
	}
	if !apiNameRE.MatchString(object) {
		sfFail(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return "", "", "", false
	}
	if !apiNameRE.MatchString(field) || strings.EqualFold(field, "Id") {
		sfFail(w, http.StatusNotFound, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: "+field)
		return "", "", "", false
	}
	if value == "" || !cleanText(value, maxExtValue, false) {
		sfFail(w, http.StatusBadRequest, "MALFORMED_ID", "the external id value must be 1…255 characters of text")
		return "", "", "", false
	}
	return object, field, value, true
}

func (p *Peer) unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="czrm"`)
	sfFail(w, http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid")
}

// usageHeader exports the call count as Salesforce does.
func (p *Peer) usageHeader(w http.ResponseWriter) {
	s := p.faults.Stats(KindUpsert)
	w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/100000", s.Calls))
}

// handleUpsert: PATCH /services/data/vXX.X/sobjects/{Object}/{ExtIdField}/{value}.
func (p *Peer) handleUpsert(w http.ResponseWriter, r *http.Request) {
	client, ok := p.bearer(r)
	if !ok {
		p.unauthorized(w)
		return
	}
	object, field, value, ok := sobjectPath(w, r)
	if !ok {
		return
	}
	p.usageHeader(w)
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, _ := mime.ParseMediaType(ct); mt != "application/json" && !strings.HasSuffix(mt, "+json") {
			sfFail(w, http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", "the body must be application/json")
			return
		}
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			sfFail(w, http.StatusRequestEntityTooLarge, "REQUEST_ENTITY_TOO_LARGE", "the body is over 1 MiB")
			return
		}
		sfFail(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "unreadable body")
		return
	}
	fields, sfe := parseUpsertBody(raw, field)
	if sfe != nil {
		writeJSON(w, http.StatusBadRequest, []sfError{*sfe})
		return
	}
	var g *guard
	if vf := p.versionField(); vf != "" {
		if raw, ok := fields[vf]; ok {
			v, err := parseVersion(raw)
			if err != nil {
				sfFail(w, http.StatusBadRequest, "INVALID_TYPE_ON_FIELD_IN_RECORD", vf+": the version must be a non-negative integer", vf)
				return
			}
			g = &guard{Field: vf, Offered: v}
		}
	}
	updateOnly := r.URL.Query().Get("updateOnly") == "true"
	if p.cfg.OnUpsert != nil {
		// The hook sees the upserts in the order the store applied them.
		p.applyMu.Lock()
		defer p.applyMu.Unlock()
	}
	res, err := p.store.upsert(object, field, value, fields, client, p.now(), updateOnly, g)
	if errors.Is(err, errUpdateOnly) {
		sfFail(w, http.StatusNotFound, "NOT_FOUND", "updateOnly: no record with this external id")
		return
	}
	var se *staleError
	if errors.As(err, &se) {
		// A late call with an older state than the one held: refused,
		// nothing changed. No identifier in the log line.
		p.faults.count(KindUpsert, func(s *Stats) { s.Stale++ })
		p.log.Info("czrm upsert refused: stale version", "object", object, "offered", se.Offered, "stored", se.Stored)
		sfFail(w, http.StatusConflict, StaleVersion, se.Error()+": the record holds a newer state; nothing was changed", se.Field)
		return
	}
	if err != nil {
		p.log.Error("czrm upsert failed", "object", object, "err", err)
		sfFail(w, http.StatusInternalServerError, "SERVER_ERROR", "the store failed")
		return
	}
	if p.cfg.OnUpsert != nil {
		p.cfg.OnUpsert(res.Record, res.Created, res.Changed)
	}
	p.faults.count(KindUpsert, func(s *Stats) {
		s.Applied++
		switch {
		case res.Created:
			s.Created++
		case res.Changed:
			s.Updated++
		default:
			s.Unchanged++
		}
	})
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
	}
	writeJSON(w, status, upsertAnswer{ID: res.Record.ID, Success: true, Errors: []sfError{}, Created: res.Created})
}

// parseUpsertBody reads the JSON object of an upsert into canonical JSON
// per field (objects re-encoded with sorted keys, numbers as written), so
// that an identical repeat compares equal byte for byte.
func parseUpsertBody(raw []byte, extField string) (map[string]json.RawMessage, *sfError) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var body map[string]any
	if err := dec.Decode(&body); err != nil {
		return nil, &sfError{ErrorCode: "JSON_PARSER_ERROR", Message: "the body is not a JSON object: " + jsonErrText(err)}
	}
	if body == nil {
		return nil, &sfError{ErrorCode: "JSON_PARSER_ERROR", Message: "the body must be a JSON object, not null"}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &sfError{ErrorCode: "JSON_PARSER_ERROR", Message: "unexpected data after the JSON object"}
	}
	if len(body) > maxFields {
		return nil, &sfError{ErrorCode: "INVALID_FIELD", Message: fmt.Sprintf("more than %d fields", maxFields)}
	}
	out := make(map[string]json.RawMessage, len(body))
	for k, v := range body {
		switch {
		case k == "attributes":
			continue // Salesforce's type annotation: not a field
		case strings.EqualFold(k, "Id"):
			return nil, &sfError{ErrorCode: "INVALID_FIELD", Message: "Id is not allowed in the body of an upsert by external id", Fields: []string{k}}
		case strings.EqualFold(k, extField):
			return nil, &sfError{ErrorCode: "INVALID_FIELD", Message: "the external id field " + extField + " is in the URL and must not be in the body", Fields: []string{k}}
		case !apiNameRE.MatchString(k):
			return nil, &sfError{ErrorCode: "INVALID_FIELD", Message: "not a valid field name (letters, digits, underscores; 1…80 characters)", Fields: []string{k}}
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, &sfError{ErrorCode: "JSON_PARSER_ERROR", Message: "field " + k + " cannot be encoded", Fields: []string{k}}
		}
		if len(b) > maxFieldJSON {
			return nil, &sfError{ErrorCode: "STRING_TOO_LONG", Message: "field " + k + " is over 128 KiB", Fields: []string{k}}
		}
		out[k] = b
	}
	return out, nil
}

func jsonErrText(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "empty or truncated body"
	}
	return "not an object"
}

// handleGetRecord: GET /services/data/vXX.X/sobjects/{Object}/{ExtIdField}/{value}
// → the record's fields, with "attributes", "Id" and the external id field
// as Salesforce adds them.
func (p *Peer) handleGetRecord(w http.ResponseWriter, r *http.Request) {
	if _, ok := p.bearer(r); !ok {
		p.unauthorized(w)
		return
	}
	object, field, value, ok := sobjectPath(w, r)
	if !ok {
		return
	}
	p.usageHeader(w)
	rec, err := p.store.record(object, field, value)
	if errors.Is(err, ErrNotFound) {
		sfFail(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	if err != nil {
		sfFail(w, http.StatusInternalServerError, "SERVER_ERROR", "the store failed")
		return
	}
	p.faults.count(KindUpsert, func(s *Stats) { s.Applied++ })
	out := make(map[string]any, len(rec.Fields)+3)
	for k, v := range rec.Fields {
		out[k] = v
	}
	out["attributes"] = map[string]string{"type": object,
		"url": "/services/data/" + r.PathValue("version") + "/sobjects/" + object + "/" + rec.ID}
	out["Id"] = rec.ID
	out[field] = value
	writeJSON(w, http.StatusOK, out)
}

// StaleVersion is the errorCode of an upsert refused by the version
// guard (409): its version field is lower than the record's.
const StaleVersion = "STALE_VERSION"

// DefaultVersionField is the field the version guard reads when
// Config.VersionField is empty (crmsync's DefaultSeqField).
const DefaultVersionField = "Sync_Seq__c"

// versionField is the guarded field, "" when the guard is off.
func (p *Peer) versionField() string {
	switch p.cfg.VersionField {
	case "":
		return DefaultVersionField
	case "-":
		return ""
	}
	return p.cfg.VersionField
}

// ---- records endpoint of the contract ------------------------------------------

// RecordView is one element of GET /api/v1/records.
type RecordView struct {
	ExternalID string         `json:"external_id"`
	Object     string         `json:"object"`
	Fields     map[string]any `json:"fields"`
	Version    uint64         `json:"version"`
	UpdatedAt  string         `json:"updated_at"`
}

// handleRecords: GET /api/v1/records?external_id=ID (bearer token of a
// client) → every record held under ID: the upserted ones (any object),
// then the Open311 requests filed with attribute[external_id]=ID (object
// "ServiceRequest"), each group oldest first.
func (p *Peer) handleRecords(w http.ResponseWriter, r *http.Request) {
	if _, ok := p.bearer(r); !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="czrm"`)
		writeProblem(w, http.StatusUnauthorized, "invalid_token", "a valid client access token is required")
		return
	}
	q := r.URL.Query()
	ext := q.Get("external_id")
	if ext == "" || len(q["external_id"]) > 1 || !cleanText(ext, maxExtValue, false) {
		writeProblem(w, http.StatusBadRequest, "invalid_external_id", "external_id is required: one value of 1…255 characters")
		return
	}
	recs, reqs, err := p.store.byExternalID(ext)
	if err != nil {
		writeProblem(w, http.StatusInternalServerError, "store_error", "the store failed")
		return
	}
	out := make([]RecordView, 0, len(recs)+len(reqs))
	for _, rec := range recs {
		f := make(map[string]any, len(rec.Fields))
		for k, v := range rec.Fields {
			f[k] = v
		}
		out = append(out, RecordView{ExternalID: rec.ExternalID, Object: rec.Object, Fields: f, Version: rec.Version,
			UpdatedAt: rec.UpdatedAt.In(p.loc).Format(time.RFC3339)})
	}
	for i := range reqs {
		f := map[string]any{}
		b, _ := json.Marshal(p.publicRequest(&reqs[i]))
		_ = json.Unmarshal(b, &f)
		out = append(out, RecordView{ExternalID: reqs[i].ExternalID, Object: "ServiceRequest", Fields: f, Version: reqs[i].Version,
			UpdatedAt: reqs[i].UpdatedAt.In(p.loc).Format(time.RFC3339)})
	}
	p.faults.count(KindRecords, func(s *Stats) { s.Applied++ })
	writeJSON(w, http.StatusOK, out)
}

// cleanText reports whether s is valid UTF-8 of at most max characters
// without control characters (newlines and tabs only when multiline).
func cleanText(s string, max int, multiline bool) bool {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return false
	}
	for _, c := range s {
		if c == 0x7f || (c >= 0x80 && c < 0xa0) {
			return false
		}
		if c < 0x20 && !(multiline && (c == '\n' || c == '\r' || c == '\t')) {
			return false
		}
	}
	return true
}
