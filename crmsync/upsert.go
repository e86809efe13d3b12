package crmsync

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/comune-rc/sportello/hub"
)

// UpsertConfig configures an UpsertClient.
type UpsertConfig struct {
	// BaseURL is the CRM instance, e.g. https://comune-rc.my.salesforce.com.
	BaseURL string
	// TokenURL defaults to BaseURL + /services/oauth2/token.
	TokenURL     string
	ClientID     string
	ClientSecret string
	// Tokens, when set, is used instead of TokenURL/ClientID/ClientSecret
	// (to share one token between bindings).
	Tokens  *TokenSource
	Mapping Mapping
	// Lookup is how CheckVisit reads a record back: "records" (default:
	// GET /api/v1/records?external_id=ID, the reference peer's contract
	// endpoint) or "sobject" (GET /services/data/{version}/sobjects/
	// {Object}/{ExtIDField}/{value}, plain Salesforce).
	Lookup     string
	HTTPClient *http.Client
	// Name identifies the peer for the breaker; default "upsert@HOST".
	Name string
}

// UpsertClient is the keyed-upsert binding in the Salesforce REST shape:
// PATCH /services/data/{version}/sobjects/{Object}/{ExtIDField}/{value}
// with a JSON object of fields, authenticated with OAuth2 client
// credentials. Errors are classified: 2xx ok; 401 refreshes the token
// once, then is retryable; 408/425/429/5xx, timeouts and connection
// errors are retryable (429/503 carry Retry-After); a refusal of the
// version (errorCode STALE_VERSION, or a Salesforce validation rule whose
// message starts with STALE_VERSION) is Superseded; other 4xx and 300 are
// permanent.
type UpsertClient struct {
	base   string
	m      Mapping
	tokens *TokenSource
	http   *http.Client
	name   string
	lookup string
}

var _ VisitBinding = (*UpsertClient)(nil)

// NewUpsertClient validates the configuration and builds the client.
func NewUpsertClient(cfg UpsertConfig) (*UpsertClient, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("crmsync: the CRM base URL %q is not an absolute http(s) URL", cfg.BaseURL)
	}
	m := cfg.Mapping.withDefaults()
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = defaultHTTPClient()
	}
	base := trimSlash(cfg.BaseURL)
	tokens := cfg.Tokens
	if tokens == nil {
		if cfg.ClientID == "" || cfg.ClientSecret == "" {
			return nil, errors.New("crmsync: the upsert binding needs a client id and secret")
		}
		tu := cfg.TokenURL
		if tu == "" {
			tu = base + "/services/oauth2/token"
		}
		tokens = NewTokenSource(tu, cfg.ClientID, cfg.ClientSecret, cfg.HTTPClient)
	}
	switch cfg.Lookup {
	case "":
		cfg.Lookup = "records"
	case "records", "sobject":
	default:
		return nil, fmt.Errorf("crmsync: unknown lookup %q (records or sobject)", cfg.Lookup)
	}
	if cfg.Name == "" {
		cfg.Name = "upsert@" + u.Host
	}
	return &UpsertClient{base: base, m: m, tokens: tokens, http: cfg.HTTPClient, name: cfg.Name, lookup: cfg.Lookup}, nil
}

// Name implements VisitBinding.
func (c *UpsertClient) Name() string { return c.name }

// Mapping returns the mapping in use (defaults filled in).
func (c *UpsertClient) Mapping() Mapping { return c.m }

func (c *UpsertClient) sobjectPath(extID string) string {
	return "/services/data/" + url.PathEscape(c.m.APIVersion) + "/sobjects/" + url.PathEscape(c.m.Object) + "/" +
		url.PathEscape(c.m.ExtIDField) + "/" + url.PathEscape(extID)
}

// call sends a request with a bearer token; a 401 drops the token and
// tries once more with a fresh one.
func (c *UpsertClient) call(ctx context.Context, method, path, op string, body []byte) (*http.Response, []byte, error) {
	for try := 0; ; try++ {
		tok, err := c.tokens.Token(ctx)
		if err != nil {
			return nil, nil, err
		}
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
		if err != nil {
			return nil, nil, &DeliveryError{Class: Permanent, Op: op, Code: "bad_request", Err: err, Message: err.Error()}
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "application/json")
		if body != nil {
			req.Header.Set("Content-Type", "application/json; charset=utf-8")
		}
		resp, rb, err := send(ctx, c.http, req, op)
		if err != nil {
			return nil, nil, err
		}
		if resp.StatusCode == http.StatusUnauthorized && try == 0 {
			c.tokens.Invalidate(tok)
			continue
		}
		return resp, rb, nil
	}
}

