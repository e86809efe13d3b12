package crmsync

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Class tells the worker what to do with a failed delivery.
type Class int

const (
	// Retryable failures (timeouts, connection errors, 5xx, 429, auth
	// failures after one token refresh) are tried again with backoff and
	// count towards the peer's circuit breaker.
	Retryable Class = iota
	// Permanent failures (400 validation, 404, 300 several matches, …)
	// go to the dead-letter bucket: retrying would fail the same way.
	Permanent
	// Superseded refusals say the CRM already holds a newer state of the
	// item than the one sent (its version is lower than the stored one):
	// nothing is written, and nothing needs to be. The worker counts the
	// change as delivered, superseded.
	Superseded
)

func (c Class) String() string {
	switch c {
	case Permanent:
		return "permanent"
	case Superseded:
		return "superseded"
	}
	return "retryable"
}

// StaleVersionCode is the error code of a CRM refusing an upsert whose
// version is lower than the one it holds (the reference peer's 409; the
// message of the Salesforce validation rule starts with it).
const StaleVersionCode = "STALE_VERSION"

// staleAnswer reports whether an error code and message are a version
// refusal: the peer's own code, or a Salesforce validation rule
// (FIELD_CUSTOM_VALIDATION_EXCEPTION) whose message starts with the code.
func staleAnswer(code, msg string) bool {
	return code == StaleVersionCode ||
		(code == "FIELD_CUSTOM_VALIDATION_EXCEPTION" && strings.HasPrefix(strings.TrimSpace(msg), StaleVersionCode))
}

// DeliveryError is a classified failure of a binding call.
type DeliveryError struct {
	Class Class
	// Op is the request, without query or body: "PATCH /services/data/…".
	Op string
	// Status is the HTTP status (0 when no answer came).
	Status int
	// Code is the peer's error code, or one of ours: timeout, connection,
	// auth, callback, decode.
	Code    string
	Message string
	// RetryAfter is the peer's Retry-After (429/503), 0 if none.
	RetryAfter time.Duration
	// Ambiguous is set when the request may have been applied although no
	// answer came (a timeout or a dropped connection after sending).
	Ambiguous bool
	// Local marks failures on our side (the report callback): they are
	// retried but do not count against the peer.
	Local bool
	Err   error
}

func (e *DeliveryError) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, "HTTP %d ", e.Status)
	}
	b.WriteString(e.Code)
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil && e.Message == "" {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *DeliveryError) Unwrap() error { return e.Err }

// Classify returns the class of err: a *DeliveryError says it; anything
// else (a transport error a binding did not wrap) is retryable.
func Classify(err error) Class {
	var de *DeliveryError
	if errors.As(err, &de) {
		return de.Class
	}
	return Retryable
}

func asDelivery(err error) *DeliveryError {
	var de *DeliveryError
	if errors.As(err, &de) {
		return de
	}
	return &DeliveryError{Class: Retryable, Code: "error", Err: err, Message: err.Error()}
}

// statusClass classifies a non-2xx HTTP answer.
func statusClass(status int) Class {
	switch {
	case status == http.StatusRequestTimeout, status == http.StatusTooEarly, status == http.StatusTooManyRequests,
		status == http.StatusUnauthorized, status >= 500:
		return Retryable
	}
	return Permanent
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP
// date. It is capped at an hour, so a wrong header cannot stall the peer.
func parseRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.Atoi(h); err == nil {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(now)
	}
	if d < 0 {
		d = 0
	}
	if d > time.Hour {
		d = time.Hour
	}
	return d
}

// errorText pulls a short error code and message out of an error body in
// any of the shapes the peers use: Salesforce [{errorCode,message}],
// Open311 [{code,description}], OAuth2 {error,error_description}, RFC 9457
// {code,detail}.
func errorText(body []byte) (code, msg string) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return "", ""
	}
	type item struct {
		ErrorCode        string          `json:"errorCode"`
		Message          string          `json:"message"`
		Code             json.RawMessage `json:"code"`
		Description      string          `json:"description"`
		Error            string          `json:"error"`
		ErrorDescription string          `json:"error_description"`
		Detail           string          `json:"detail"`
	}
	var items []item
	if body[0] == '[' {
		_ = json.Unmarshal(body, &items)
	} else if body[0] == '{' {
		var one item
		if json.Unmarshal(body, &one) == nil {
			items = []item{one}
		}
	}
	if len(items) == 0 {
		return "", truncate(string(body), 300)
	}
	it := items[0]
	code = firstOf(it.ErrorCode, it.Error, strings.Trim(string(it.Code), `"`))
	msg = firstOf(it.Message, it.Description, it.ErrorDescription, it.Detail)
	return truncate(code, 64), truncate(msg, 300)
}

func firstOf(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// send performs one HTTP request and classifies transport failures. It
// reports whether the request was completely written, so that a failure
// before that point is known not to have been applied.
func send(ctx context.Context, c *http.Client, req *http.Request, op string) (*http.Response, []byte, error) {
	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) {
		if i.Err == nil {
			wrote.Store(true)
		}
	}}
	req = req.WithContext(httptrace.WithClientTrace(ctx, trace))
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, transportError(ctx, op, err, wrote.Load())
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		// The answer was cut: whatever it said, the call may have been
		// applied.
		return nil, nil, transportError(ctx, op, err, true)
	}
	return resp, body, nil
}

func transportError(ctx context.Context, op string, err error, wrote bool) *DeliveryError {
	de := &DeliveryError{Class: Retryable, Op: op, Code: "connection", Err: err, Ambiguous: wrote}
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil || (errors.As(err, &ne) && ne.Timeout()):
		de.Code = "timeout"
		de.Message = "no answer in time"
	default:
		de.Message = err.Error()
	}
	return de
}

// httpError builds the error of a non-2xx answer.
func httpError(op string, resp *http.Response, body []byte, now time.Time) *DeliveryError {
	code, msg := errorText(body)
	if code == "" {
		code = "http_" + strconv.Itoa(resp.StatusCode)
	}
	de := &DeliveryError{Class: statusClass(resp.StatusCode), Op: op, Status: resp.StatusCode, Code: code, Message: msg}
	if de.Class == Permanent && staleAnswer(code, msg) {
		de.Class = Superseded
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		de.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), now)
	}
	if resp.StatusCode == http.StatusUnauthorized {
		de.Code = "auth"
		if msg == "" {
			de.Message = "the CRM refused the access token"
		}
	}
	return de
}
