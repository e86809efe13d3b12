package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/comune-rc/sportello/assets"
	"github.com/comune-rc/sportello/hub/httpapi"
)

func init() {
	// kin-openapi has no decoders for the pages' HTML and the QR images.
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("image/png", openapi3filter.FileBodyDecoder)
}

// oaLoad parses and validates the embedded document. Each call returns
// a fresh copy, so that tests may adjust it (servers, strictness).
func oaLoad(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(httpapi.OpenAPI)
	require.NoError(t, err, "openapi.yaml does not parse")
	require.NoError(t, doc.Validate(loader.Context), "openapi.yaml is not a valid OpenAPI 3 document")
	return doc
}

// oaNotProblem lists the error responses that are not problem documents:
// they come from the file server and the WebSocket library.
var oaNotProblem = map[string]bool{
	"GET /assets/{file} 404":           true,
	"GET /api/v1/totems/{id}/jobs 400": true,
	"GET /feedback/{id} 403":           true, // the kiosk's HTML pages
	"GET /feedback/{id} 404":           true,
}

// oaMountedElsewhere lists documented pages that the page packages mount
// (httpapi.Config.Mount) rather than httpapi's own route table.
var oaMountedElsewhere = map[string]bool{
	"GET /t/{token}":     true,
	"GET /feedback/{id}": true,
}

// oaRoutes returns the operations httpapi's own router serves, as
// "METHOD /path/{param}".
func oaRoutes() map[string]bool {
	out := map[string]bool{}
	for _, r := range httpapi.New(httpapi.Config{}).Echo().Routes() {
		if r.Method == echo.RouteNotFound {
			continue // the catch-alls Echo adds for group middleware
		}
		out[r.Method+" "+oaPath(r.Path)] = true
	}
	return out
}

var oaEchoParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// oaPath maps an Echo path to the document's: ":param" is "{param}" and
// the trailing catch-all "*" of the assets is "{file}".
func oaPath(p string) string {
	p = oaEchoParam.ReplaceAllString(p, "{$1}")
	if strings.HasSuffix(p, "/*") {
		p = strings.TrimSuffix(p, "*") + "{file}"
	}
	return p
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc := oaLoad(t)
	require.Equal(t, "3.0.3", doc.OpenAPI)
	require.NotEmpty(t, doc.Info.Description)

	tags := map[string]bool{}
	for _, tg := range doc.Tags {
		tags[tg.Name] = true
	}
	ids := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			require.NotEmpty(t, op.OperationID, "%s has no operationId", where)
			require.NotContains(t, ids, op.OperationID, "%s: operationId %q is also used by %s", where, op.OperationID, ids[op.OperationID])
			ids[op.OperationID] = where
			require.NotEmpty(t, op.Description, "%s has no description", where)
			require.NotEmpty(t, op.Tags, "%s has no tag", where)
			for _, tg := range op.Tags {
				require.True(t, tags[tg], "%s: tag %q is not declared", where, tg)
			}
			require.NotNil(t, op.Security, "%s does not say who may call it (security)", where)
			for code, ref := range op.Responses.Map() {
				resp := ref.Value
				require.NotNil(t, resp, "%s %s", where, code)
				if code[0] != '4' && code[0] != '5' {
					continue
				}
				// Every error is a problem document (the sockets'
				// handshake failures may also be plain text).
				mt := resp.Content.Get("application/problem+json")
				if mt == nil && oaNotProblem[where+" "+code] {
					continue
				}
				require.NotNil(t, mt, "%s: response %s is not application/problem+json", where, code)
				require.Equal(t, "#/components/schemas/Problem", mt.Schema.Ref, "%s: response %s", where, code)
			}
		}
	}
	for _, name := range []string{"Problem", "Ticket", "Counter", "Service", "QueueEntry", "LiveMessage", "Snapshot", "EventData", "Call", "PublicCounter"} {
		require.Contains(t, doc.Components.Schemas, name)
	}

	// The Ticket of the contract.
	tk := doc.Components.Schemas["Ticket"].Value
	for _, f := range []string{"id", "number", "service", "status", "priority", "channel", "issued_at", "called_at", "counter", "position", "ewt_min", "track_url"} {
		require.Contains(t, tk.Properties, f, "Ticket.%s", f)
	}
	require.ElementsMatch(t, []any{"waiting", "called", "serving", "done", "no_show", "cancelled"}, doc.Components.Schemas["TicketStatus"].Value.Enum)
	require.ElementsMatch(t, []any{"none", "disability", "pregnancy", "elderly", "other"}, doc.Components.Schemas["Priority"].Value.Enum)
	require.ElementsMatch(t, []any{"totem", "desk", "web", "phone"}, doc.Components.Schemas["Channel"].Value.Enum)
	require.True(t, tk.Properties["called_at"].Value.Nullable)
	require.True(t, tk.Properties["counter"].Value.Nullable)
	require.NotContains(t, tk.Required, "priority", "the public counters view omits it")
	require.NotContains(t, tk.Required, "track_url", "the public counters view omits it")
	require.Equal(t, "date-time", tk.Properties["issued_at"].Value.Format)

	// Every request body the handlers decode strictly rejects unknown fields.
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.RequestBody == nil {
				continue
			}
			mt := op.RequestBody.Value.Content.Get("application/json")
			require.NotNil(t, mt, "%s %s", method, path)
			s := mt.Schema.Value
			require.NotNil(t, s.AdditionalProperties.Has, "%s %s: the body schema must say additionalProperties: false", method, path)
			require.False(t, *s.AdditionalProperties.Has, "%s %s: the body schema must say additionalProperties: false", method, path)
		}
	}

	// The contract's specifics.
	issue := doc.Paths.Value("/api/v1/tickets").Post
	require.NotNil(t, issue.Parameters.GetByInAndName("header", "Idempotency-Key"))
	require.NotNil(t, issue.Responses.Status(201))
	require.NotNil(t, issue.Responses.Status(200))
	require.NotNil(t, doc.Paths.Value("/api/v1/counters/{id}/call-next").Post.Responses.Status(204))
	require.NotNil(t, doc.Paths.Value("/metrics").Get.Responses.Status(200).Value.Content.Get("text/plain"))
	require.NotNil(t, doc.Paths.Value("/").Get.Responses.Status(200).Value.Content.Get("text/html"))
	require.NotNil(t, doc.Paths.Value("/t/{token}").Get.Responses.Status(200).Value.Content.Get("text/html"))
}

// TestOpenAPIRoutesDocumented fails on a route of the Echo router that the
// document does not describe, and on a documented operation that no route
// serves.
func TestOpenAPIRoutesDocumented(t *testing.T) {
	doc := oaLoad(t)
	served := oaRoutes()
	require.NotEmpty(t, served)
	for key := range served {
		method, path, _ := strings.Cut(key, " ")
		item := doc.Paths.Value(path)
		if item == nil || item.GetOperation(method) == nil {
			t.Errorf("route %s is not in openapi.yaml", key)
		}
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if key := method + " " + path; !served[key] && !oaMountedElsewhere[key] {
				t.Errorf("openapi.yaml documents %s, which the server does not route", key)
			}
		}
	}
}

// oaExpect says what the document must think of the next request.
type oaExpect int

const (
	oaReqValid         oaExpect = iota // the request matches the document
	oaReqInvalidBody                   // a deliberately bad body: the document rejects it too
	oaReqInvalidParam                  // a deliberately bad parameter or header
	oaReqNoCredentials                 // no credentials: the security requirement fails
	oaReqUnchecked                     // what the document cannot express (the 1 MiB limit)
)

// oaValidator checks every request and response the harness makes against
// the document.
type oaValidator struct {
	t      *testing.T
	doc    *openapi3.T
	router routers.Router
	opts   *openapi3filter.Options

	mu     sync.Mutex
	expect oaExpect
	seen   map[string]int // "METHOD /path/{template} STATUS"
	n      int
}

// oaCredentialsPresent is an AuthenticationFunc that checks that the request
// carries the credentials a security scheme names (not that they are good:
// that is the hub's job, and the answers are checked as responses).
func oaCredentialsPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	req := in.RequestValidationInput.Request
	s := in.SecurityScheme
	switch {
	case s.Type == "http" && strings.EqualFold(s.Scheme, "bearer"):
		if h := req.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") && strings.TrimSpace(h[len("Bearer "):]) != "" {
			return nil
		}
	case s.Type == "apiKey" && s.In == "cookie":
		if c, err := req.Cookie(s.Name); err == nil && c.Value != "" {
			return nil
		}
	case s.Type == "apiKey" && s.In == "query":
		if req.URL.Query().Get(s.Name) != "" {
			return nil
		}
	case s.Type == "apiKey" && s.In == "header":
		if req.Header.Get(s.Name) != "" {
			return nil
		}
	}
	return in.NewError(fmt.Errorf("no %s credentials", in.SecuritySchemeName))
}

// oaStrictResponses makes every object schema that lists properties and says
// nothing about others closed, so that a field the hub sends but the
// document does not describe fails the test. (The published document stays
// open: clients must ignore fields they do not know.)
func oaStrictResponses(doc *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	no := false
	var walk func(ref *openapi3.SchemaRef)
	walk = func(ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		if len(s.Properties) > 0 && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
			s.AdditionalProperties.Has = &no
		}
		for _, p := range s.Properties {
			walk(p)
		}
		walk(s.Items)
		for _, l := range []openapi3.SchemaRefs{s.AllOf, s.OneOf, s.AnyOf} {
			for _, x := range l {
				walk(x)
			}
		}
	}
	for _, ref := range doc.Components.Schemas {
		walk(ref)
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, r := range op.Responses.Map() {
				for _, mt := range r.Value.Content {
					walk(mt.Schema)
				}
			}
		}
	}
}

func newOAValidator(t *testing.T, baseURL string) *oaValidator {
	doc := oaLoad(t)
	oaStrictResponses(doc)
	doc.Servers = openapi3.Servers{{URL: baseURL}}
	router, err := gorillamux.NewRouter(doc)
	require.NoError(t, err)
	return &oaValidator{
		t: t, doc: doc, router: router, seen: map[string]int{},
		opts: &openapi3filter.Options{
			AuthenticationFunc:    oaCredentialsPresent,
			IncludeResponseStatus: true, // an undocumented status fails
			// Errors name the path and the reason, not the whole schema.
			SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()},
		},
	}
}

// with runs fn with the next requests expected to be e.
func (v *oaValidator) with(e oaExpect, fn func()) {
	v.mu.Lock()
	v.expect = e
	v.mu.Unlock()
	defer func() {
		v.mu.Lock()
		v.expect = oaReqValid
		v.mu.Unlock()
	}()
	fn()
}

func (v *oaValidator) check(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) {
	t := v.t
	t.Helper()
	v.mu.Lock()
	expect := v.expect
	v.n++
	v.mu.Unlock()
	what := fmt.Sprintf("%s %s → %d", req.Method, req.URL.RequestURI(), resp.StatusCode)
	if len(what) > 200 {
		what = what[:200] + "…"
	}
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		t.Errorf("%s: no operation in openapi.yaml: %v", what, err)
		return
	}
	v.mu.Lock()
	v.seen[fmt.Sprintf("%s %s %d", req.Method, route.Path, resp.StatusCode)]++
	v.mu.Unlock()

	ctx := context.Background()
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: v.opts}
	err = openapi3filter.ValidateRequest(ctx, in)
	var reqErr *openapi3filter.RequestError
	var secErr *openapi3filter.SecurityRequirementsError
	switch expect {
	case oaReqValid:
		if err != nil {
			t.Errorf("%s: the request does not match openapi.yaml: %v", what, err)
		}
	case oaReqInvalidBody:
		if !errors.As(err, &reqErr) || reqErr.RequestBody == nil {
			t.Errorf("%s: the hub rejects this body, so openapi.yaml should too; validation said: %v", what, err)
		}
	case oaReqInvalidParam:
		if !errors.As(err, &reqErr) || reqErr.Parameter == nil {
			t.Errorf("%s: the hub rejects this parameter, so openapi.yaml should too; validation said: %v", what, err)
		}
	case oaReqNoCredentials:
		if !errors.As(err, &secErr) {
			t.Errorf("%s: the request has no credentials, so openapi.yaml's security should fail; validation said: %v", what, err)
		}
	case oaReqUnchecked:
	}

	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(respBody)),
		Options:                v.opts,
	}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		body := string(respBody)
		if len(body) > 600 {
			body = body[:600] + "…"
		}
		t.Errorf("%s: the response does not match openapi.yaml: %v\nContent-Type: %s\nbody: %s", what, err, resp.Header.Get("Content-Type"), body)
	}
}

// validateLive checks one live-feed message against LiveMessage.
func (v *oaValidator) validateLive(raw []byte) error {
	var msg any
	if err := json.Unmarshal(raw, &msg); err != nil {
		return err
	}
	return v.doc.Components.Schemas["LiveMessage"].Value.VisitJSON(msg, openapi3.DisableSchemaErrorDetails())
}

// oaProblem is a request the session expects refused with a problem
// document of that status and code.
type oaProblem struct {
	c            *client
	method, path string
	body         any
	status       int
	code         string
}

// oaRequireProblems sends the requests in turn and requires each one's
// problem (oaRequireProblem), naming the request that failed.
func oaRequireProblems(t *testing.T, want []oaProblem) {
	t.Helper()
	for _, w := range want {
		status, body := w.c.do(w.method, w.path, w.body)
		require.Equal(t, w.status, status, "%s %s: %s", w.method, w.path, body)
		oaRequireProblem(t, status, body, w.status, w.code)
	}
}

func oaRequireProblem(t *testing.T, status int, body []byte, wantStatus int, wantCode string) problemDoc {
	t.Helper()
	require.Equal(t, wantStatus, status, string(body))
	p := decode[problemDoc](t, body)
	require.Equal(t, wantStatus, p.Status, string(body))
	require.Equal(t, wantCode, p.Code, string(body))
	require.NotEmpty(t, p.Type)
	require.NotEmpty(t, p.Title)
	return p
}

// oaLiveClient reads a live-feed socket in the background (so that it
// answers the hub's pings) and keeps every message.
type oaLiveClient struct {
	ws   *websocket.Conn
	mu   sync.Mutex
	msgs [][]byte
	done chan struct{}
}

// oaDial opens a WebSocket on path (as token, "" for anonymous) and checks
// the handshake against the document like any other request.
func oaDial(t *testing.T, v *oaValidator, base, path, token string) *oaLiveClient {
	t.Helper()
	hdr := http.Header{}
	if token != "" {
		hdr.Set("Authorization", "Bearer "+token)
	}
	ws, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+path, hdr)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	require.NoError(t, err)
	req.Header = hdr
	v.check(req, nil, resp, nil)
	c := &oaLiveClient{ws: ws, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				return
			}
			c.mu.Lock()
			c.msgs = append(c.msgs, data)
			c.mu.Unlock()
		}
	}()
	t.Cleanup(func() { ws.Close(); <-c.done })
	return c
}

