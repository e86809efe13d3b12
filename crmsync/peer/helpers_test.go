package peer_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/comune-rc/sportello/crmsync/peer"
	"github.com/stretchr/testify/require"
)

// clock is the injected time of a test peer.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// syncBuffer is a log sink the tests read after the calls.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is a peer served over real HTTP on loopback.
type env struct {
	cfg   peer.Config
	p     *peer.Peer
	srv   *httptest.Server
	URL   string
	clock *clock
	logs  *syncBuffer
}

func start(t *testing.T, mutate ...func(*peer.Config)) *env {
	t.Helper()
	e := &env{clock: &clock{t: time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)}, logs: &syncBuffer{}}
	e.cfg = peer.Config{Data: t.TempDir(), Demo: true, Clock: e.clock.Now,
		Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	for _, m := range mutate {
		m(&e.cfg)
	}
	e.open(t)
	t.Cleanup(func() { e.close() })
	return e
}

func (e *env) open(t *testing.T) {
	t.Helper()
	p, err := peer.New(e.cfg)
	require.NoError(t, err)
	e.p = p
	e.srv = httptest.NewServer(p.Handler())
	e.URL = e.srv.URL
}

func (e *env) close() {
	if e.p != nil {
		_ = e.p.Close()
		e.srv.Close()
		e.p = nil
	}
}

// restart closes the peer and opens it again on the same data directory.
func (e *env) restart(t *testing.T) {
	t.Helper()
	e.close()
	e.open(t)
}

type reply struct {
	Status int
	Header http.Header
	Body   string
}

func (r reply) JSON(t *testing.T, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal([]byte(r.Body), v), "body: %s", r.Body)
}

func (r reply) Map(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	r.JSON(t, &m)
	return m
}

func (r reply) List(t *testing.T) []map[string]any {
	t.Helper()
	var l []map[string]any
	r.JSON(t, &l)
	return l
}

// fresh is a client without keep-alive, so that a dropped connection is
// never a reused one (the transport would replay idempotent requests).
func fresh(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var plain = fresh(10 * time.Second)

func send(c *http.Client, method, u, body string, hdr map[string]string) (reply, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		return reply{}, err
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return reply{}, err
	}
	return reply{Status: res.StatusCode, Header: res.Header, Body: string(b)}, nil
}

func do(t *testing.T, method, u, body string, hdr map[string]string) reply {
	t.Helper()
	r, err := send(plain, method, u, body, hdr)
	require.NoError(t, err)
	return r
}

func form(v url.Values) map[string]string {
	return map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
}

func (e *env) token(t *testing.T) string {
	t.Helper()
	r := do(t, "POST", e.URL+"/services/oauth2/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {"sportello"}, "client_secret": {"demo"}}.Encode(), form(nil))
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	return r.Map(t)["access_token"].(string)
}

func bearer(tok string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"}
}

const sobjects = "/services/data/v62.0/sobjects/"

func (e *env) upsert(t *testing.T, tok, object, field, value, body string) reply {
	t.Helper()
	return do(t, "PATCH", e.URL+sobjects+object+"/"+field+"/"+url.PathEscape(value), body, bearer(tok))
}

func (e *env) open311(t *testing.T, v url.Values) reply {
	t.Helper()
	return do(t, "POST", e.URL+"/open311/v2/requests.json", v.Encode(), form(nil))
}

// validCF completes 15 characters with the check character that makes a
// valid codice fiscale.
func validCF(t *testing.T, first15 string) string {
	t.Helper()
	for c := 'A'; c <= 'Z'; c++ {
		if cf, err := peer.ParseFiscalCode(first15 + string(c)); err == nil {
			return cf
		}
	}
	t.Fatalf("no check character makes %s valid", first15)
	return ""
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting: " + msg)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