// UpsertVisit implements VisitBinding: the visit's mapped fields and its
// version (Mapping.SeqField) under its ticket id.
func (c *UpsertClient) UpsertVisit(ctx context.Context, t *hub.Ticket, seq uint64) (Receipt, error) {
	return c.Upsert(ctx, t.ID, c.m.UpsertFields(t, seq))
}

// Upsert writes fields under the external id extID.
func (c *UpsertClient) Upsert(ctx context.Context, extID string, fields map[string]any) (Receipt, error) {
	path := c.sobjectPath(extID)
	op := "PATCH " + path
	body, err := json.Marshal(fields)
	if err != nil {
		return Receipt{}, &DeliveryError{Class: Permanent, Op: op, Code: "encode", Err: err, Message: err.Error()}
	}
	resp, rb, err := c.call(ctx, http.MethodPatch, path, op, body)
	if err != nil {
		return Receipt{}, err
	}
	switch {
	case resp.StatusCode == http.StatusNoContent:
		return Receipt{}, nil
	case resp.StatusCode/100 == 2:
		var ans struct {
			ID      string          `json:"id"`
			Success *bool           `json:"success"`
			Created bool            `json:"created"`
			Errors  json.RawMessage `json:"errors"`
		}
		if len(bytes.TrimSpace(rb)) > 0 && json.Unmarshal(rb, &ans) != nil {
			// A 2xx is success whatever its body: the upsert was applied.
			return Receipt{}, nil
		}
		if ans.Success != nil && !*ans.Success {
			code, msg := errorText(ans.Errors)
			class := Permanent
			if staleAnswer(code, msg) {
				class = Superseded
			}
			return Receipt{}, &DeliveryError{Class: class, Op: op, Status: resp.StatusCode, Code: firstOf(code, "not_applied"), Message: msg}
		}
		return Receipt{ID: ans.ID, Created: ans.Created}, nil
	case resp.StatusCode == http.StatusMultipleChoices:
		return Receipt{}, &DeliveryError{Class: Permanent, Op: op, Status: resp.StatusCode, Code: "multiple_matches",
			Message: "several CRM records carry this external id; nothing was written"}
	}
	return Receipt{}, httpError(op, resp, rb, time.Now())
}

// CheckVisit implements VisitBinding.
func (c *UpsertClient) CheckVisit(ctx context.Context, t *hub.Ticket) (Check, error) {
	fields, version, found, err := c.Fetch(ctx, t.ID)
	if err != nil || !found {
		return Check{}, err
	}
	diff := diffFields(normalizeMap(c.m.VisitFields(t)), fields)
	return Check{Found: true, Equal: len(diff) == 0, Version: version, Differs: diff}, nil
}

func normalizeMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = normalize(v)
	}
	return out
}

// Fetch reads the record of extID: its fields, its version (0 when the
// CRM does not say) and whether it exists.
func (c *UpsertClient) Fetch(ctx context.Context, extID string) (map[string]any, uint64, bool, error) {
	var path string
	if c.lookup == "sobject" {
		path = c.sobjectPath(extID)
	} else {
		path = "/api/v1/records?external_id=" + url.QueryEscape(extID)
	}
	op := "GET " + strings.SplitN(path, "?", 2)[0]
	resp, rb, err := c.call(ctx, http.MethodGet, path, op, nil)
	if err != nil {
		return nil, 0, false, err
	}
	if c.lookup == "sobject" && resp.StatusCode == http.StatusNotFound {
		return nil, 0, false, nil
	}
	if resp.StatusCode != http.StatusOK {
		return nil, 0, false, httpError(op, resp, rb, time.Now())
	}
	dec := json.NewDecoder(bytes.NewReader(rb))
	dec.UseNumber()
	if c.lookup == "sobject" {
		var rec map[string]any
		if err := dec.Decode(&rec); err != nil {
			return nil, 0, false, &DeliveryError{Class: Retryable, Op: op, Status: resp.StatusCode, Code: "decode", Err: err, Message: err.Error()}
		}
		delete(rec, "attributes")
		delete(rec, "Id")
		delete(rec, c.m.ExtIDField)
		return rec, 0, true, nil
	}
	var recs []struct {
		ExternalID string         `json:"external_id"`
		Object     string         `json:"object"`
		Fields     map[string]any `json:"fields"`
		Version    json.Number    `json:"version"`
	}
	if err := dec.Decode(&recs); err != nil {
		return nil, 0, false, &DeliveryError{Class: Retryable, Op: op, Status: resp.StatusCode, Code: "decode", Err: err, Message: err.Error()}
	}
	for _, r := range recs {
		if r.Object == c.m.Object && r.ExternalID == extID {
			v, _ := r.Version.Int64()
			if r.Fields == nil {
				r.Fields = map[string]any{}
			}
			return r.Fields, uint64(v), true, nil
		}
	}
	return nil, 0, false, nil
}
