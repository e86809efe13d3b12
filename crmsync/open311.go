package crmsync

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/comune-rc/sportello/hub"
)

// Open311Config configures an Open311Client.
type Open311Config struct {
	// Endpoint is the GeoReport v2 base, e.g. https://czrm/open311/v2.
	Endpoint string
	// APIKey is sent as the api_key form field of POST requests.json.
	APIKey string
	// Tokens, when set, authenticates with an OAuth2 bearer token instead
	// (the reference peer accepts either).
	Tokens *TokenSource
	// JurisdictionID is sent when set (multi-jurisdiction servers).
	JurisdictionID string
	// ServiceCodes maps report topics to service codes; a topic missing
	// here is sent as its own service code (the reference peer's
	// catalogue uses the hub's topics).
	ServiceCodes map[string]string
	// DefaultAddress is the address_string of reports filed without a
	// location (Open311 wants a place; the reference peer accepts a
	// report with an external id and a description instead).
	DefaultAddress string
	HTTPClient     *http.Client
	// Name identifies the peer for the breaker; default "open311@HOST".
	Name string
}

// Open311Client files reports as Open311 GeoReport v2 service requests:
// POST requests.json with service_code, description, address_string and
// attribute[external_id]=PROTOCOL (plus kind, channel and protocol
// attributes). Open311 has no idempotency key, so after an attempt that
// may have reached the server (FileReport's maybeFiled) it searches
// GET requests.json?external_id=PROTOCOL before posting again: a report
// is never filed twice, provided the earlier POST has landed by then (the
// Worker waits for that: Config.AmbiguousDelay). The protocol is the
// hub's own pending number, fixed when the report is filed, so the search
// finds a request whatever answer was lost. It never sends an Idempotency-Key header: Go's
// transport would then replay the POST by itself on a dropped keep-alive
// connection.
type Open311Client struct {
	endpoint string
	cfg      Open311Config
	http     *http.Client
	name     string
}

var _ ReportBinding = (*Open311Client)(nil)

// NewOpen311Client validates the configuration and builds the client.
func NewOpen311Client(cfg Open311Config) (*Open311Client, error) {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("crmsync: the Open311 endpoint %q is not an absolute http(s) URL", cfg.Endpoint)
	}
	if cfg.APIKey == "" && cfg.Tokens == nil {
		return nil, fmt.Errorf("crmsync: the Open311 binding needs an api key or a token source")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = defaultHTTPClient()
	}
	if cfg.Name == "" {
		cfg.Name = "open311@" + u.Host
	}
	return &Open311Client{endpoint: trimSlash(cfg.Endpoint), cfg: cfg, http: cfg.HTTPClient, name: cfg.Name}, nil
}

// Name implements ReportBinding.
func (c *Open311Client) Name() string { return c.name }

// Form returns the POST form of a report (api_key aside).
func (c *Open311Client) Form(r *hub.Report) url.Values {
	f := url.Values{}
	code := r.Topic
	if sc, ok := c.cfg.ServiceCodes[r.Topic]; ok && sc != "" {
		code = sc
	}
	f.Set("service_code", code)
	if c.cfg.JurisdictionID != "" {
		f.Set("jurisdiction_id", c.cfg.JurisdictionID)
	}
	f.Set("description", r.Description)
	if r.Location != "" {
		f.Set("address_string", r.Location)
	} else if c.cfg.DefaultAddress != "" {
		f.Set("address_string", c.cfg.DefaultAddress)
	}
	f.Set("attribute[external_id]", r.Protocol)
	f.Set("attribute[protocol]", r.Protocol)
	if r.Kind != "" {
		f.Set("attribute[kind]", r.Kind)
	}
	if r.Channel != "" {
		f.Set("attribute[channel]", string(r.Channel))
	}
	return f
}

