// Package crmsync carries every visit (and every report) of the hub to the
// city's CzRM: once in effect, in order per visit, whatever breaks.
//
// The hub writes one outbox record per visit change in the same bbolt
// transaction as the change (hub.OutboxRecord, with the full visit
// snapshot). The Worker reads the outbox in sequence behind a durable
// cursor and moves each record, in the same transaction as the cursor,
// into a lane: one per visit ("visit/TICKET_ID") or report
// ("report/PROTOCOL"), kept in crmsync_* buckets of the hub's file.
//
//   - Order: a lane has at most one call in flight and only ever moves
//     forward in outbox sequence; lanes are independent, so a failing
//     visit never blocks the others.
//
//   - Collapsing: every record carries the full state, so the pending
//     changes of a lane collapse into its latest snapshot; the CRM gets
//     the newest state, never an older one after a newer.
//
//   - Delivery is at-least-once (ack after the CRM's 2xx, in its own
//     transaction); the keyed upsert under the ticket id makes a repeat a
//     no-op, and a report is looked up by its protocol before any re-post:
//     AmbiguousDelay after an unclear failure, and as long after the
//     attempt timeout of a POST that a stopped or killed process left in
//     flight (every report POST is marked durably before it is sent), so
//     that the earlier POST has landed before the search.
//
//   - Versions: every upsert carries the outbox seq of its state
//     (Mapping.SeqField, Sync_Seq__c), and the CRM refuses one lower than
//     it holds, so a late call (timed out but still in the CRM, or left by
//     a killed process) cannot put an older state over a newer one; such
//     a refusal counts as delivered, superseded (docs/crmsync.md).
//
//   - Failures: full-jitter exponential backoff per lane, at least the
//     peer's Retry-After (which also pauses the peer); a circuit breaker
//     per peer; permanent refusals go to dead letters, which hold the
//     lane's newer changes until an admin replays (the latest state is
//     delivered) or discards them.
//
//   - Reconciliation: Reconcile(day) compares the CRM's records of the
//     day's visits and reports with the hub's state and re-queues what is
//     missing or stale; the worker runs it every day at ReconcileAt.
//
//   - Personal data: the fiscal code reaches the CRM with the visit (it
//     puts the visit on the citizen's timeline); once a closed visit is
//     delivered the hub keeps only its keyed hash (Config.Reduce), the
//     outbox snapshots are deleted after Config.OutboxRetention, and no
//     log line carries a field value.
//
// Bindings: UpsertClient (the Salesforce REST shape, OAuth2 client
// credentials) for visits, Open311Client (GeoReport v2) for reports; any
// VisitBinding/ReportBinding fits.
package crmsync

import (
	"context"
	"net/http"
	"time"

	"github.com/comune-rc/sportello/hub"
)

// VisitBinding writes visits to a CRM. Another CRM (Dynamics, SuiteCRM)
// fits by implementing it; UpsertClient is the Salesforce-shaped one.
type VisitBinding interface {
	// Name identifies the peer: the circuit breaker and the status are
	// per name.
	Name() string
	// UpsertVisit writes the visit's full current state under its
	// external id (the ticket id). It must be idempotent: repeating it
	// leaves the CRM as it was. seq is the state's version (the outbox
	// seq of the visit's latest change in it), which grows with every
	// change: the binding sends it so that the CRM refuses a state older
	// than the one it holds (a late call overtaken by a newer one), and
	// answers such a refusal with a *DeliveryError of Class Superseded.
	UpsertVisit(ctx context.Context, t *hub.Ticket, seq uint64) (Receipt, error)
	// CheckVisit compares what the CRM holds for the visit with what
	// UpsertVisit would write (nightly reconciliation).
	CheckVisit(ctx context.Context, t *hub.Ticket) (Check, error)
}

// ReportBinding files reports (segnalazioni, reclami) with a CRM.
type ReportBinding interface {
	Name() string
	// FileReport files the report and returns the CRM's id for it (the
	// citizen-facing protocol). When maybeFiled is set (an earlier attempt
	// may have reached the CRM), it first looks the report up by its
	// protocol and returns the existing id instead of filing it twice.
	FileReport(ctx context.Context, r *hub.Report, maybeFiled bool) (serviceRequestID string, err error)
	// FindReport looks a report up by our protocol.
	FindReport(ctx context.Context, protocol string) (serviceRequestID string, found bool, err error)
}

// Receipt is the CRM's answer to an upsert.
type Receipt struct {
	ID      string `json:"id"`
	Created bool   `json:"created"`
}

// Check is what reconciliation learns about one visit.
type Check struct {
	Found   bool     `json:"found"`
	Equal   bool     `json:"equal"`
	Version uint64   `json:"version,omitempty"`
	Differs []string `json:"differs,omitempty"` // CRM field names
}

// NewCzRMBindings builds both bindings for a CzRM of the reference shape
// (the Salesforce subset and Open311 under /open311/v2 on one base URL,
// one OAuth2 client for both), as `sportello serve --czrm URL
// --czrm-client-id ID --czrm-client-secret SECRET` needs. Zero mapping
// fields take the defaults.
func NewCzRMBindings(baseURL, clientID, clientSecret string, m Mapping, httpClient *http.Client) (*UpsertClient, *Open311Client, error) {
	if httpClient == nil {
		httpClient = defaultHTTPClient()
	}
	tokens := NewTokenSource(trimSlash(baseURL)+"/services/oauth2/token", clientID, clientSecret, httpClient)
	up, err := NewUpsertClient(UpsertConfig{BaseURL: baseURL, Tokens: tokens, Mapping: m, HTTPClient: httpClient})
	if err != nil {
		return nil, nil, err
	}
	o, err := NewOpen311Client(Open311Config{Endpoint: trimSlash(baseURL) + "/open311/v2", Tokens: tokens, HTTPClient: httpClient})
	if err != nil {
		return nil, nil, err
	}
	return up, o, nil
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

// defaultHTTPClient has no overall timeout: every call carries the
// worker's per-attempt deadline in its context.
func defaultHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = 60 * time.Second
	tr.MaxIdleConnsPerHost = 8
	return &http.Client{Transport: tr}
}