type oaLiveMsg struct {
	Seq  uint64          `json:"seq"`
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// wait waits for at least n messages and returns all so far.
func (c *oaLiveClient) wait(t *testing.T, n int) [][]byte {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		msgs := append([][]byte(nil), c.msgs...)
		c.mu.Unlock()
		if len(msgs) >= n {
			return msgs
		}
		if time.Now().After(deadline) {
			t.Fatalf("socket: %d messages after 10s, want %d", len(msgs), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// until waits for a message with seq >= seq and returns all so far.
func (c *oaLiveClient) until(t *testing.T, seq uint64) [][]byte {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		msgs := append([][]byte(nil), c.msgs...)
		c.mu.Unlock()
		if n := len(msgs); n > 0 {
			var m oaLiveMsg
			require.NoError(t, json.Unmarshal(msgs[n-1], &m))
			if m.Seq >= seq {
				return msgs
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("live feed: no message with seq %d after 10s (got %d messages)", seq, len(msgs))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestOpenAPISession drives a realistic office session through the real API
// and checks every request and every response against openapi.yaml.
func TestOpenAPISession(t *testing.T) {
	pages, mounted := newOAPages(t) // the kiosk, display and crmsync routes too
	h := newTestHub(t, mounted)
	v := newOAValidator(t, h.URL)
	h.Check = v.check

	// A live-feed client from the start: its messages are checked at the end.
	live := oaDial(t, v, h.URL, "/api/v1/live", "")

	anon := h.device("")
	totem := h.device("demo-totem-1")
	display := h.device("demo-display-1")
	clerk := h.as("clerk03")
	sup := h.as("supervisor")
	admin := h.as("admin")

	// Public and system endpoints.
	status, body := anon.do(http.MethodGet, "/healthz", nil)
	require.Equal(t, http.StatusOK, status)
	require.JSONEq(t, `{"status":"ok","version":"test"}`, string(body))
	status, body = anon.do(http.MethodGet, "/api/v1/openapi.yaml", nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, httpapi.OpenAPI, body)
	status, _ = anon.do(http.MethodGet, "/", nil)
	require.Equal(t, http.StatusOK, status)
	status, _ = anon.do(http.MethodGet, "/api/v1/services", nil)
	require.Equal(t, http.StatusOK, status)
	status, _ = anon.do(http.MethodGet, "/api/v1/queue", nil)
	require.Equal(t, http.StatusOK, status)
	status, _ = anon.do(http.MethodGet, "/api/v1/counters", nil)
	require.Equal(t, http.StatusOK, status)

	// Who am I.
	status, body = clerk.do(http.MethodGet, "/api/v1/auth/me", nil)
	require.Equal(t, http.StatusOK, status)
	require.JSONEq(t, `{"id":"clerk03","role":"clerk"}`, string(body))
	status, body = totem.do(http.MethodGet, "/api/v1/auth/me", nil)
	require.Equal(t, http.StatusOK, status)
	require.JSONEq(t, `{"id":"totem-1","device":"totem"}`, string(body))
	v.with(oaReqNoCredentials, func() {
		status, body = anon.do(http.MethodGet, "/api/v1/auth/me", nil)
	})
	oaRequireProblem(t, status, body, http.StatusUnauthorized, "unauthorized")

	// Login errors.
	status, body = anon.do(http.MethodPost, "/api/v1/auth/login", `{"username":"clerk03","password":"wrong"}`)
	oaRequireProblem(t, status, body, http.StatusUnauthorized, "invalid_credentials")
	v.with(oaReqInvalidBody, func() {
		status, body = anon.do(http.MethodPost, "/api/v1/auth/login", `{"username":"clerk03","password":"demo","otp":"1"}`)
		p := oaRequireProblem(t, status, body, http.StatusBadRequest, "unknown_field")
		require.Equal(t, "otp", p.Field)
		status, body = anon.do(http.MethodPost, "/api/v1/auth/login", `{"username":"clerk03",`)
		oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_json")
	})

	// Clerk 03 takes counter 3; nothing waits yet.
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/open", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	c := decode[struct{ State, Clerk string }](t, body)
	require.Equal(t, "open", c.State)
	require.Equal(t, "clerk03", c.Clerk)
	status, _ = clerk.do(http.MethodPost, "/api/v1/counters/3/call-next", nil)
	require.Equal(t, http.StatusNoContent, status)
	// Another clerk may not act on it.
	status, body = h.as("clerk04").do(http.MethodPost, "/api/v1/counters/3/open", "{}")
	oaRequireProblem(t, status, body, http.StatusForbidden, "not_at_counter")

	// Tickets from the totem: plain, idempotent, with a priority.
	status, body = totem.do(http.MethodPost, "/api/v1/tickets", `{"service":"certificati"}`)
	require.Equal(t, http.StatusCreated, status, string(body))
	first := decode[ticket](t, body)
	require.Equal(t, "totem", first.Channel)
	require.Equal(t, "none", first.Priority)
	require.Equal(t, 1, first.Position)
	idem := http.Header{"Idempotency-Key": {"totem-1-print-0001"}}
	status, body = h.rawDo(http.MethodPost, "/api/v1/tickets", totem.tok, idem, []byte(`{"service":"cie","priority":"pregnancy"}`))
	require.Equal(t, http.StatusCreated, status, string(body))
	cie := decode[ticket](t, body)
	require.Equal(t, "pregnancy", cie.Priority)
	status, body = h.rawDo(http.MethodPost, "/api/v1/tickets", totem.tok, idem, []byte(`{"service":"cie","priority":"pregnancy"}`))
	require.Equal(t, http.StatusOK, status, string(body))
	require.Equal(t, cie.ID, decode[ticket](t, body).ID)
	status, body = clerk.do(http.MethodPost, "/api/v1/tickets", `{"service":"residenza","channel":"desk"}`)
	require.Equal(t, http.StatusCreated, status, string(body))
	require.Equal(t, "desk", decode[ticket](t, body).Channel)
	status, body = sup.do(http.MethodPost, "/api/v1/tickets", `{"service":"informazioni","priority":"elderly","channel":"phone"}`)
	require.Equal(t, http.StatusCreated, status, string(body))

	// An appointment booked by the contact center, checked in at the totem.
	slot := time.Now().Add(time.Hour).Format(time.RFC3339)
	status, body = clerk.do(http.MethodPost, "/api/v1/appointments",
		`{"service":"certificati","slot":"`+slot+`","channel":"phone","priority":"disability","case_id":"SVU-2025-0042"}`)
	require.Equal(t, http.StatusCreated, status, string(body))
	appt := decode[struct{ Code, Status string }](t, body)
	require.Equal(t, "booked", appt.Status)
	status, _ = clerk.do(http.MethodGet, "/api/v1/appointments/"+appt.Code, nil)
	require.Equal(t, http.StatusOK, status)
	status, body = totem.do(http.MethodPost, "/api/v1/tickets", `{"appointment":"`+appt.Code+`"}`)
	require.Equal(t, http.StatusCreated, status, string(body))
	booked := decode[ticket](t, body)
	require.Equal(t, "disability", booked.Priority)
	status, body = totem.do(http.MethodPost, "/api/v1/tickets", `{"appointment":"`+appt.Code+`"}`)
	require.Equal(t, http.StatusOK, status, string(body))
	require.Equal(t, booked.ID, decode[ticket](t, body).ID)
	status, body = sup.do(http.MethodGet, "/api/v1/appointments/"+appt.Code, nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "checked_in", decode[struct{ Status string }](t, body).Status)

	// The channels' booking: free slots, a strict booking with the citizen
	// and its PDF, a cancellation, a place in the virtual queue.
	loc, _ := time.LoadLocation("Europe/Rome")
	day := time.Now().In(loc).AddDate(0, 0, 1)
	for day.Weekday() == time.Saturday || day.Weekday() == time.Sunday {
		day = day.AddDate(0, 0, 1)
	}
	status, body = anon.do(http.MethodGet, "/api/v1/slots?service=cie&day="+day.Format("2006-01-02"), nil)
	require.Equal(t, http.StatusOK, status, string(body))
	slots := decode[[]struct {
		Start    string `json:"start"`
		Capacity int    `json:"capacity"`
		Free     int    `json:"free"`
	}](t, body)
	require.NotEmpty(t, slots)
	require.Greater(t, slots[0].Free, 0)
	status, body = anon.do(http.MethodGet, "/api/v1/slots?service=cie&day=domani", nil)
	oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_day")
	v.with(oaReqInvalidParam, func() {
		status, body = anon.do(http.MethodGet, "/api/v1/slots?day=2026-12-01", nil)
		oaRequireProblem(t, status, body, http.StatusBadRequest, "missing_field")
	})
	status, body = anon.do(http.MethodGet, "/api/v1/slots?service=astronauti", nil)
	oaRequireProblem(t, status, body, http.StatusNotFound, "service_not_found")
	status, body = clerk.do(http.MethodPost, "/api/v1/bookings",
		`{"service":"cie","slot":"`+slots[0].Start+`","channel":"phone","case_id":"CZRM-77","citizen":{"fiscal_code":"RSSMRA85T10A562S","name":"Mario Rossi"}}`)
	require.Equal(t, http.StatusCreated, status, string(body))
	bk := decode[struct {
		Code   string `json:"code"`
		PDFURL string `json:"pdf_url"`
		QRURL  string `json:"qr_url"`
	}](t, body)
	require.Contains(t, bk.PDFURL, bk.Code)
	status, body = anon.do(http.MethodGet, "/api/v1/appointments/"+bk.Code+"/pdf", nil)
	require.Equal(t, http.StatusOK, status)
	require.True(t, bytes.HasPrefix(body, []byte("%PDF")))
	require.NotContains(t, string(body), "RSSMRA85T10A562S", "no personal data in the PDF")
	oaRequireProblems(t, []oaProblem{
		{anon, http.MethodGet, "/api/v1/appointments/ZZZZZZZZ/pdf", nil, http.StatusNotFound, "appointment_not_found"},
		{clerk, http.MethodPost, "/api/v1/bookings", `{"service":"cie","slot":"` + time.Now().Add(-time.Hour).Format(time.RFC3339) + `"}`, http.StatusBadRequest, "invalid_slot"},
		{clerk, http.MethodPost, "/api/v1/bookings", `{"service":"cie","slot":"` + slots[0].Start + `","citizen":{"fiscal_code":"XYZ"}}`, http.StatusBadRequest, "invalid_fiscal_code"},
		{clerk, http.MethodPost, "/api/v1/bookings", `{"service":"astronauti","slot":"` + slots[0].Start + `"}`, http.StatusNotFound, "service_not_found"},
		{display, http.MethodPost, "/api/v1/bookings", `{"service":"cie","slot":"` + slots[0].Start + `"}`, http.StatusForbidden, "forbidden"},
	})
	status, body = clerk.do(http.MethodPost, "/api/v1/appointments/"+bk.Code+"/cancel", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	require.Equal(t, "cancelled", decode[struct{ Status string }](t, body).Status)
	status, body = clerk.do(http.MethodPost, "/api/v1/appointments/"+bk.Code+"/cancel", nil)
	oaRequireProblem(t, status, body, http.StatusConflict, "appointment_not_cancellable")
	status, body = clerk.do(http.MethodPost, "/api/v1/appointments/ZZZZZZZZ/cancel", nil)
	oaRequireProblem(t, status, body, http.StatusNotFound, "appointment_not_found")
	status, body = clerk.do(http.MethodPost, "/api/v1/virtual-queue", `{"service":"tributi","citizen":{"fiscal_code":"RSSMRA85T10A562S"}}`)
	require.Equal(t, http.StatusCreated, status, string(body))
	require.Equal(t, "virtual", decode[struct{ Kind string }](t, body).Kind)
	status, body = clerk.do(http.MethodPost, "/api/v1/virtual-queue", `{"service":"tributi","citizen":{"fiscal_code":"RSSMRA85T10A562S"}}`)
	oaRequireProblem(t, status, body, http.StatusConflict, "already_in_queue")
	v.with(oaReqInvalidBody, func() {
		status, body = clerk.do(http.MethodPost, "/api/v1/virtual-queue", `{"service":"tributi"}`)
		oaRequireProblem(t, status, body, http.StatusBadRequest, "missing_field")
	})
	status, body = clerk.do(http.MethodPost, "/api/v1/virtual-queue", `{"service":"tributi","citizen":{}}`)
	oaRequireProblem(t, status, body, http.StatusBadRequest, "missing_field")

	status, body = totem.do(http.MethodPost, "/api/v1/virtual-queue", `{"service":"tributi","citizen":{"fiscal_code":"RSSMRA85T10A562S"}}`)
	oaRequireProblem(t, status, body, http.StatusForbidden, "forbidden")

	// Admin: the users, sorted by username. A new user logs in at once;
	// replacing a user changes their role and password. (Device enrolment
	// is near the end: it revokes demo-display-2.)
	type userEntry struct {
		Username string `json:"username"`
		Role     string `json:"role"`
		Locked   bool   `json:"locked"`
		Disabled bool   `json:"disabled"`
	}
	listUsers := func() []userEntry {
		t.Helper()
		status, body := admin.do(http.MethodGet, "/api/v1/admin/users", nil)
		require.Equal(t, http.StatusOK, status, string(body))
		us := decode[[]userEntry](t, body)
		require.True(t, sort.SliceIsSorted(us, func(i, j int) bool { return us[i].Username < us[j].Username }), "sorted by username: %s", body)
		return us
	}
	login := func(user, password string) (int, []byte) {
		t.Helper()
		data, err := json.Marshal(map[string]string{"username": user, "password": password})
		require.NoError(t, err)
		return anon.do(http.MethodPost, "/api/v1/auth/login", data)
	}
	users := listUsers()
	require.Len(t, users, 20, "supervisor, admin and clerk01…clerk18")
	require.Contains(t, users, userEntry{Username: "clerk03", Role: "clerk"})
	require.Contains(t, users, userEntry{Username: "supervisor", Role: "supervisor"})
	require.Contains(t, users, userEntry{Username: "admin", Role: "admin"})
	status, body = admin.do(http.MethodPut, "/api/v1/admin/users", `{"username":"clerk19","role":"clerk","password":"segreta-19"}`)
	require.Equal(t, http.StatusOK, status, string(body))
	require.JSONEq(t, `{"username":"clerk19","role":"clerk","locked":false,"disabled":false}`, string(body))
	status, body = login("clerk19", "segreta-19")
	require.Equal(t, http.StatusOK, status, "the new user logs in: %s", body)
	c19 := h.device(decode[struct{ Token string }](t, body).Token)
	status, body = c19.do(http.MethodGet, "/api/v1/auth/me", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	require.JSONEq(t, `{"id":"clerk19","role":"clerk"}`, string(body))
	require.Contains(t, listUsers(), userEntry{Username: "clerk19", Role: "clerk"})
	const newPassword = "ancora più segreta"
	status, body = admin.do(http.MethodPut, "/api/v1/admin/users", `{"username":"clerk19","role":"supervisor","password":"`+newPassword+`"}`)
	require.Equal(t, http.StatusOK, status, string(body))
	require.JSONEq(t, `{"username":"clerk19","role":"supervisor","locked":false,"disabled":false}`, string(body))
	// The replaced user's open session ended with the change: it must not
	// keep the old role.
	status, body = c19.do(http.MethodGet, "/api/v1/auth/me", nil)
	oaRequireProblem(t, status, body, http.StatusUnauthorized, "invalid_token")
	status, body = login("clerk19", "segreta-19")
	oaRequireProblem(t, status, body, http.StatusUnauthorized, "invalid_credentials")
	status, body = login("clerk19", newPassword)
	require.Equal(t, http.StatusOK, status, "the new password: %s", body)
	require.Equal(t, "supervisor", decode[struct{ Role string }](t, body).Role)
	c19 = h.device(decode[struct{ Token string }](t, body).Token)
	// A partial change: disabled, the session ends, the right password is
	// told account_disabled (a wrong one still invalid_credentials).
	status, body = admin.do(http.MethodPatch, "/api/v1/admin/users/clerk19", `{"disabled":true}`)
	require.Equal(t, http.StatusOK, status, string(body))
	require.JSONEq(t, `{"username":"clerk19","role":"supervisor","locked":false,"disabled":true}`, string(body))
	status, body = c19.do(http.MethodGet, "/api/v1/auth/me", nil)
	oaRequireProblem(t, status, body, http.StatusUnauthorized, "invalid_token")
	status, body = login("clerk19", newPassword)
	oaRequireProblem(t, status, body, http.StatusUnauthorized, "account_disabled")
	status, body = login("clerk19", "not the password")
	oaRequireProblem(t, status, body, http.StatusUnauthorized, "invalid_credentials")
	// Enabled again with a password reset and a role change at once.
	status, body = admin.do(http.MethodPatch, "/api/v1/admin/users/clerk19", `{"disabled":false,"password":"ripristinata-19","role":"clerk"}`)
	require.Equal(t, http.StatusOK, status, string(body))
	require.JSONEq(t, `{"username":"clerk19","role":"clerk","locked":false,"disabled":false}`, string(body))
	status, body = login("clerk19", newPassword)
	oaRequireProblem(t, status, body, http.StatusUnauthorized, "invalid_credentials")
	status, body = login("clerk19", "ripristinata-19")
	require.Equal(t, http.StatusOK, status, string(body))
	require.Equal(t, "clerk", decode[struct{ Role string }](t, body).Role)
	status, body = admin.do(http.MethodPatch, "/api/v1/admin/users/nessuno", `{"disabled":true}`)
	require.Equal(t, "username", oaRequireProblem(t, status, body, http.StatusNotFound, "user_not_found").Field)
	status, body = admin.do(http.MethodPatch, "/api/v1/admin/users/admin", `{"disabled":true}`)
	oaRequireProblem(t, status, body, http.StatusConflict, "last_admin")
	status, body = admin.do(http.MethodPatch, "/api/v1/admin/users/admin", `{"role":"clerk"}`)
	oaRequireProblem(t, status, body, http.StatusConflict, "last_admin")
	status, body = admin.do(http.MethodGet, "/api/v1/auth/me", nil)
	require.Equal(t, http.StatusOK, status, "a refused change ends no session: %s", body)
	v.with(oaReqInvalidBody, func() {
		for _, bad := range []struct{ body, code, field string }{
			{`{"password":"corta"}`, "invalid_password", "password"},
			{`{"role":"boss"}`, "invalid_role", "role"},
			{`{"locked":false}`, "unknown_field", "locked"},
		} {
			status, body = admin.do(http.MethodPatch, "/api/v1/admin/users/clerk19", bad.body)
			require.Equal(t, bad.field, oaRequireProblem(t, status, body, http.StatusBadRequest, bad.code).Field, bad.body)
		}
		status, body = admin.do(http.MethodPatch, "/api/v1/admin/users/clerk19", nil)
		oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_json")
	})
	for _, who := range []*client{clerk, sup} {
		status, body = who.do(http.MethodPatch, "/api/v1/admin/users/clerk19", `{"disabled":true}`)
		oaRequireProblem(t, status, body, http.StatusForbidden, "forbidden")
	}
	users = listUsers()
	require.Len(t, users, 21)
	require.Contains(t, users, userEntry{Username: "clerk19", Role: "clerk"})
	v.with(oaReqInvalidBody, func() {
		for _, bad := range []struct{ body, code, field string }{
			{`{"username":"clerk20","role":"clerk","password":"short"}`, "invalid_password", "password"},
			{`{"username":"clerk20","role":"clerk","password":"` + strings.Repeat("x", 73) + `"}`, "invalid_password", "password"},
			{`{"username":"clerk20","role":"clerk"}`, "invalid_password", "password"},
			{`{"username":"clerk20","role":"boss","password":"segreta-20"}`, "invalid_role", "role"},
			{`{"username":"clerk20","password":"segreta-20"}`, "invalid_role", "role"},
			{`{"username":"","role":"clerk","password":"segreta-20"}`, "invalid_username", "username"},
			{`{"username":"` + strings.Repeat("u", 65) + `","role":"clerk","password":"segreta-20"}`, "invalid_username", "username"},
			{`{"role":"clerk","password":"segreta-20"}`, "invalid_username", "username"},
			{`{"username":"clerk20","role":"clerk","password":"segreta-20","locked":false}`, "unknown_field", "locked"},
			{`{"username":"clerk20","role":"clerk","password":20}`, "invalid_field", "password"},
		} {
			status, body = admin.do(http.MethodPut, "/api/v1/admin/users", bad.body)
			bp := oaRequireProblem(t, status, body, http.StatusBadRequest, bad.code)
			require.Equal(t, bad.field, bp.Field, bad.body)
		}
		status, body = admin.do(http.MethodPut, "/api/v1/admin/users", nil)
		oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_json")
	})
	// Lengths are characters, not bytes: 7 accented letters are 14 bytes
	// and too short; 72 of them (144 bytes, beyond bcrypt's 72) are fine and
	// every one counts; 73 are too many. A 64-letter accented username
	// (128 bytes) is fine, 65 letters are not.
	v.with(oaReqInvalidBody, func() {
		status, body = admin.do(http.MethodPut, "/api/v1/admin/users", `{"username":"clerk20","role":"clerk","password":"`+strings.Repeat("è", 7)+`"}`)
		require.Equal(t, "password", oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_password").Field)
		status, body = admin.do(http.MethodPut, "/api/v1/admin/users", `{"username":"clerk20","role":"clerk","password":"`+strings.Repeat("è", 73)+`"}`)
		require.Equal(t, "password", oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_password").Field)
		status, body = admin.do(http.MethodPut, "/api/v1/admin/users", `{"username":"`+strings.Repeat("ò", 65)+`","role":"clerk","password":"segreta-20"}`)
		require.Equal(t, "username", oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_username").Field)
	})
	longName, longPassword := strings.Repeat("ò", 60)+"nicò", strings.Repeat("è", 72)
	status, body = admin.do(http.MethodPut, "/api/v1/admin/users", `{"username":"`+longName+`","role":"clerk","password":"`+longPassword+`"}`)
	require.Equal(t, http.StatusOK, status, string(body))
	status, body = login(longName, longPassword)
	require.Equal(t, http.StatusOK, status, "72 accented letters log in: %s", body)
	status, body = login(longName, strings.Repeat("è", 71)+"é")
	oaRequireProblem(t, status, body, http.StatusUnauthorized, "invalid_credentials")
	status, body = login(longName, strings.Repeat("è", 71))
	oaRequireProblem(t, status, body, http.StatusUnauthorized, "invalid_credentials")
	for _, who := range []*client{clerk, sup, display} {
		status, body = who.do(http.MethodGet, "/api/v1/admin/users", nil)
		oaRequireProblem(t, status, body, http.StatusForbidden, "forbidden")
		status, body = who.do(http.MethodPut, "/api/v1/admin/users", `{"username":"clerk20","role":"admin","password":"segreta-20"}`)
		oaRequireProblem(t, status, body, http.StatusForbidden, "forbidden")
	}
	v.with(oaReqNoCredentials, func() {
		status, body = anon.do(http.MethodGet, "/api/v1/admin/users", nil)
		oaRequireProblem(t, status, body, http.StatusUnauthorized, "unauthorized")
		status, body = anon.do(http.MethodPut, "/api/v1/admin/users", `{"username":"clerk20","role":"admin","password":"segreta-20"}`)
		oaRequireProblem(t, status, body, http.StatusUnauthorized, "unauthorized")
	})
	require.Len(t, listUsers(), 22, "no rejected request made clerk20 (the accented user is the 22nd)")
	status, body = login("clerk20", "segreta-20")
	oaRequireProblem(t, status, body, http.StatusUnauthorized, "invalid_credentials")

	// A visit: call, recall, start, finish with outcome and services.
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/call-next", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	called := decode[ticket](t, body)
	require.Equal(t, "called", called.Status)
	require.Equal(t, "3", *called.Counter)
	// The public sees the number at the counter, no priority, no link.
	status, body = anon.do(http.MethodGet, "/api/v1/counters", nil)
	require.Equal(t, http.StatusOK, status)
	require.NotContains(t, string(body), `"priority"`)
	require.NotContains(t, string(body), `"track_url"`)
	require.Contains(t, string(body), `"number":"`+called.Number+`"`)
	status, body = clerk.do(http.MethodGet, "/api/v1/counters", nil)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, string(body), `"priority"`)
	status, _ = anon.do(http.MethodGet, "/api/v1/counters/3", nil)
	require.Equal(t, http.StatusOK, status)
	status, _ = sup.do(http.MethodGet, "/api/v1/counters/3", nil)
	require.Equal(t, http.StatusOK, status)
	// Closing a counter with a citizen at it is refused.
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/close", nil)
	oaRequireProblem(t, status, body, http.StatusConflict, "counter_busy")
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/recall", "{}")
	require.Equal(t, http.StatusOK, status, string(body))
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/start", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	require.Equal(t, "serving", decode[ticket](t, body).Status)
	// A no-show of a citizen being served is a conflict; an unknown
	// delivered service names its field.
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/no-show", nil)
	oaRequireProblem(t, status, body, http.StatusConflict, "ticket_not_called")
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/finish", `{"services":["certificati","passaporti"]}`)
	p := oaRequireProblem(t, status, body, http.StatusNotFound, "service_not_found")
	require.Equal(t, "services[1]", p.Field)
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/finish",
		`{"outcome":"rilasciato","services":["certificati","elettorale"],"notes":"certificato di residenza e duplicato tessera"}`)
	require.Equal(t, http.StatusOK, status, string(body))
	require.Equal(t, "done", decode[ticket](t, body).Status)

	// A no-show.
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/call-next", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/no-show", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	require.Equal(t, "no_show", decode[ticket](t, body).Status)

	// Transfers: to another service, then to a room.
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/call-next", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	v.with(oaReqInvalidBody, func() {
		status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/transfer", `{"service":"stato_civile","counter":"R1"}`)
		oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_transfer")
		status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/transfer", `{}`)
		oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_transfer")
	})
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/transfer", `{"counter":"R99"}`)
	p = oaRequireProblem(t, status, body, http.StatusNotFound, "counter_not_found")
	require.Equal(t, "counter", p.Field)
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/transfer", `{"service":"stato_civile","notes":"atto di nascita"}`)
	require.Equal(t, http.StatusOK, status, string(body))
	toCivil := decode[ticket](t, body)
	require.Equal(t, "waiting", toCivil.Status)
	require.Equal(t, "stato_civile", toCivil.Service)
	require.Nil(t, toCivil.Counter)
	// The transferred ticket, called by id, goes on to a room.
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/call", `{"ticket":"`+toCivil.ID+`"}`)
	require.Equal(t, http.StatusOK, status, string(body))
	require.Equal(t, toCivil.ID, decode[ticket](t, body).ID)
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/transfer", `{"counter":"R1","back":true,"notes":"colloquio con l'assistente sociale"}`)
	require.Equal(t, http.StatusOK, status, string(body))
	toRoom := decode[struct {
		ID, Status, Service, Target string
	}](t, body)
	require.Equal(t, toCivil.ID, toRoom.ID)
	require.Equal(t, "waiting", toRoom.Status)
	require.Equal(t, "servizi_sociali", toRoom.Service)
	require.Equal(t, "R1", toRoom.Target)
	// The last ticket counter 3 serves, finished without a body.
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/call-next", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/finish", "")
	require.Equal(t, http.StatusOK, status, string(body))
	status, _ = clerk.do(http.MethodPost, "/api/v1/counters/3/call-next", nil)
	require.Equal(t, http.StatusNoContent, status)

	// The supervisor takes room R1 and serves the transferred citizen.
	status, _ = sup.do(http.MethodPost, "/api/v1/counters/R1/open", nil)
	require.Equal(t, http.StatusOK, status)
	status, body = sup.do(http.MethodPost, "/api/v1/counters/R1/call-next", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	inRoom := decode[ticket](t, body)
	require.Equal(t, toCivil.ID, inRoom.ID)
	require.Equal(t, "R1", *inRoom.Counter)
	status, body = sup.do(http.MethodPost, "/api/v1/counters/R1/finish", nil)
	require.Equal(t, http.StatusOK, status, string(body))

	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/call", `{"ticket":"cedir-19700101-Z999"}`)
	oaRequireProblem(t, status, body, http.StatusNotFound, "ticket_not_found")
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/recall", nil)
	oaRequireProblem(t, status, body, http.StatusConflict, "no_current_ticket")

	// Pause, resume, close; call-next on a paused or closed counter.
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/pause", `{"reason":"pausa caffè"}`)
	require.Equal(t, http.StatusOK, status, string(body))
	require.Equal(t, "paused", decode[struct{ State string }](t, body).State)
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/call-next", nil)
	oaRequireProblem(t, status, body, http.StatusConflict, "counter_closed")
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/open", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	require.Equal(t, "open", decode[struct{ State string }](t, body).State)
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/close", "{}")
	require.Equal(t, http.StatusOK, status, string(body))
	require.Equal(t, "closed", decode[struct{ State string }](t, body).State)
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/call-next", nil)
	oaRequireProblem(t, status, body, http.StatusConflict, "counter_closed")
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/close", nil)
	oaRequireProblem(t, status, body, http.StatusConflict, "counter_closed")

	// Cancel.
	status, body = totem.do(http.MethodPost, "/api/v1/tickets", `{"service":"tributi"}`)
	require.Equal(t, http.StatusCreated, status, string(body))
	gone := decode[ticket](t, body)
	status, body = clerk.do(http.MethodPost, "/api/v1/tickets/"+gone.ID+"/cancel", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	require.Equal(t, "cancelled", decode[ticket](t, body).Status)
	status, body = clerk.do(http.MethodPost, "/api/v1/tickets/"+gone.ID+"/cancel", "{}")
	oaRequireProblem(t, status, body, http.StatusConflict, "ticket_not_cancellable")
	status, body = clerk.do(http.MethodPost, "/api/v1/tickets/nope/cancel", nil)
	oaRequireProblem(t, status, body, http.StatusNotFound, "ticket_not_found")

	// Listings and single tickets.
	for _, q := range []string{"", "?status=waiting", "?status=done&service=certificati", "?service=cie", "?counter=3", "?counter=R1&status=waiting"} {
		status, body = clerk.do(http.MethodGet, "/api/v1/tickets"+q, nil)
		require.Equal(t, http.StatusOK, status, q+": "+string(body))
	}
	all := decode[[]ticket](t, func() []byte { _, b := sup.do(http.MethodGet, "/api/v1/tickets", nil); return b }())
	require.Len(t, all, 6)
	status, body = clerk.do(http.MethodGet, "/api/v1/tickets/"+called.ID, nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "done", decode[ticket](t, body).Status)
	status, _ = admin.do(http.MethodGet, "/api/v1/tickets/"+booked.ID, nil)
	require.Equal(t, http.StatusOK, status)
	status, body = clerk.do(http.MethodGet, "/api/v1/tickets?service=passaporti", nil)
	oaRequireProblem(t, status, body, http.StatusNotFound, "service_not_found")
	status, body = clerk.do(http.MethodGet, "/api/v1/tickets?counter=99", nil)
	oaRequireProblem(t, status, body, http.StatusNotFound, "counter_not_found")
	v.with(oaReqInvalidParam, func() {
		status, body = clerk.do(http.MethodGet, "/api/v1/tickets?status=lost", nil)
		oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_status")
	})

	// The citizen's tracking link.
	token := strings.TrimPrefix(cie.TrackURL, h.URL+"/t/")
	require.NotEqual(t, cie.TrackURL, token)
	status, body = anon.do(http.MethodGet, "/api/v1/track/"+token, nil)
	require.Equal(t, http.StatusOK, status)
	require.NotContains(t, string(body), "priority")
	require.NotContains(t, string(body), "pregnancy")
	status, body = anon.do(http.MethodGet, "/t/"+token, nil) // the kiosk's page
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, string(body), cie.Number)
	status, _ = anon.do(http.MethodGet, "/t/not-a-token", nil)
	require.Equal(t, http.StatusNotFound, status)
	status, body = anon.do(http.MethodGet, "/api/v1/track/not-a-token", nil)
	oaRequireProblem(t, status, body, http.StatusNotFound, "ticket_not_found")

	// Leaving the queue from the tracking link.
	status, body = totem.do(http.MethodPost, "/api/v1/tickets", `{"service":"idrico"}`)
	require.Equal(t, http.StatusCreated, status, string(body))
	leavingTicket := decode[ticket](t, body)
	leaving := strings.TrimPrefix(leavingTicket.TrackURL, h.URL+"/t/")
	status, body = anon.do(http.MethodPost, "/api/v1/track/"+leaving+"/cancel", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	require.Equal(t, "cancelled", decode[struct{ Status string }](t, body).Status)
	status, body = anon.do(http.MethodPost, "/api/v1/track/"+leaving+"/cancel", "{}")
	oaRequireProblem(t, status, body, http.StatusConflict, "ticket_not_waiting")
	status, body = anon.do(http.MethodPost, "/api/v1/track/not-a-token/cancel", nil)
	oaRequireProblem(t, status, body, http.StatusNotFound, "ticket_not_found")

	// QR codes and static assets.
	status, body = anon.do(http.MethodGet, "/qr.png?data="+url.QueryEscape(cie.TrackURL), nil)
	require.Equal(t, http.StatusOK, status, string(body))
	require.True(t, bytes.HasPrefix(body, []byte("\x89PNG")))
	v.with(oaReqInvalidParam, func() {
		status, body = anon.do(http.MethodGet, "/qr.png", nil)
		p = oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_data")
		require.Equal(t, "data", p.Field)
		status, body = anon.do(http.MethodGet, "/qr.png?data="+strings.Repeat("x", 600), nil)
		oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_data")
	})
	asset := ""
	for _, n := range assets.Names() {
		if !strings.Contains(n, "/") {
			asset = assets.URL(n)
			break
		}
	}
	require.NotEmpty(t, asset)
	status, body = anon.do(http.MethodGet, asset, nil)
	require.Equal(t, http.StatusOK, status)
	require.NotEmpty(t, body)
	status, _ = anon.do(http.MethodGet, "/assets/nope.000000000000.css", nil)
	require.Equal(t, http.StatusNotFound, status)

	// The routes the page packages and the CzRM worker mount.
	oaExerciseMounted(t, h, v, pages)

	// Administration and monitoring.
	status, body = admin.do(http.MethodGet, "/api/v1/admin/backup", nil)
	require.Equal(t, http.StatusOK, status)
	require.NotEmpty(t, body)
	status, body = sup.do(http.MethodGet, "/api/v1/admin/backup", nil)
	oaRequireProblem(t, status, body, http.StatusForbidden, "forbidden")
	status, body = anon.do(http.MethodGet, "/metrics", nil)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, string(body), `sportello_tickets{status="done"}`)

	// Errors on issuing.
	v.with(oaReqInvalidBody, func() {
		status, body = totem.do(http.MethodPost, "/api/v1/tickets", `{"service":`)
		oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_json")
		status, body = totem.do(http.MethodPost, "/api/v1/tickets", `{"service":"cie","colour":"red"}`)
		p = oaRequireProblem(t, status, body, http.StatusBadRequest, "unknown_field")
		require.Equal(t, "colour", p.Field)
		status, body = totem.do(http.MethodPost, "/api/v1/tickets", `{"service":5}`)
		p = oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_field")
		require.Equal(t, "service", p.Field)
		status, body = totem.do(http.MethodPost, "/api/v1/tickets", `{"service":"cie","priority":"vip"}`)
		p = oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_priority")
		require.Equal(t, "priority", p.Field)
		status, body = totem.do(http.MethodPost, "/api/v1/tickets", `{"service":"cie","channel":"fax"}`)
		oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_channel")
		status, body = totem.do(http.MethodPost, "/api/v1/tickets", `{}`)
		p = oaRequireProblem(t, status, body, http.StatusBadRequest, "missing_field")
		require.Equal(t, "service", p.Field)
		status, body = totem.do(http.MethodPost, "/api/v1/tickets", `["cie"]`)
		oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_json")
		status, body = clerk.do(http.MethodPost, "/api/v1/appointments", `{"service":"cie","slot":"tomorrow"}`)
		p = oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_slot")
		require.Equal(t, "slot", p.Field)
		status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/open", `{"force":true}`)
		oaRequireProblem(t, status, body, http.StatusBadRequest, "unknown_field")
	})
	v.with(oaReqInvalidParam, func() {
		long := http.Header{"Idempotency-Key": {strings.Repeat("k", 201)}}
		status, body = h.rawDo(http.MethodPost, "/api/v1/tickets", totem.tok, long, []byte(`{"service":"cie"}`))
		p = oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_idempotency_key")
		require.Equal(t, "Idempotency-Key", p.Field)
	})
	status, body = totem.do(http.MethodPost, "/api/v1/tickets", `{"service":"passaporti"}`)
	p = oaRequireProblem(t, status, body, http.StatusNotFound, "service_not_found")
	require.Equal(t, "service", p.Field)
	status, body = totem.do(http.MethodPost, "/api/v1/tickets", `{"appointment":"ZZZZZZZZ"}`)
	oaRequireProblem(t, status, body, http.StatusNotFound, "appointment_not_found")
	status, body = totem.do(http.MethodPost, "/api/v1/tickets", `{"service":"cie","appointment":"`+appt.Code+`"}`)
	// Already checked in: the same ticket again, whatever the service.
	require.Equal(t, http.StatusOK, status, string(body))
	status, body = clerk.do(http.MethodPost, "/api/v1/appointments", `{"service":"passaporti","slot":"`+slot+`"}`)
	oaRequireProblem(t, status, body, http.StatusNotFound, "service_not_found")
	status, body = clerk.do(http.MethodGet, "/api/v1/appointments/ZZZZZZZZ", nil)
	oaRequireProblem(t, status, body, http.StatusNotFound, "appointment_not_found")

	// Unknown counters and tickets are 404.
	oaRequireProblems(t, []oaProblem{
		{clerk, http.MethodPost, "/api/v1/counters/99/open", nil, http.StatusNotFound, "counter_not_found"},
		{clerk, http.MethodPost, "/api/v1/counters/99/call-next", nil, http.StatusNotFound, "counter_not_found"},
		{anon, http.MethodGet, "/api/v1/counters/99", nil, http.StatusNotFound, "counter_not_found"},
		{clerk, http.MethodGet, "/api/v1/tickets/cedir-19700101-Z999", nil, http.StatusNotFound, "ticket_not_found"},
	})

	// Wrong role or device kind: 403.
	oaRequireProblems(t, []oaProblem{
		{display, http.MethodPost, "/api/v1/tickets", `{"service":"cie"}`, http.StatusForbidden, "forbidden"},
		{totem, http.MethodGet, "/api/v1/tickets", nil, http.StatusForbidden, "forbidden"},
		{totem, http.MethodPost, "/api/v1/counters/3/open", nil, http.StatusForbidden, "forbidden"},
		{display, http.MethodPost, "/api/v1/appointments", `{"service":"cie","slot":"` + slot + `"}`, http.StatusForbidden, "forbidden"},
		{clerk, http.MethodGet, "/api/v1/admin/backup", nil, http.StatusForbidden, "forbidden"},
		{totem, http.MethodPost, "/api/v1/auth/logout", nil, http.StatusForbidden, "forbidden"},
	})

	// No or bad credentials: 401.
	v.with(oaReqNoCredentials, func() {
		oaRequireProblems(t, []oaProblem{
			{anon, http.MethodPost, "/api/v1/tickets", `{"service":"cie"}`, http.StatusUnauthorized, "unauthorized"},
			{anon, http.MethodGet, "/api/v1/tickets/" + first.ID, nil, http.StatusUnauthorized, "unauthorized"},
			{anon, http.MethodPost, "/api/v1/counters/3/call-next", nil, http.StatusUnauthorized, "unauthorized"},
			{anon, http.MethodGet, "/api/v1/admin/backup", nil, http.StatusUnauthorized, "unauthorized"},
		})
	})
	status, body = h.device("ses-0000").do(http.MethodGet, "/api/v1/tickets", nil)
	oaRequireProblem(t, status, body, http.StatusUnauthorized, "invalid_token")
	status, body = h.device("not-a-device").do(http.MethodPost, "/api/v1/tickets", `{"service":"cie"}`)
	oaRequireProblem(t, status, body, http.StatusUnauthorized, "invalid_token")

	// Bodies over 1 MiB: 413, and nothing changes.
	big := []byte(`{"service":"` + strings.Repeat("a", 2<<20) + `"}`)
	before := h.Engine.LastSeq()
	v.with(oaReqUnchecked, func() {
		status, body = h.rawDo(http.MethodPost, "/api/v1/tickets", totem.tok, nil, big)
		oaRequireProblem(t, status, body, http.StatusRequestEntityTooLarge, "body_too_large")
		status, body = h.rawDo(http.MethodPost, "/api/v1/auth/login", "", nil, big)
		oaRequireProblem(t, status, body, http.StatusRequestEntityTooLarge, "body_too_large")
		status, body = h.rawDo(http.MethodPost, "/api/v1/counters/3/open", clerk.tok, nil, big)
		oaRequireProblem(t, status, body, http.StatusRequestEntityTooLarge, "body_too_large")
	})
	require.Equal(t, before, h.Engine.LastSeq())

	// The live feed over plain HTTP, and a bad since.
	status, body = anon.do(http.MethodGet, "/api/v1/live", nil)
	require.Equal(t, http.StatusBadRequest, status, string(body))
	v.with(oaReqInvalidParam, func() {
		status, body = anon.do(http.MethodGet, "/api/v1/live?since=yesterday", nil)
		p = oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_since")
		require.Equal(t, "since", p.Field)
	})

	// Logout ends the session.
	c05 := h.as("clerk05")
	status, _ = c05.do(http.MethodPost, "/api/v1/auth/logout", nil)
	require.Equal(t, http.StatusNoContent, status)
	status, body = c05.do(http.MethodGet, "/api/v1/auth/me", nil)
	oaRequireProblem(t, status, body, http.StatusUnauthorized, "invalid_token")

	status, _ = anon.do(http.MethodGet, "/api/v1/queue", nil)
	require.Equal(t, http.StatusOK, status)
	status, _ = anon.do(http.MethodGet, "/api/v1/services", nil)
	require.Equal(t, http.StatusOK, status)

	// Totems: the print-job socket of totem-1's agent.
	v.with(oaReqNoCredentials, func() {
		status, body = anon.do(http.MethodGet, "/api/v1/totems/totem-1/jobs", nil)
		oaRequireProblem(t, status, body, http.StatusUnauthorized, "unauthorized")
	})
	oaRequireProblems(t, []oaProblem{
		{display, http.MethodGet, "/api/v1/totems/totem-1/jobs", nil, http.StatusForbidden, "forbidden"},
		{h.device("demo-totem-2"), http.MethodGet, "/api/v1/totems/totem-1/jobs", nil, http.StatusForbidden, "forbidden"},
		{clerk, http.MethodGet, "/api/v1/totems/totem-1/jobs", nil, http.StatusForbidden, "forbidden"},
		{totem, http.MethodGet, "/api/v1/totems/totem-9/jobs", nil, http.StatusNotFound, "totem_not_found"},
	})
	status, body = totem.do(http.MethodGet, "/api/v1/totems/totem-1/jobs", nil)
	require.Equal(t, http.StatusBadRequest, status, "not a WebSocket handshake")

	status, body = sup.do(http.MethodGet, "/api/v1/totems", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	jobs := oaDial(t, v, h.URL, "/api/v1/totems/totem-1/jobs", totem.tok)
	status, body = totem.do(http.MethodPost, "/api/v1/tickets", `{"service":"protocollo"}`)
	require.Equal(t, http.StatusCreated, status, string(body))
	paper := decode[ticket](t, body)
	type jobMsg struct {
		Type, Job string
		Ticket    struct{ Number string }
	}
	answer := func(m map[string]any) {
		t.Helper()
		data, err := json.Marshal(m)
		require.NoError(t, err)
		var back any
		require.NoError(t, json.Unmarshal(data, &back))
		require.NoError(t, v.doc.Components.Schemas["AgentMessage"].Value.VisitJSON(back, openapi3.DisableSchemaErrorDetails()), "%s", data)
		require.NoError(t, jobs.ws.WriteMessage(websocket.TextMessage, data))
	}
	checkJob := func(raw []byte) jobMsg {
		t.Helper()
		var doc any
		require.NoError(t, json.Unmarshal(raw, &doc))
		if err := v.doc.Components.Schemas["JobMessage"].Value.VisitJSON(doc, openapi3.DisableSchemaErrorDetails()); err != nil {
			t.Errorf("job message does not match JobMessage: %v\n%s", err, raw)
		}
		require.NotContains(t, string(raw), "priority")
		require.NotContains(t, string(raw), "pregnancy")
		return decode[jobMsg](t, raw)
	}
	// Every pending job of totem-1 arrives, the new ticket's last.
	var got []jobMsg
	for len(got) == 0 || got[len(got)-1].Job != paper.ID {
		msgs := jobs.wait(t, len(got)+1)
		got = append(got, checkJob(msgs[len(got)]))
	}
	require.NotEmpty(t, got)
	answer(map[string]any{"type": "status", "state": "ok", "version": "test"})
	for _, j := range got[:len(got)-1] {
		answer(map[string]any{"type": "result", "job": j.Job, "ok": true})
	}
	answer(map[string]any{"type": "result", "job": paper.ID, "ok": false, "error": "paper_out"})
	printState := func(id, want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			status, body := clerk.do(http.MethodGet, "/api/v1/tickets/"+id, nil)
			require.Equal(t, http.StatusOK, status)
			tk := decode[struct{ Print string }](t, body)
			if tk.Print == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("ticket %s: print is %q after 10s, want %q", id, tk.Print, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	printState(paper.ID, "failed")
	if len(got) > 1 {
		printState(got[0].Job, "printed")
	}
	status, body = clerk.do(http.MethodPost, "/api/v1/tickets/"+paper.ID+"/reprint", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	require.Equal(t, "pending", decode[struct{ Print string }](t, body).Print)
	again := checkJob(jobs.wait(t, len(got)+1)[len(got)])
	require.Equal(t, paper.ID, again.Job)
	answer(map[string]any{"type": "result", "job": paper.ID, "ok": true})
	printState(paper.ID, "printed")
	status, body = clerk.do(http.MethodPost, "/api/v1/tickets/"+gone.ID+"/reprint", "{}")
	oaRequireProblem(t, status, body, http.StatusConflict, "ticket_closed")
	_, body = clerk.do(http.MethodGet, "/api/v1/tickets?service=informazioni", nil)
	deskTicket := decode[[]ticket](t, body)
	require.NotEmpty(t, deskTicket)
	status, body = clerk.do(http.MethodPost, "/api/v1/tickets/"+deskTicket[0].ID+"/reprint", nil)
	oaRequireProblem(t, status, body, http.StatusConflict, "not_printable")
	status, body = clerk.do(http.MethodPost, "/api/v1/tickets/nope/reprint", nil)
	oaRequireProblem(t, status, body, http.StatusNotFound, "ticket_not_found")
	status, body = sup.do(http.MethodGet, "/api/v1/totems", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	health := decode[[]struct {
		ID           string
		Connected    bool
		PrinterState string `json:"printer_state"`
	}](t, body)
	require.Equal(t, "totem-1", health[0].ID)
	require.True(t, health[0].Connected)
	require.Equal(t, "ok", health[0].PrinterState)
	status, body = clerk.do(http.MethodGet, "/api/v1/totems", nil)
	oaRequireProblem(t, status, body, http.StatusForbidden, "forbidden")

	// Help at a totem.
	status, _ = totem.do(http.MethodPost, "/api/v1/totems/totem-1/help", nil)
	require.Equal(t, http.StatusAccepted, status)
	status, _ = clerk.do(http.MethodPost, "/api/v1/totems/totem-1/help", nil)
	require.Equal(t, http.StatusAccepted, status)
	status, _ = clerk.do(http.MethodPost, "/api/v1/totems/totem-2/help", "{}")
	require.Equal(t, http.StatusAccepted, status)
	oaRequireProblems(t, []oaProblem{
		{display, http.MethodPost, "/api/v1/totems/totem-1/help", nil, http.StatusForbidden, "forbidden"},
		{h.device("demo-totem-2"), http.MethodPost, "/api/v1/totems/totem-1/help", nil, http.StatusForbidden, "forbidden"},
		{totem, http.MethodPost, "/api/v1/totems/totem-9/help", nil, http.StatusNotFound, "totem_not_found"},
	})
	v.with(oaReqNoCredentials, func() {
		status, body = anon.do(http.MethodPost, "/api/v1/totems/totem-1/help", nil)
		oaRequireProblem(t, status, body, http.StatusUnauthorized, "unauthorized")
	})

	// Reports.
	status, body = totem.do(http.MethodPost, "/api/v1/reports",
		`{"kind":"segnalazione","topic":"illuminazione","description":"Lampione spento da una settimana","location":"Via Marina 12"}`)
	require.Equal(t, http.StatusCreated, status, string(body))
	rep := decode[struct{ Protocol, Channel, Status string }](t, body)
	require.Equal(t, "totem", rep.Channel)
	require.Equal(t, "pending", rep.Status)
	status, body = clerk.do(http.MethodPost, "/api/v1/reports", `{"kind":"reclamo","topic":"personale","description":"Attesa troppo lunga"}`)
	require.Equal(t, http.StatusCreated, status, string(body))
	require.Equal(t, "desk", decode[struct{ Channel string }](t, body).Channel)
	// A retried report (the answer lost) is the report first filed, for
	// the same caller only; a key too long is refused.
	repIdem := http.Header{"Idempotency-Key": {"totem-1-report-0001"}}
	repBody := []byte(`{"kind":"segnalazione","topic":"strade","description":"Buca in via Roma"}`)
	status, body = h.rawDo(http.MethodPost, "/api/v1/reports", totem.tok, repIdem, repBody)
	require.Equal(t, http.StatusCreated, status, string(body))
	once := decode[struct{ Protocol string }](t, body).Protocol
	seqBefore := h.Engine.LastSeq()
	status, body = h.rawDo(http.MethodPost, "/api/v1/reports", totem.tok, repIdem, repBody)
	require.Equal(t, http.StatusOK, status, string(body))
	require.Equal(t, once, decode[struct{ Protocol string }](t, body).Protocol)
	require.Equal(t, seqBefore, h.Engine.LastSeq(), "a retried report files nothing")
	status, body = h.rawDo(http.MethodPost, "/api/v1/reports", clerk.tok, repIdem, repBody)
	require.Equal(t, http.StatusCreated, status, string(body))
	require.NotEqual(t, once, decode[struct{ Protocol string }](t, body).Protocol, "keys are scoped to the caller")
	v.with(oaReqInvalidParam, func() {
		long := http.Header{"Idempotency-Key": {strings.Repeat("k", 201)}}
		status, body = h.rawDo(http.MethodPost, "/api/v1/reports", totem.tok, long, repBody)
		require.Equal(t, "Idempotency-Key", oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_idempotency_key").Field)
	})
	status, body = clerk.do(http.MethodGet, "/api/v1/reports/"+rep.Protocol, nil)
	require.Equal(t, http.StatusOK, status, string(body))
	require.Equal(t, rep.Protocol, decode[struct{ Protocol string }](t, body).Protocol)
	status, body = clerk.do(http.MethodGet, "/api/v1/reports/SP-1970-000000", nil)
	oaRequireProblem(t, status, body, http.StatusNotFound, "report_not_found")
	v.with(oaReqInvalidBody, func() {
		status, body = totem.do(http.MethodPost, "/api/v1/reports", `{"kind":"segnalazione","topic":"ufo","description":"x"}`)
		p = oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_topic")
		require.Equal(t, "topic", p.Field)
		status, body = totem.do(http.MethodPost, "/api/v1/reports", `{"kind":"segnalazione","topic":"strade"}`)
		p = oaRequireProblem(t, status, body, http.StatusBadRequest, "missing_field")
		require.Equal(t, "description", p.Field)
	})
	status, body = display.do(http.MethodPost, "/api/v1/reports", `{"kind":"reclamo","topic":"altro","description":"x"}`)
	oaRequireProblem(t, status, body, http.StatusForbidden, "forbidden")
	status, body = totem.do(http.MethodGet, "/api/v1/reports/"+rep.Protocol, nil)
	oaRequireProblem(t, status, body, http.StatusForbidden, "forbidden")

	// Waiting-room screens: heartbeats and what the supervisor sees.
	type displayHealth struct {
		ID, Name, Version, Layout string
		Counters, Services        []string
		Online, Audio             bool
		LastSeen                  time.Time `json:"last_seen"`
	}
	status, body = sup.do(http.MethodGet, "/api/v1/displays", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	screens := decode[[]displayHealth](t, body)
	require.GreaterOrEqual(t, len(screens), 3)
	require.Equal(t, "1", screens[0].ID)
	require.NotEmpty(t, screens[0].Name)
	require.False(t, screens[0].Online, "no heartbeat yet")
	require.True(t, screens[0].LastSeen.IsZero())
	status, body = display.do(http.MethodPost, "/api/v1/displays/1/heartbeat", `{"version":"test","audio":true,"layout":"full"}`)
	require.Equal(t, http.StatusNoContent, status, string(body))
	status, body = h.device("demo-display-2").do(http.MethodPost, "/api/v1/displays/2/heartbeat", nil)
	require.Equal(t, http.StatusNoContent, status, string(body))
	status, body = admin.do(http.MethodGet, "/api/v1/displays", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	screens = decode[[]displayHealth](t, body)
	require.Equal(t, "1", screens[0].ID)
	require.True(t, screens[0].Online)
	require.True(t, screens[0].Audio)
	require.Equal(t, "test", screens[0].Version)
	require.Equal(t, "full", screens[0].Layout)
	require.False(t, screens[0].LastSeen.IsZero())
	require.Equal(t, "2", screens[1].ID)
	require.True(t, screens[1].Online)
	require.False(t, screens[1].Audio)
	require.Empty(t, screens[1].Version)
	require.False(t, screens[2].Online)
	// Only the display itself may report for it; an unknown id is 404.
	oaRequireProblems(t, []oaProblem{
		{display, http.MethodPost, "/api/v1/displays/2/heartbeat", "{}", http.StatusForbidden, "forbidden"},
		{totem, http.MethodPost, "/api/v1/displays/1/heartbeat", nil, http.StatusForbidden, "forbidden"},
		{sup, http.MethodPost, "/api/v1/displays/1/heartbeat", nil, http.StatusForbidden, "forbidden"},
		{display, http.MethodPost, "/api/v1/displays/9/heartbeat", nil, http.StatusNotFound, "display_not_found"},
	})
	v.with(oaReqNoCredentials, func() {
		status, body = anon.do(http.MethodPost, "/api/v1/displays/1/heartbeat", nil)
		oaRequireProblem(t, status, body, http.StatusUnauthorized, "unauthorized")
		status, body = anon.do(http.MethodGet, "/api/v1/displays", nil)
		oaRequireProblem(t, status, body, http.StatusUnauthorized, "unauthorized")
	})
	v.with(oaReqInvalidBody, func() {
		status, body = display.do(http.MethodPost, "/api/v1/displays/1/heartbeat", `{"version":"test","volume":3}`)
		p = oaRequireProblem(t, status, body, http.StatusBadRequest, "unknown_field")
		require.Equal(t, "volume", p.Field)
		status, body = display.do(http.MethodPost, "/api/v1/displays/1/heartbeat", `{"audio":"yes"}`)
		p = oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_field")
		require.Equal(t, "audio", p.Field)
		status, body = display.do(http.MethodPost, "/api/v1/displays/1/heartbeat", `{"version":"`+strings.Repeat("v", 65)+`"}`)
		p = oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_field")
		require.Equal(t, "version", p.Field)
	})
	status, body = clerk.do(http.MethodGet, "/api/v1/displays", nil)
	oaRequireProblem(t, status, body, http.StatusForbidden, "forbidden")
	status, body = display.do(http.MethodGet, "/api/v1/displays", nil)
	oaRequireProblem(t, status, body, http.StatusForbidden, "forbidden")

	// The screens' information line.
	status, body = anon.do(http.MethodGet, "/api/v1/notice", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	require.JSONEq(t, `{"it":"","en":""}`, string(body))
	// 200 characters are fine even when they are 400 bytes; a field left
	// out is empty.
	status, body = sup.do(http.MethodPut, "/api/v1/notice", `{"it":"`+strings.Repeat("è", 200)+`"}`)
	require.Equal(t, http.StatusOK, status, string(body))
	require.JSONEq(t, `{"it":"`+strings.Repeat("è", 200)+`","en":""}`, string(body))
	const notice = `{"it":"Oggi l'ufficio chiude alle 12:00","en":"Today the office closes at 12:00"}`
	status, body = sup.do(http.MethodPut, "/api/v1/notice", notice)
	require.Equal(t, http.StatusOK, status, string(body))
	require.JSONEq(t, notice, string(body))
	status, body = display.do(http.MethodGet, "/api/v1/notice", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	require.JSONEq(t, notice, string(body))
	noticeSeq := h.Engine.LastSeq()
	before = h.Engine.LastSeq()
	v.with(oaReqInvalidBody, func() {
		status, body = sup.do(http.MethodPut, "/api/v1/notice", `{"it":"`+strings.Repeat("x", 201)+`","en":"ok"}`)
		p = oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_it")
		require.Equal(t, "it", p.Field)
		status, body = sup.do(http.MethodPut, "/api/v1/notice", `{"it":"ok","en":"`+strings.Repeat("é", 201)+`"}`)
		p = oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_en")
		require.Equal(t, "en", p.Field)
		status, body = sup.do(http.MethodPut, "/api/v1/notice", `{"it":"ok","de":"ok"}`)
		p = oaRequireProblem(t, status, body, http.StatusBadRequest, "unknown_field")
		require.Equal(t, "de", p.Field)
		status, body = sup.do(http.MethodPut, "/api/v1/notice", `{"it":5}`)
		p = oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_field")
		require.Equal(t, "it", p.Field)
		status, body = sup.do(http.MethodPut, "/api/v1/notice", nil)
		oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_json")
	})
	status, body = sup.do(http.MethodPut, "/api/v1/notice", `{"it":"riga\u0007","en":""}`)
	p = oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_it")
	require.Equal(t, "it", p.Field)
	status, body = clerk.do(http.MethodPut, "/api/v1/notice", notice)
	oaRequireProblem(t, status, body, http.StatusForbidden, "forbidden")
	status, body = display.do(http.MethodPut, "/api/v1/notice", notice)
	oaRequireProblem(t, status, body, http.StatusForbidden, "forbidden")
	v.with(oaReqNoCredentials, func() {
		status, body = anon.do(http.MethodPut, "/api/v1/notice", notice)
		oaRequireProblem(t, status, body, http.StatusUnauthorized, "unauthorized")
	})
	require.Equal(t, before, h.Engine.LastSeq(), "a rejected notice changes nothing")
	status, body = anon.do(http.MethodGet, "/api/v1/notice", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	require.JSONEq(t, notice, string(body))

	// Park: the citizen goes to fetch a document; only counter 3 calls
	// them back, and only by name.
	type staffTicket struct {
		ID, Number, Status, Target, Outcome, Notes string
		Counter                                    *string
		Parked                                     bool
		Requested                                  []string
	}
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/open", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	status, body = clerk.do(http.MethodPost, "/api/v1/tickets", `{"service":"residenza","channel":"desk"}`)
	require.Equal(t, http.StatusCreated, status, string(body))
	res := decode[ticket](t, body)
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/park", nil)
	oaRequireProblem(t, status, body, http.StatusConflict, "no_current_ticket")
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/add-service", `{"service":"certificati"}`)
	oaRequireProblem(t, status, body, http.StatusConflict, "no_current_ticket")
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/call", `{"ticket":"`+res.ID+`"}`)
	require.Equal(t, http.StatusOK, status, string(body))
	require.NotContains(t, string(body), `"parked":`, "omitted when false")
	require.NotContains(t, string(body), `"requested":`, "omitted when empty")

	// A second service for the same visit.
	v.with(oaReqInvalidBody, func() {
		status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/add-service", `{}`)
		p = oaRequireProblem(t, status, body, http.StatusBadRequest, "missing_field")
		require.Equal(t, "service", p.Field)
		status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/add-service", `{"service":""}`)
		p = oaRequireProblem(t, status, body, http.StatusBadRequest, "missing_field")
		require.Equal(t, "service", p.Field)
		status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/add-service", nil)
		oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_json")
		status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/add-service", `{"service":"elettorale","notes":"x"}`)
		p = oaRequireProblem(t, status, body, http.StatusBadRequest, "unknown_field")
		require.Equal(t, "notes", p.Field)
		status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/add-service", `{"service":["elettorale"]}`)
		p = oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_field")
		require.Equal(t, "service", p.Field)
	})
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/add-service", `{"service":"passaporti"}`)
	p = oaRequireProblem(t, status, body, http.StatusNotFound, "service_not_found")
	require.Equal(t, "service", p.Field)
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/add-service", `{"service":"residenza"}`)
	p = oaRequireProblem(t, status, body, http.StatusBadRequest, "duplicate_service")
	require.Equal(t, "service", p.Field, "the ticket's own service")
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/add-service", `{"service":"certificati"}`)
	require.Equal(t, http.StatusOK, status, string(body))
	added := decode[staffTicket](t, body)
	require.Equal(t, res.ID, added.ID)
	require.Equal(t, "called", added.Status)
	require.Equal(t, "3", *added.Counter)
	require.Equal(t, []string{"certificati"}, added.Requested)
	require.False(t, added.Parked)
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/add-service", `{"service":"certificati"}`)
	p = oaRequireProblem(t, status, body, http.StatusBadRequest, "duplicate_service")
	require.Equal(t, "service", p.Field, "a service already added")
	c04 := h.as("clerk04")
	oaRequireProblems(t, []oaProblem{
		{c04, http.MethodPost, "/api/v1/counters/3/add-service", `{"service":"elettorale"}`, http.StatusForbidden, "not_at_counter"},
		{totem, http.MethodPost, "/api/v1/counters/3/add-service", `{"service":"elettorale"}`, http.StatusForbidden, "forbidden"},
		{clerk, http.MethodPost, "/api/v1/counters/99/add-service", `{"service":"elettorale"}`, http.StatusNotFound, "counter_not_found"},
		{clerk, http.MethodPost, "/api/v1/counters/4/add-service", `{"service":"elettorale"}`, http.StatusConflict, "counter_closed"},
	})
	v.with(oaReqNoCredentials, func() {
		status, body = anon.do(http.MethodPost, "/api/v1/counters/3/add-service", `{"service":"elettorale"}`)
		oaRequireProblem(t, status, body, http.StatusUnauthorized, "unauthorized")
	})

	// Park it.
	v.with(oaReqInvalidBody, func() {
		status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/park", `{"notes":"`+strings.Repeat("x", 2001)+`"}`)
		p = oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_notes")
		require.Equal(t, "notes", p.Field)
		status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/park", `{"reason":"documento"}`)
		p = oaRequireProblem(t, status, body, http.StatusBadRequest, "unknown_field")
		require.Equal(t, "reason", p.Field)
		status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/park", `{"notes":7}`)
		p = oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_field")
		require.Equal(t, "notes", p.Field)
	})
	oaRequireProblems(t, []oaProblem{
		{c04, http.MethodPost, "/api/v1/counters/3/park", nil, http.StatusForbidden, "not_at_counter"},
		{display, http.MethodPost, "/api/v1/counters/3/park", nil, http.StatusForbidden, "forbidden"},
		{clerk, http.MethodPost, "/api/v1/counters/99/park", nil, http.StatusNotFound, "counter_not_found"},
		{clerk, http.MethodPost, "/api/v1/counters/4/park", "{}", http.StatusConflict, "counter_closed"},
		{sup, http.MethodPost, "/api/v1/counters/R1/park", nil, http.StatusConflict, "no_current_ticket"},
	})
	v.with(oaReqNoCredentials, func() {
		status, body = anon.do(http.MethodPost, "/api/v1/counters/3/park", nil)
		oaRequireProblem(t, status, body, http.StatusUnauthorized, "unauthorized")
	})
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/park", `{"notes":"va a prendere il documento"}`)
	require.Equal(t, http.StatusOK, status, string(body))
	parked := decode[staffTicket](t, body)
	require.Equal(t, res.ID, parked.ID)
	require.Equal(t, "waiting", parked.Status)
	require.Nil(t, parked.Counter)
	require.Equal(t, "3", parked.Target, "reserved to its counter")
	require.True(t, parked.Parked)
	require.Equal(t, []string{"certificati"}, parked.Requested)
	status, body = sup.do(http.MethodGet, "/api/v1/tickets/"+res.ID, nil)
	require.Equal(t, http.StatusOK, status, string(body))
	require.True(t, decode[staffTicket](t, body).Parked, "GET shows it parked")
	status, body = clerk.do(http.MethodGet, "/api/v1/tickets?status=waiting&service=residenza", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	var listedParked bool
	for _, tk := range decode[[]staffTicket](t, body) {
		if tk.ID == res.ID {
			listedParked = tk.Parked
		}
	}
	require.True(t, listedParked, "the listing shows it parked: %s", body)
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/park", nil)
	oaRequireProblem(t, status, body, http.StatusConflict, "no_current_ticket")
	// call-next never picks it, not even at its own counter, and another
	// counter serving its service may not call it back.
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/call-next", nil)
	require.Equal(t, http.StatusNoContent, status, string(body))
	status, body = c04.do(http.MethodPost, "/api/v1/counters/10/open", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	status, body = c04.do(http.MethodPost, "/api/v1/counters/10/call-next", nil)
	require.Equal(t, http.StatusNoContent, status, string(body))
	status, body = c04.do(http.MethodPost, "/api/v1/counters/10/call", `{"ticket":"`+res.ID+`"}`)
	oaRequireProblem(t, status, body, http.StatusConflict, "not_eligible")
	status, body = c04.do(http.MethodPost, "/api/v1/counters/10/close", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/call", `{"ticket":"`+res.ID+`"}`)
	require.Equal(t, http.StatusOK, status, string(body))
	back := decode[staffTicket](t, body)
	require.Equal(t, "called", back.Status)
	require.Equal(t, "3", *back.Counter)
	require.Empty(t, back.Target)
	require.False(t, back.Parked, "called back: no longer parked")
	require.NotContains(t, string(body), `"parked":`, "omitted when false")
	require.Equal(t, []string{"certificati"}, back.Requested)

	// The supervisor closes counter 3 with clerk03's citizen at it: the
	// ticket waits again.
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/force-close", nil)
	oaRequireProblem(t, status, body, http.StatusForbidden, "forbidden")
	status, body = display.do(http.MethodPost, "/api/v1/counters/3/force-close", nil)
	oaRequireProblem(t, status, body, http.StatusForbidden, "forbidden")
	v.with(oaReqNoCredentials, func() {
		status, body = anon.do(http.MethodPost, "/api/v1/counters/3/force-close", nil)
		oaRequireProblem(t, status, body, http.StatusUnauthorized, "unauthorized")
	})
	status, body = sup.do(http.MethodPost, "/api/v1/counters/99/force-close", nil)
	oaRequireProblem(t, status, body, http.StatusNotFound, "counter_not_found")
	v.with(oaReqInvalidBody, func() {
		status, body = sup.do(http.MethodPost, "/api/v1/counters/3/force-close", `{"reason":"assente"}`)
		p = oaRequireProblem(t, status, body, http.StatusBadRequest, "unknown_field")
		require.Equal(t, "reason", p.Field)
	})
	status, body = sup.do(http.MethodPost, "/api/v1/counters/3/force-close", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	forced := decode[struct {
		State, Clerk string
		Ticket       json.RawMessage
	}](t, body)
	require.Equal(t, "closed", forced.State)
	require.Empty(t, forced.Clerk)
	require.Equal(t, "null", string(forced.Ticket))
	forcedSeq := h.Engine.LastSeq()
	status, body = clerk.do(http.MethodGet, "/api/v1/tickets/"+res.ID, nil)
	require.Equal(t, http.StatusOK, status, string(body))
	waitingAgain := decode[staffTicket](t, body)
	require.Equal(t, "waiting", waitingAgain.Status)
	require.Nil(t, waitingAgain.Counter)
	// Already closed: answered as it is, and nothing changes.
	status, body = admin.do(http.MethodPost, "/api/v1/counters/3/force-close", "{}")
	require.Equal(t, http.StatusOK, status, string(body))
	require.Equal(t, "closed", decode[struct{ State string }](t, body).State)
	require.Equal(t, forcedSeq, h.Engine.LastSeq())
	status, body = clerk.do(http.MethodPost, "/api/v1/counters/3/call-next", nil)
	oaRequireProblem(t, status, body, http.StatusConflict, "counter_closed")

	// Live skill profiles.
	before = h.Engine.LastSeq()
	v.with(oaReqInvalidBody, func() {
		status, body = sup.do(http.MethodPut, "/api/v1/counters/4/services", `{}`)
		p = oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_services")
		require.Equal(t, "services", p.Field)
		status, body = sup.do(http.MethodPut, "/api/v1/counters/4/services", `{"services":[]}`)
		p = oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_services")
		require.Equal(t, "services", p.Field)
		status, body = sup.do(http.MethodPut, "/api/v1/counters/4/services", `{"services":["cie","elettorale","cie"]}`)
		p = oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_services")
		require.Equal(t, "services[2]", p.Field)
		status, body = sup.do(http.MethodPut, "/api/v1/counters/4/services", `{"services":"cie"}`)
		p = oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_field")
		require.Equal(t, "services", p.Field)
		status, body = sup.do(http.MethodPut, "/api/v1/counters/4/services", `{"services":["cie"],"room":false}`)
		p = oaRequireProblem(t, status, body, http.StatusBadRequest, "unknown_field")
		require.Equal(t, "room", p.Field)
		status, body = sup.do(http.MethodPut, "/api/v1/counters/4/services", nil)
		oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_json")
	})
	status, body = sup.do(http.MethodPut, "/api/v1/counters/4/services", `{"services":["cie","servizi_sociali"]}`)
	p = oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_services")
	require.Equal(t, "services[1]", p.Field, "a room service for a counter")
	status, body = sup.do(http.MethodPut, "/api/v1/counters/R2/services", `{"services":["cie"]}`)
	p = oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_services")
	require.Equal(t, "services[0]", p.Field, "a counter service for a room")
	status, body = sup.do(http.MethodPut, "/api/v1/counters/4/services", `{"services":["tributi","passaporti"]}`)
	p = oaRequireProblem(t, status, body, http.StatusNotFound, "service_not_found")
	require.Equal(t, "services[1]", p.Field)
	oaRequireProblems(t, []oaProblem{
		{sup, http.MethodPut, "/api/v1/counters/99/services", `{"services":["cie"]}`, http.StatusNotFound, "counter_not_found"},
		{clerk, http.MethodPut, "/api/v1/counters/4/services", `{"services":["cie"]}`, http.StatusForbidden, "forbidden"},
		{totem, http.MethodPut, "/api/v1/counters/4/services", `{"services":["cie"]}`, http.StatusForbidden, "forbidden"},
	})
	v.with(oaReqNoCredentials, func() {
		status, body = anon.do(http.MethodPut, "/api/v1/counters/4/services", `{"services":["cie"]}`)
		oaRequireProblem(t, status, body, http.StatusUnauthorized, "unauthorized")
	})
	require.Equal(t, before, h.Engine.LastSeq(), "a rejected profile changes nothing")
	newProfile := []string{"residenza", "certificati", "elettorale"}
	status, body = sup.do(http.MethodPut, "/api/v1/counters/4/services", `{"services":["residenza","certificati","elettorale"]}`)
	require.Equal(t, http.StatusOK, status, string(body))
	prof := decode[struct {
		ID, State string
		Services  []string
	}](t, body)
	require.Equal(t, "4", prof.ID)
	require.Equal(t, "closed", prof.State)
	require.Equal(t, newProfile, prof.Services)
	status, body = anon.do(http.MethodGet, "/api/v1/counters/4", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	require.Equal(t, newProfile, decode[struct{ Services []string }](t, body).Services)
	status, body = admin.do(http.MethodPut, "/api/v1/counters/R2/services", `{"services":["servizi_sociali","suap"]}`)
	require.Equal(t, http.StatusOK, status, string(body))
	require.Equal(t, []string{"servizi_sociali", "suap"}, decode[struct{ Services []string }](t, body).Services)

	// The audit trail: the session's own actions, each with who did it.
	type auditEntry struct {
		Seq                               uint64
		At, Actor, Action, Target, Detail string
	}
	status, body = sup.do(http.MethodGet, "/api/v1/audit?limit=1000", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	trail := decode[[]auditEntry](t, body)
	require.Less(t, len(trail), 1000, "the whole trail fits in one page")
	require.Equal(t, h.Engine.LastSeq(), trail[len(trail)-1].Seq)
	var prevSeq uint64
	for _, a := range trail {
		require.Greater(t, a.Seq, prevSeq, "oldest first")
		prevSeq = a.Seq
		require.NotEmpty(t, a.Actor, "every action has who: %+v", a)
		_, err := time.Parse(time.RFC3339, a.At)
		require.NoError(t, err, "%+v", a)
	}
	audited := func(action, target string) (actors, details []string) {
		for _, a := range trail {
			if a.Action == action && a.Target == target {
				actors = append(actors, a.Actor)
				details = append(details, a.Detail)
			}
		}
		return actors, details
	}
	actors, details := audited("ticket.called", called.Number)
	require.Equal(t, []string{"clerk03"}, actors, "clerk03's call-next")
	require.Equal(t, []string{"counter 3"}, details)
	actors, _ = audited("totem.help", "totem-1")
	require.Equal(t, []string{"totem-1", "clerk03"}, actors, "help records who raised it")
	actors, _ = audited("totem.help", "totem-2")
	require.Equal(t, []string{"clerk03"}, actors)
	actors, _ = audited("ticket.issued", first.Number)
	require.Equal(t, []string{"totem-1"}, actors)
	actors, _ = audited("ticket.issued", res.Number)
	require.Equal(t, []string{"clerk03"}, actors)
	actors, _ = audited("ticket.cancelled", gone.Number)
	require.Equal(t, []string{"clerk03"}, actors)
	actors, _ = audited("ticket.cancelled", leavingTicket.Number)
	require.Equal(t, []string{"citizen"}, actors, "left from the tracking link")
	actors, details = audited("ticket.finished", called.Number)
	require.Equal(t, []string{"clerk03"}, actors)
	require.Equal(t, []string{"counter 3; outcome rilasciato"}, details)
	actors, _ = audited("ticket.updated", res.Number)
	require.Equal(t, []string{"clerk03"}, actors)
	actors, details = audited("ticket.parked", res.Number)
	require.Equal(t, []string{"clerk03"}, actors)
	require.Equal(t, []string{"counter 3"}, details)
	actors, _ = audited("ticket.transferred", res.Number)
	require.Equal(t, []string{"supervisor"}, actors, "the forced close sent the ticket back")
	actors, details = audited("counter.closed", "counter 3")
	require.Equal(t, []string{"clerk03", "supervisor"}, actors)
	require.Equal(t, []string{"", "closed by supervisor"}, details)
	actors, details = audited("counter.paused", "counter 3")
	require.Equal(t, []string{"clerk03"}, actors)
	require.Equal(t, []string{"pausa caffè"}, details)
	actors, _ = audited("counter.updated", "counter 4")
	require.Equal(t, []string{"supervisor"}, actors)
	actors, _ = audited("counter.updated", "counter R2")
	require.Equal(t, []string{"admin"}, actors)
	actors, _ = audited("notice.changed", "")
	require.Equal(t, []string{"supervisor", "supervisor"}, actors)
	// Every admin change of a user, with what changed.
	actors, details = audited("user.created", "user clerk19")
	require.Equal(t, []string{"admin"}, actors)
	require.Equal(t, []string{"role clerk; password set"}, details)
	actors, details = audited("user.updated", "user clerk19")
	require.Equal(t, []string{"admin", "admin", "admin"}, actors)
	require.Equal(t, []string{
		"role supervisor; password set; 1 open sessions ended",
		"disabled; 1 open sessions ended",
		"role clerk; password set; enabled",
	}, details)
	actors, _ = audited("user.created", "user "+longName)
	require.Equal(t, []string{"admin"}, actors)
	// Filtered by actor, paged with since, and nothing after the last seq.
	var mine []auditEntry
	for _, a := range trail {
		if a.Actor == "clerk03" {
			mine = append(mine, a)
		}
	}
	status, body = sup.do(http.MethodGet, "/api/v1/audit?actor=clerk03&limit=1000", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	require.Equal(t, mine, decode[[]auditEntry](t, body))
	status, body = admin.do(http.MethodGet, fmt.Sprintf("/api/v1/audit?since=%d&limit=5", trail[9].Seq), nil)
	require.Equal(t, http.StatusOK, status, string(body))
	require.Equal(t, trail[10:15], decode[[]auditEntry](t, body))
	status, body = sup.do(http.MethodGet, "/api/v1/audit", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	require.Equal(t, trail[:min(len(trail), 200)], decode[[]auditEntry](t, body), "200 by default")
	status, body = sup.do(http.MethodGet, fmt.Sprintf("/api/v1/audit?since=%d", h.Engine.LastSeq()), nil)
	require.Equal(t, http.StatusOK, status, string(body))
	require.JSONEq(t, `[]`, string(body))
	status, body = sup.do(http.MethodGet, "/api/v1/audit?actor=nobody", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	require.JSONEq(t, `[]`, string(body))
	v.with(oaReqInvalidParam, func() {
		for _, q := range []string{"since=-1", "since=yesterday"} {
			status, body = sup.do(http.MethodGet, "/api/v1/audit?"+q, nil)
			p = oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_since")
			require.Equal(t, "since", p.Field)
		}
		for _, q := range []string{"limit=0", "limit=1001", "limit=ten"} {
			status, body = sup.do(http.MethodGet, "/api/v1/audit?"+q, nil)
			p = oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_limit")
			require.Equal(t, "limit", p.Field)
		}
	})
	status, body = clerk.do(http.MethodGet, "/api/v1/audit", nil)
	oaRequireProblem(t, status, body, http.StatusForbidden, "forbidden")
	status, body = totem.do(http.MethodGet, "/api/v1/audit", nil)
	oaRequireProblem(t, status, body, http.StatusForbidden, "forbidden")
	v.with(oaReqNoCredentials, func() {
		status, body = anon.do(http.MethodGet, "/api/v1/audit", nil)
		oaRequireProblem(t, status, body, http.StatusUnauthorized, "unauthorized")
	})

	// The login audit (admin only), newest first.
	type loginRecord struct {
		At                       time.Time
		Username, Action, Detail string
	}
	status, body = admin.do(http.MethodGet, "/api/v1/audit/logins?limit=1000", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	logins := decode[[]loginRecord](t, body)
	require.NotEmpty(t, logins)
	find := func(user, action string) int {
		for i, r := range logins {
			if r.Username == user && r.Action == action {
				return i
			}
		}
		return -1
	}
	for i := 1; i < len(logins); i++ {
		require.False(t, logins[i].At.After(logins[i-1].At), "newest first")
	}
	at := find("clerk03", "login")
	require.GreaterOrEqual(t, at, 0, "clerk03's login is audited")
	require.Equal(t, "clerk", logins[at].Detail)
	at = find("clerk03", "login_failed")
	require.GreaterOrEqual(t, at, 0, "the wrong password is audited")
	require.Equal(t, "wrong password", logins[at].Detail)
	loggedOut, loggedIn := find("clerk05", "logout"), find("clerk05", "login")
	require.GreaterOrEqual(t, loggedOut, 0, "clerk05's logout is audited")
	require.Less(t, loggedOut, loggedIn, "the logout is newer than the login")
	status, body = admin.do(http.MethodGet, "/api/v1/audit/logins?limit=1", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	require.Equal(t, logins[:1], decode[[]loginRecord](t, body))
	status, body = admin.do(http.MethodGet, "/api/v1/audit/logins", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	v.with(oaReqInvalidParam, func() {
		for _, q := range []string{"limit=0", "limit=1001", "limit=x"} {
			status, body = admin.do(http.MethodGet, "/api/v1/audit/logins?"+q, nil)
			p = oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_limit")
			require.Equal(t, "limit", p.Field)
		}
	})
	oaRequireProblems(t, []oaProblem{
		{sup, http.MethodGet, "/api/v1/audit/logins", nil, http.StatusForbidden, "forbidden"},
		{clerk, http.MethodGet, "/api/v1/audit/logins", nil, http.StatusForbidden, "forbidden"},
		{display, http.MethodGet, "/api/v1/audit/logins", nil, http.StatusForbidden, "forbidden"},
	})
	v.with(oaReqNoCredentials, func() {
		status, body = anon.do(http.MethodGet, "/api/v1/audit/logins", nil)
		oaRequireProblem(t, status, body, http.StatusUnauthorized, "unauthorized")
	})

	// Device enrolment, late: it revokes demo-display-2, which the
	// heartbeats above use. The token is shown once; enrolling again
	// revokes the older one.
	type enrolment struct{ ID, Kind, Token string }
	d2 := h.device("demo-display-2")
	v.with(oaReqInvalidBody, func() {
		for _, bad := range []struct{ body, code, field string }{
			{`{"id":"2","kind":"printer"}`, "invalid_kind", "kind"},
			{`{"id":"2"}`, "invalid_kind", "kind"},
			{`{"id":"2","kind":"display","token":"mine"}`, "unknown_field", "token"},
			{`{"id":2,"kind":"display"}`, "invalid_field", "id"},
			{`{"kind":"totem"}`, "missing_field", "id"},
		} {
			status, body = admin.do(http.MethodPost, "/api/v1/admin/devices", bad.body)
			bp := oaRequireProblem(t, status, body, http.StatusBadRequest, bad.code)
			require.Equal(t, bad.field, bp.Field, bad.body)
		}
		status, body = admin.do(http.MethodPost, "/api/v1/admin/devices", nil)
		oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_json")
	})
	for _, bad := range []struct{ body, code string }{
		{`{"id":"9","kind":"display"}`, "display_not_found"},
		{`{"id":"totem-1","kind":"display"}`, "display_not_found"},
		{`{"id":"totem-9","kind":"totem"}`, "totem_not_found"},
		{`{"id":"2","kind":"totem"}`, "totem_not_found"},
	} {
		status, body = admin.do(http.MethodPost, "/api/v1/admin/devices", bad.body)
		require.Equal(t, "id", oaRequireProblem(t, status, body, http.StatusNotFound, bad.code).Field, bad.body)
	}
	for _, who := range []*client{clerk, sup, d2} {
		status, body = who.do(http.MethodPost, "/api/v1/admin/devices", `{"id":"2","kind":"display"}`)
		oaRequireProblem(t, status, body, http.StatusForbidden, "forbidden")
	}
	v.with(oaReqNoCredentials, func() {
		status, body = anon.do(http.MethodPost, "/api/v1/admin/devices", `{"id":"2","kind":"display"}`)
		oaRequireProblem(t, status, body, http.StatusUnauthorized, "unauthorized")
	})
	// An empty id is a bad request, not a missing device.
	status, body = admin.do(http.MethodPost, "/api/v1/admin/devices", `{"id":"","kind":"totem"}`)
	require.Equal(t, "id", oaRequireProblem(t, status, body, http.StatusBadRequest, "missing_field").Field)
	status, body = d2.do(http.MethodGet, "/api/v1/auth/me", nil)
	require.Equal(t, http.StatusOK, status, "rejected enrolments revoke nothing: %s", body)
	status, body = admin.do(http.MethodPost, "/api/v1/admin/devices", `{"id":"2","kind":"display"}`)
	require.Equal(t, http.StatusCreated, status, string(body))
	enrolled := decode[enrolment](t, body)
	require.Equal(t, "2", enrolled.ID)
	require.Equal(t, "display", enrolled.Kind)
	require.NotEmpty(t, enrolled.Token)
	require.NotEqual(t, "demo-display-2", enrolled.Token)
	status, body = d2.do(http.MethodPost, "/api/v1/displays/2/heartbeat", nil)
	oaRequireProblem(t, status, body, http.StatusUnauthorized, "invalid_token")
	status, body = d2.do(http.MethodGet, "/api/v1/auth/me", nil)
	oaRequireProblem(t, status, body, http.StatusUnauthorized, "invalid_token")
	newD2 := h.device(enrolled.Token)
	status, body = newD2.do(http.MethodPost, "/api/v1/displays/2/heartbeat", `{"version":"test"}`)
	require.Equal(t, http.StatusNoContent, status, string(body))
	status, body = newD2.do(http.MethodGet, "/api/v1/auth/me", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	require.JSONEq(t, `{"id":"2","device":"display"}`, string(body))
	status, body = display.do(http.MethodGet, "/api/v1/auth/me", nil)
	require.Equal(t, http.StatusOK, status, "another display keeps its token: %s", body)
	// Enrolled again: a new token, and the one just issued stops working.
	status, body = admin.do(http.MethodPost, "/api/v1/admin/devices", `{"id":"2","kind":"display"}`)
	require.Equal(t, http.StatusCreated, status, string(body))
	again2 := decode[enrolment](t, body)
	require.NotEqual(t, enrolled.Token, again2.Token)
	status, body = newD2.do(http.MethodGet, "/api/v1/auth/me", nil)
	oaRequireProblem(t, status, body, http.StatusUnauthorized, "invalid_token")
	status, body = h.device(again2.Token).do(http.MethodPost, "/api/v1/displays/2/heartbeat", nil)
	require.Equal(t, http.StatusNoContent, status, string(body))
	// A totem likewise.
	status, body = admin.do(http.MethodPost, "/api/v1/admin/devices", `{"id":"totem-3","kind":"totem"}`)
	require.Equal(t, http.StatusCreated, status, string(body))
	t3 := decode[enrolment](t, body)
	require.Equal(t, "totem-3", t3.ID)
	require.Equal(t, "totem", t3.Kind)
	status, body = h.device("demo-totem-3").do(http.MethodGet, "/api/v1/auth/me", nil)
	oaRequireProblem(t, status, body, http.StatusUnauthorized, "invalid_token")
	status, body = h.device(t3.Token).do(http.MethodGet, "/api/v1/auth/me", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	require.JSONEq(t, `{"id":"totem-3","device":"totem"}`, string(body))

	// The catalogue without file editing: a new service, refused edits that
	// change nothing, a new room... a new counter serving it, a ticket for
	// it; switched off, it takes no tickets; without priority, none with a
	// category. Every change is in the audit trail.
	status, body = admin.do(http.MethodPut, "/api/v1/admin/services/passaporti",
		`{"prefix":"PS","name":{"it":"Passaporti","en":"Passports"},"category":"dispositivo","target_wait_min":12.5,"service_time_min":9}`)
	require.Equal(t, http.StatusCreated, status, string(body))
	require.JSONEq(t, `{"id":"passaporti","prefix":"PS","name":{"it":"Passaporti","en":"Passports"},"description":{"it":"","en":""},"category":"dispositivo",
		"target_wait_min":12,"service_time_min":9,"room":false,"active":true,"priority":true}`, string(body))
	catBefore := h.Engine.LastSeq()
	v.with(oaReqInvalidBody, func() {
		for _, bad := range []struct{ path, body, code, field string }{
			{"passaporti", `{"prefix":"ps"}`, "invalid_prefix", "prefix"},
			{"passaporti", `{"target_wait_min":0}`, "invalid_target_wait_min", "target_wait_min"},
			{"passaporti", `{"service_time_min":481}`, "invalid_service_time_min", "service_time_min"},
			{"passaporti", `{"colour":"blue"}`, "unknown_field", "colour"},
			{"passaporti", `{"active":"sì"}`, "invalid_field", "active"},
		} {
			status, body = admin.do(http.MethodPut, "/api/v1/admin/services/"+bad.path, bad.body)
			require.Equal(t, bad.field, oaRequireProblem(t, status, body, http.StatusBadRequest, bad.code).Field, bad.body)
		}
	})
	for _, bad := range []struct{ path, body, code, field string }{
		{"nuovo", `{"prefix":"N","name":{"it":"Nuovo"},"category":"dispositivo","target_wait_min":10}`, "missing_field", "service_time_min"},
		{"nuovo", `{"prefix":"N","category":"dispositivo","target_wait_min":10,"service_time_min":5}`, "missing_field", "name.it"},
		{"passaporti", `{"category":"urgente"}`, "invalid_category", "category"},
		{"passaporti", `{"name":{"it":"Riga\nspezzata"}}`, "invalid_name", "name.it"},
		{"passa porti", `{"prefix":"Q","name":{"it":"X"},"category":"dispositivo","target_wait_min":10,"service_time_min":5}`, "invalid_id", "id"},
	} {
		status, body = admin.do(http.MethodPut, "/api/v1/admin/services/"+url.PathEscape(bad.path), bad.body)
		require.Equal(t, bad.field, oaRequireProblem(t, status, body, http.StatusBadRequest, bad.code).Field, bad.body)
	}
	status, body = admin.do(http.MethodPut, "/api/v1/admin/services/passaporti", `{"prefix":"A"}`)
	oaRequireProblem(t, status, body, http.StatusConflict, "prefix_taken")
	status, body = admin.do(http.MethodPut, "/api/v1/admin/services/certificati", `{"room":true}`)
	oaRequireProblem(t, status, body, http.StatusConflict, "service_in_use")
	for _, who := range []*client{clerk, sup} {
		status, body = who.do(http.MethodPut, "/api/v1/admin/services/passaporti", `{"active":false}`)
		oaRequireProblem(t, status, body, http.StatusForbidden, "forbidden")
		status, body = who.do(http.MethodPut, "/api/v1/admin/counters/19", `{"kind":"counter","name":{"it":"Sportello 19"},"services":["passaporti"]}`)
		oaRequireProblem(t, status, body, http.StatusForbidden, "forbidden")
	}
	require.Equal(t, catBefore, h.Engine.LastSeq(), "refused catalogue changes commit nothing")
	status, body = anon.do(http.MethodGet, "/api/v1/services", nil)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, string(body), `"id":"passaporti"`)
	// A new counter takes it.
	v.with(oaReqInvalidBody, func() {
		status, body = admin.do(http.MethodPut, "/api/v1/admin/counters/19", `{"kind":"counter","name":{"it":"Sportello 19"},"services":["passaporti"],"clerk":"x"}`)
		require.Equal(t, "clerk", oaRequireProblem(t, status, body, http.StatusBadRequest, "unknown_field").Field)
	})
	for _, bad := range []struct {
		path, body  string
		status      int
		code, field string
	}{
		{"19", `{"name":{"it":"Sportello 19"},"services":["passaporti"]}`, 400, "missing_field", "kind"},
		{"19", `{"kind":"desk","name":{"it":"Sportello 19"},"services":["passaporti"]}`, 400, "invalid_kind", "kind"},
		{"19", `{"kind":"counter","name":{"it":"Sportello 19"},"services":[]}`, 400, "missing_field", "services"},
		{"19", `{"kind":"counter","name":{"it":"Sportello 19"},"services":["passaporti","passaporti"]}`, 400, "invalid_services", "services[1]"},
		{"19", `{"kind":"counter","name":{"it":"Sportello 19"},"services":["suap"]}`, 400, "invalid_services", "services[0]"},
		{"19", `{"kind":"counter","name":{"it":"Sportello 19"},"services":["astronauti"]}`, 404, "service_not_found", "services[0]"},
		{"R1", `{"kind":"counter"}`, 409, "kind_fixed", "kind"},
	} {
		status, body = admin.do(http.MethodPut, "/api/v1/admin/counters/"+bad.path, bad.body)
		require.Equal(t, bad.field, oaRequireProblem(t, status, body, bad.status, bad.code).Field, bad.body)
	}
	require.Equal(t, catBefore, h.Engine.LastSeq(), "refused counter changes commit nothing")
	status, body = admin.do(http.MethodPut, "/api/v1/admin/counters/19", `{"kind":"counter","name":{"it":"Sportello 19","en":"Desk 19"},"services":["passaporti","certificati"]}`)
	require.Equal(t, http.StatusCreated, status, string(body))
	c19v := decode[struct {
		ID, Kind, State string
		Services        []string
		Name            struct{ IT, EN string }
	}](t, body)
	require.Equal(t, "counter", c19v.Kind)
	require.Equal(t, "closed", c19v.State)
	require.Equal(t, []string{"passaporti", "certificati"}, c19v.Services)
	require.Equal(t, "Desk 19", c19v.Name.EN)
	status, body = admin.do(http.MethodPut, "/api/v1/admin/counters/19", `{"services":["passaporti"]}`)
	require.Equal(t, http.StatusOK, status, string(body))
	require.Equal(t, []string{"passaporti"}, decode[struct{ Services []string }](t, body).Services)
	status, body = totem.do(http.MethodPost, "/api/v1/tickets", `{"service":"passaporti","priority":"elderly"}`)
	require.Equal(t, http.StatusCreated, status, string(body))
	passport := decode[ticket](t, body)
	require.Equal(t, "PS001", passport.Number)
	status, body = admin.do(http.MethodPut, "/api/v1/admin/services/passaporti", `{"priority":false,"target_wait_min":20}`)
	require.Equal(t, http.StatusOK, status, string(body))
	require.Contains(t, string(body), `"priority":false`)
	require.Contains(t, string(body), `"target_wait_min":20`)
	status, body = totem.do(http.MethodPost, "/api/v1/tickets", `{"service":"passaporti","priority":"elderly"}`)
	require.Equal(t, "priority", oaRequireProblem(t, status, body, http.StatusBadRequest, "priority_not_offered").Field)
	status, body = admin.do(http.MethodPut, "/api/v1/admin/services/passaporti", `{"active":false}`)
	require.Equal(t, http.StatusOK, status, string(body))
	require.Contains(t, string(body), `"active":false`)
	status, body = totem.do(http.MethodPost, "/api/v1/tickets", `{"service":"passaporti"}`)
	oaRequireProblem(t, status, body, http.StatusConflict, "service_inactive")
	status, body = clerk.do(http.MethodGet, "/api/v1/tickets/"+passport.ID, nil)
	require.Equal(t, http.StatusOK, status, "the waiting ticket stays: %s", body)
	status, body = admin.do(http.MethodPut, "/api/v1/admin/services/passaporti", `{"active":true}`)
	require.Equal(t, http.StatusOK, status, string(body))
	status, body = sup.do(http.MethodGet, "/api/v1/audit?limit=1000", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	trail = decode[[]auditEntry](t, body)
	actors, details = audited("service.created", "service passaporti")
	require.Equal(t, []string{"admin"}, actors)
	require.Equal(t, []string{"created: prefix PS, dispositivo, target 12.5 min"}, details)
	actors, details = audited("service.updated", "service passaporti")
	require.Equal(t, []string{"admin", "admin", "admin"}, actors)
	require.Equal(t, []string{"now: prefix PS, dispositivo, target 20 min, no priority", "now: prefix PS, dispositivo, target 20 min, inactive, no priority",
		"now: prefix PS, dispositivo, target 20 min, no priority"}, details)
	actors, details = audited("counter.created", "counter 19")
	require.Equal(t, []string{"admin"}, actors)
	require.Equal(t, []string{"counter; name Sportello 19; services passaporti, certificati"}, details)
	actors, details = audited("counter.updated", "counter 19")
	require.Equal(t, []string{"admin"}, actors)
	require.Equal(t, []string{"name Sportello 19; services passaporti"}, details)
	actors, details = audited("device.enrolled", "device 2")
	require.Equal(t, []string{"admin", "admin"}, actors)
	require.Equal(t, []string{"display; new token, the old one revoked", "display; new token, the old one revoked"}, details)
	actors, _ = audited("device.enrolled", "device totem-3")
	require.Equal(t, []string{"admin"}, actors)

	oaSurveySession(t, h, v)

	// The end of the day, last of all: it closes every open ticket and
	// every counter.
	const dayReason = "chiusura dell'ufficio"
	before = h.Engine.LastSeq()
	v.with(oaReqInvalidBody, func() {
		status, body = sup.do(http.MethodPost, "/api/v1/day/close", nil)
		oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_json")
		status, body = sup.do(http.MethodPost, "/api/v1/day/close", `{}`)
		p = oaRequireProblem(t, status, body, http.StatusBadRequest, "missing_field")
		require.Equal(t, "reason", p.Field)
		status, body = sup.do(http.MethodPost, "/api/v1/day/close", `{"reason":""}`)
		p = oaRequireProblem(t, status, body, http.StatusBadRequest, "missing_field")
		require.Equal(t, "reason", p.Field)
		status, body = sup.do(http.MethodPost, "/api/v1/day/close", `{"reason":"`+strings.Repeat("è", 201)+`"}`)
		p = oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_reason")
		require.Equal(t, "reason", p.Field)
		status, body = sup.do(http.MethodPost, "/api/v1/day/close", `{"reason":"ok","force":true}`)
		p = oaRequireProblem(t, status, body, http.StatusBadRequest, "unknown_field")
		require.Equal(t, "force", p.Field)
		status, body = sup.do(http.MethodPost, "/api/v1/day/close", `{"reason":5}`)
		p = oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_field")
		require.Equal(t, "reason", p.Field)
	})
	status, body = sup.do(http.MethodPost, "/api/v1/day/close", `{"reason":"   "}`)
	p = oaRequireProblem(t, status, body, http.StatusBadRequest, "missing_field")
	require.Equal(t, "reason", p.Field, "a blank reason")
	status, body = sup.do(http.MethodPost, "/api/v1/day/close", `{"reason":"fine\u0007"}`)
	p = oaRequireProblem(t, status, body, http.StatusBadRequest, "invalid_reason")
	require.Equal(t, "reason", p.Field)
	status, body = clerk.do(http.MethodPost, "/api/v1/day/close", `{"reason":"`+dayReason+`"}`)
	oaRequireProblem(t, status, body, http.StatusForbidden, "forbidden")
	status, body = totem.do(http.MethodPost, "/api/v1/day/close", `{"reason":"`+dayReason+`"}`)
	oaRequireProblem(t, status, body, http.StatusForbidden, "forbidden")
	v.with(oaReqNoCredentials, func() {
		status, body = anon.do(http.MethodPost, "/api/v1/day/close", `{"reason":"`+dayReason+`"}`)
		oaRequireProblem(t, status, body, http.StatusUnauthorized, "unauthorized")
	})
	require.Equal(t, before, h.Engine.LastSeq(), "a rejected end of day changes nothing")
	_, body = sup.do(http.MethodGet, "/api/v1/tickets", nil)
	open := 0
	for _, tk := range decode[[]ticket](t, body) {
		if tk.Status == "waiting" || tk.Status == "called" || tk.Status == "serving" {
			open++
		}
	}
	require.GreaterOrEqual(t, open, 3, "at least the informazioni, protocollo and residenza tickets wait")
	status, body = sup.do(http.MethodPost, "/api/v1/day/close", `{"reason":"`+dayReason+`"}`)
	require.Equal(t, http.StatusOK, status, string(body))
	require.JSONEq(t, fmt.Sprintf(`{"closed":%d}`, open), string(body))
	status, body = sup.do(http.MethodGet, "/api/v1/tickets?status=waiting", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	require.JSONEq(t, `[]`, string(body))
	status, body = clerk.do(http.MethodGet, "/api/v1/tickets/"+res.ID, nil)
	require.Equal(t, http.StatusOK, status, string(body))
	closedRes := decode[staffTicket](t, body)
	require.Equal(t, "cancelled", closedRes.Status)
	require.Equal(t, "end_of_day", closedRes.Outcome)
	require.Equal(t, dayReason, closedRes.Notes)
	status, body = sup.do(http.MethodGet, "/api/v1/counters", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	for _, c := range decode[[]struct{ ID, State, Clerk string }](t, body) {
		require.Equal(t, "closed", c.State, "counter %s", c.ID)
		require.Empty(t, c.Clerk, "counter %s", c.ID)
	}
	// Again: nothing more to close, and the day is closed once more.
	status, body = admin.do(http.MethodPost, "/api/v1/day/close", `{"reason":"`+dayReason+`"}`)
	require.Equal(t, http.StatusOK, status, string(body))
	require.JSONEq(t, `{"closed":0}`, string(body))
	status, body = sup.do(http.MethodGet, fmt.Sprintf("/api/v1/audit?since=%d", before), nil)
	require.Equal(t, http.StatusOK, status, string(body))
	dayTrail := decode[[]auditEntry](t, body)
	var cancelled, countersClosed int
	for i, a := range dayTrail {
		switch {
		case i >= len(dayTrail)-2:
			require.Equal(t, "day.closed", a.Action, "%+v", a)
			require.Equal(t, dayReason, a.Detail)
			require.Equal(t, []string{"supervisor", "admin"}[i-len(dayTrail)+2], a.Actor)
		case a.Action == "ticket.cancelled":
			cancelled++
			require.Equal(t, "supervisor", a.Actor)
			require.Contains(t, a.Detail, "outcome end_of_day")
		case a.Action == "counter.closed":
			countersClosed++
			require.Equal(t, "supervisor", a.Actor)
			require.Equal(t, "end of day", a.Detail)
		default:
			t.Errorf("unexpected audit entry at the end of the day: %+v", a)
		}
	}
	require.Equal(t, open, cancelled)
	require.GreaterOrEqual(t, countersClosed, 1, "room R1 was still open")

	// Every documented operation was exercised (the live feed below).
	exercised := map[string]bool{}
	for k := range v.seen {
		f := strings.Fields(k)
		exercised[f[0]+" "+f[1]] = true
	}
	for path, item := range v.doc.Paths.Map() {
		for method := range item.Operations() {
			key := method + " " + path
			if !exercised[key] {
				t.Errorf("the session never called %s", key)
			}
		}
	}
	require.Greater(t, v.n, 100)

	// The live feed: every message matches LiveMessage, seqs strictly
	// increase, the first is a snapshot, and nothing private leaks.
	last := h.Engine.LastSeq()
	msgs := live.until(t, last)
	types := map[string]bool{}
	var prev uint64
	var midSeq uint64
	var notices, parkedMsgs, dayClosed []oaLiveMsg
	for i, raw := range msgs {
		if err := v.validateLive(raw); err != nil {
			t.Errorf("live message %d does not match LiveMessage: %v\n%s", i, err, raw)
		}
		var m oaLiveMsg
		require.NoError(t, json.Unmarshal(raw, &m))
		if i == 0 {
			require.Equal(t, "snapshot", m.Type)
		} else {
			require.Greater(t, m.Seq, prev, "seq must strictly increase")
			require.NotEqual(t, "snapshot", m.Type)
		}
		if i == len(msgs)/2 {
			midSeq = m.Seq
		}
		prev = m.Seq
		types[m.Type] = true
		switch m.Type {
		case "notice.changed":
			notices = append(notices, m)
		case "ticket.parked":
			parkedMsgs = append(parkedMsgs, m)
		case "day.closed":
			dayClosed = append(dayClosed, m)
		}
		for _, private := range []string{`"priority"`, "pregnancy", "disability", "elderly", `"clerk"`, `"outcome"`, `"ticket_id"`, `"appointment"`, `"reason"`, "clerk03", appt.Code,
			`"actor"`, "citizen", "end_of_day", dayReason, "closed by supervisor", "va a prendere"} {
			require.NotContains(t, string(m.Data), private, "live message %d (%s) leaks %s", i, m.Type, private)
		}
	}
	for _, want := range []string{"snapshot", "ticket.issued", "ticket.called", "ticket.recalled", "ticket.started", "ticket.finished",
		"ticket.no_show", "ticket.transferred", "ticket.cancelled", "counter.opened", "counter.closed", "counter.paused", "appointment.booked",
		"ticket.printed", "ticket.print_failed", "ticket.reprint", "totem.help", "report.filed", "notice.changed",
		"ticket.parked", "ticket.updated", "counter.updated", "day.closed",
		"service.created", "service.updated", "counter.created", "user.created", "user.updated", "device.enrolled"} {
		require.True(t, types[want], "the live feed sent no %s", want)
	}
	// Every kind of change the session made is in the audit trail, each
	// line with who and when.
	status, body = sup.do(http.MethodGet, "/api/v1/audit?limit=1000", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	inTrail := map[string]bool{}
	for _, a := range decode[[]auditEntry](t, body) {
		require.NotEmpty(t, a.Actor, "%+v", a)
		require.NotEmpty(t, a.At, "%+v", a)
		inTrail[a.Action] = true
	}
	for typ := range types {
		if typ != "snapshot" {
			require.True(t, inTrail[typ], "%s is on the live feed but not in the audit trail", typ)
		}
	}
	// notice.changed carries the notice, never who set it.
	require.Len(t, notices, 2)
	require.Equal(t, noticeSeq, notices[1].Seq)
	require.JSONEq(t, `{"notice":`+notice+`}`, string(notices[1].Data))
	for _, m := range notices {
		require.NotContains(t, string(m.Data), `"clerk"`)
		require.NotContains(t, string(m.Data), "supervisor")
	}
	// ticket.parked names the counter the ticket waits for.
	require.Len(t, parkedMsgs, 1)
	parkedData := decode[struct{ Number, Counter, Kind, Status string }](t, parkedMsgs[0].Data)
	require.Equal(t, res.Number, parkedData.Number)
	require.Equal(t, "3", parkedData.Counter)
	require.Equal(t, "counter", parkedData.Kind)
	require.Equal(t, "waiting", parkedData.Status)
	// day.closed (twice: the second end of day) carries no actor, no
	// reason: nothing at all.
	require.Len(t, dayClosed, 2)
	for _, m := range dayClosed {
		require.JSONEq(t, `{}`, string(m.Data))
	}
	require.Equal(t, last, dayClosed[1].Seq, "the end of the day is the session's last event")

	// A reconnect with since= replays exactly what followed; a snapshot now
	// has calls; a since from the future gets a snapshot.
	replay := oaDial(t, v, h.URL, fmt.Sprintf("/api/v1/live?since=%d", midSeq), "")
	var want, seqs []uint64
	for _, raw := range msgs {
		var m oaLiveMsg
		require.NoError(t, json.Unmarshal(raw, &m))
		if m.Seq > midSeq {
			want = append(want, m.Seq)
		}
	}
	for i, raw := range replay.until(t, last) {
		if err := v.validateLive(raw); err != nil {
			t.Errorf("replayed message %d does not match LiveMessage: %v\n%s", i, err, raw)
		}
		var m oaLiveMsg
		require.NoError(t, json.Unmarshal(raw, &m))
		seqs = append(seqs, m.Seq)
	}
	require.Equal(t, want, seqs, "since= replays exactly the events after it")
	for _, q := range []string{"", fmt.Sprintf("?since=%d", last+1000)} {
		fresh := oaDial(t, v, h.URL, "/api/v1/live"+q, "")
		got := fresh.until(t, last)
		require.NoError(t, v.validateLive(got[0]), "%s", got[0])
		var m oaLiveMsg
		require.NoError(t, json.Unmarshal(got[0], &m))
		require.Equal(t, "snapshot", m.Type)
		require.Equal(t, last, m.Seq)
		var snap struct {
			Calls    []json.RawMessage
			Notice   json.RawMessage
			Counters []struct {
				ID, State, Number string
				Services          []string
			}
		}
		require.NoError(t, json.Unmarshal(m.Data, &snap))
		require.NotEmpty(t, snap.Calls)
		require.NotEmpty(t, snap.Counters)
		for _, c := range snap.Counters {
			require.Equal(t, "closed", c.State, "after the end of the day, counter %s", c.ID)
			require.Empty(t, c.Number, "counter %s", c.ID)
			if c.ID == "4" {
				require.Equal(t, newProfile, c.Services, "the snapshot has the live profile")
			}
		}
		require.JSONEq(t, notice, string(snap.Notice), "the snapshot carries the notice")
	}

	if t.Failed() {
		keys := make([]string, 0, len(v.seen))
		for k := range v.seen {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		t.Logf("exercised:\n%s", strings.Join(keys, "\n"))
	}
}
