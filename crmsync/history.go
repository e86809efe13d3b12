package crmsync

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/comune-rc/sportello/hub"
)

const historyPath = "/api/v1/citizens/timeline"

// CitizenHistory asks the CzRM for a citizen's timeline across channels,
// newest first (the reference CzRM's POST /api/v1/citizens/timeline; the
// fiscal code travels in the body, never in a URL). known is false when
// the CzRM holds nothing under the code.
func (c *UpsertClient) CitizenHistory(ctx context.Context, fiscalCode string) (entries []hub.HistoryEntry, known bool, err error) {
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
			hub.HistoryEntry
			When string `json:"when"`
		} `json:"entries"`
	}
	if err := json.NewDecoder(bytes.NewReader(rb)).Decode(&ans); err != nil {
		return nil, false, &DeliveryError{Class: Retryable, Op: op, Status: resp.StatusCode, Code: "decode", Err: err, Message: err.Error()}
	}
	out := make([]hub.HistoryEntry, 0, len(ans.Entries))
	for _, e := range ans.Entries {
		h := e.HistoryEntry
		h.When, _ = time.Parse(time.RFC3339, e.When)
		out = append(out, h)
	}
	return out, ans.Known, nil
}
