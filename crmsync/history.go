package crmsync

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// HistoryEntry is one contact of a citizen with the city, on any channel,
// as the CzRM records it: what the clerk's desk shows while the citizen
// is at the counter.
type HistoryEntry struct {
	When     time.Time `json:"when"`
	Kind     string    `json:"kind"`
	Channel  string    `json:"channel,omitempty"`
	Title    string    `json:"title,omitempty"`
	Number   string    `json:"number,omitempty"`
	Status   string    `json:"status,omitempty"`
	Label    string    `json:"status_label,omitempty"`
	Open     bool      `json:"open"`
	Outcomes []string  `json:"outcomes,omitempty"`
	CaseID   string    `json:"case_id"`
}

const historyPath = "/api/v1/citizens/timeline"

// CitizenHistory asks the CzRM for a citizen's timeline across channels,
// newest first (the reference CzRM's POST /api/v1/citizens/timeline; the
// fiscal code travels in the body, never in a URL). known is false when
// the CzRM holds nothing under the code.
func (c *UpsertClient) CitizenHistory(ctx context.Context, fiscalCode string) (entries []HistoryEntry, known bool, err error) {
	body, _ := json.Marshal(map[string]string{"fiscal_code": fiscalCode})
	op := "POST " + historyPath
	resp, rb, err := c.call(ctx, http.MethodPost, historyPath, op, body)
	if err != nil {
		return nil, false, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, false, httpError(op, resp, rb, time.Now())
	}
	var ans struct {
		Known   bool `json:"known"`
		Entries []struct {
			HistoryEntry
			When string `json:"when"`
		} `json:"entries"`
	}
	if err := json.NewDecoder(bytes.NewReader(rb)).Decode(&ans); err != nil {
		return nil, false, &DeliveryError{Class: Retryable, Op: op, Status: resp.StatusCode, Code: "decode", Err: err, Message: err.Error()}
	}
	out := make([]HistoryEntry, 0, len(ans.Entries))
	for _, e := range ans.Entries {
		h := e.HistoryEntry
		h.When, _ = time.Parse(time.RFC3339, e.When)
		out = append(out, h)
	}
	return out, ans.Known, nil
}
