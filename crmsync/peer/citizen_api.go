package peer

import (
	"encoding/json"
	"errors"
	"net/http"
)

// TimelineEntry is one line of a citizen's timeline as the JSON API gives
// it: what the staff views show, for the other systems of the office (the
// clerk's desk in Sportello shows the citizen's history with the CzRM).
type TimelineEntry struct {
	When     string   `json:"when"` // RFC 3339
	Kind     string   `json:"kind"` // "Visita allo sportello", "Contatto telefonico", "Segnalazione"…
	Channel  string   `json:"channel,omitempty"`
	Title    string   `json:"title,omitempty"`
	Number   string   `json:"number,omitempty"`
	Status   string   `json:"status,omitempty"`
	Label    string   `json:"status_label,omitempty"`
	Open     bool     `json:"open"`
	Services []string `json:"services,omitempty"`
	Outcomes []string `json:"outcomes,omitempty"`
	CaseID   string   `json:"case_id"`
	Object   string   `json:"object"`
}

// Timeline is the answer of POST /api/v1/citizens/timeline.
type Timeline struct {
	Known   bool            `json:"known"`
	Entries []TimelineEntry `json:"entries"`
}

// handleTimeline: POST /api/v1/citizens/timeline {"fiscal_code"} (bearer
// token of a client) → the citizen's timeline across channels, newest
// first; {"known":false,"entries":[]} for a code the CzRM has nothing
// under. The code travels in the body, never in a URL or a log line.
func (p *Peer) handleTimeline(w http.ResponseWriter, r *http.Request) {
	if _, ok := p.bearer(r); !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="czrm"`)
		writeProblem(w, http.StatusUnauthorized, "invalid_token", "a valid client access token is required")
		return
	}
	var body struct {
		FiscalCode string `json:"fiscal_code"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		writeProblem(w, http.StatusBadRequest, "invalid_body", "the body must be {\"fiscal_code\": \"…\"}")
		return
	}
	cf, err := ParseFiscalCode(body.FiscalCode)
	if err != nil {
		writeProblem(w, http.StatusBadRequest, "invalid_fiscal_code", "not a valid codice fiscale")
		return
	}
	out := Timeline{Entries: []TimelineEntry{}}
	_, recs, reqs, err := p.store.citizen(p.store.handle(cf))
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		writeProblem(w, http.StatusInternalServerError, "store_error", "the store failed")
		return
	default:
		out.Known = true
		var all []entry
		for i := range recs {
			all = append(all, p.recordEntry(&recs[i]))
		}
		for i := range reqs {
			all = append(all, p.requestEntry(&reqs[i]))
		}
		sortEntries(all)
		for _, e := range all {
			out.Entries = append(out.Entries, TimelineEntry{When: e.Datetime, Kind: e.Kind, Channel: e.Channel, Title: e.Title, Number: e.Number,
				Status: e.Status, Label: e.StatusLabel, Open: e.Open, Services: e.Services, Outcomes: e.Outcomes, CaseID: e.CaseID, Object: e.Object})
		}
	}
	p.faults.count(KindRecords, func(s *Stats) { s.Applied++ })
	writeJSON(w, http.StatusOK, out)
}