// do sends one Open311 call; with a token source, a 401 or 403 drops the
// token and tries once more.
func (c *Open311Client) do(ctx context.Context, method, path string, form url.Values, op string) (*http.Response, []byte, error) {
	for try := 0; ; try++ {
		var body []byte
		tok := ""
		if method == http.MethodPost {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			if c.cfg.APIKey != "" {
				f.Set("api_key", c.cfg.APIKey)
			}
			body = []byte(f.Encode())
		}
		var rd io.Reader
		if method == http.MethodPost {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, c.endpoint+path, rd)
		if err != nil {
			return nil, nil, &DeliveryError{Class: Permanent, Op: op, Code: "bad_request", Err: err, Message: err.Error()}
		}
		if method == http.MethodPost {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		}
		req.Header.Set("Accept", "application/json")
		if c.cfg.Tokens != nil && c.cfg.APIKey == "" {
			if tok, err = c.cfg.Tokens.Token(ctx); err != nil {
				return nil, nil, err
			}
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, rb, err := send(ctx, c.http, req, op)
		if err != nil {
			return nil, nil, err
		}
		if (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden) && tok != "" && try == 0 {
			c.cfg.Tokens.Invalidate(tok)
			continue
		}
		return resp, rb, nil
	}
}

// open311Error classifies an Open311 error answer: 400 "General Service
// Error" (the CRM behind is down) and 5xx/429 are retryable; 401/403 (a
// refused key) are retryable too, so the breaker pauses the peer rather
// than filling the dead letters; other 4xx are permanent.
func open311Error(op string, resp *http.Response, rb []byte) *DeliveryError {
	de := httpError(op, resp, rb, time.Now())
	switch {
	case resp.StatusCode == http.StatusBadRequest && strings.Contains(strings.ToLower(de.Message), "general service error"):
		de.Class, de.Code = Retryable, "general_service_error"
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		de.Class, de.Code = Retryable, "auth"
	}
	return de
}

// FindReport implements ReportBinding: GET requests.json?external_id=P.
// With several matches (someone else's duplicates) the oldest wins.
func (c *Open311Client) FindReport(ctx context.Context, protocol string) (string, bool, error) {
	q := url.Values{"external_id": {protocol}}
	if c.cfg.JurisdictionID != "" {
		q.Set("jurisdiction_id", c.cfg.JurisdictionID)
	}
	const op = "GET requests.json"
	resp, rb, err := c.do(ctx, http.MethodGet, "/requests.json?"+q.Encode(), nil, op)
	if err != nil {
		return "", false, err
	}
	if resp.StatusCode != http.StatusOK {
		return "", false, open311Error(op, resp, rb)
	}
	var found []struct {
		ID          string `json:"service_request_id"`
		ExternalID  string `json:"external_id"`
		RequestedAt string `json:"requested_datetime"`
	}
	if err := json.Unmarshal(rb, &found); err != nil {
		return "", false, &DeliveryError{Class: Retryable, Op: op, Status: resp.StatusCode, Code: "decode", Err: err, Message: err.Error()}
	}
	best, bestAt := "", time.Time{}
	for _, f := range found {
		if f.ID == "" || (f.ExternalID != "" && f.ExternalID != protocol) {
			continue
		}
		at, _ := time.Parse(time.RFC3339, f.RequestedAt)
		if best == "" || at.Before(bestAt) {
			best, bestAt = f.ID, at
		}
	}
	return best, best != "", nil
}

// FileReport implements ReportBinding.
func (c *Open311Client) FileReport(ctx context.Context, r *hub.Report, maybeFiled bool) (string, error) {
	if maybeFiled {
		id, found, err := c.FindReport(ctx, r.Protocol)
		if err != nil {
			return "", err
		}
		if found {
			return id, nil
		}
	}
	const op = "POST requests.json"
	resp, rb, err := c.do(ctx, http.MethodPost, "/requests.json", c.Form(r), op)
	if err != nil {
		return "", err
	}
	if resp.StatusCode/100 != 2 {
		return "", open311Error(op, resp, rb)
	}
	var ans []struct {
		ID    string `json:"service_request_id"`
		Token string `json:"token"`
	}
	if err := json.Unmarshal(rb, &ans); err != nil || len(ans) == 0 {
		// Filed, but the answer is unreadable: the next attempt finds it.
		return "", &DeliveryError{Class: Retryable, Op: op, Status: resp.StatusCode, Code: "decode", Ambiguous: true, Message: "unreadable answer"}
	}
	if ans[0].ID == "" {
		// A batch server answers a token and numbers the request later:
		// the next attempt looks it up by its external id.
		return "", &DeliveryError{Class: Retryable, Op: op, Status: resp.StatusCode, Code: "token_only", Ambiguous: true,
			Message: "the server gave a token, not yet a service_request_id"}
	}
	return ans[0].ID, nil
}
