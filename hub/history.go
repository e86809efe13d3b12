package hub

import "time"

// HistoryEntry is one contact of a citizen with the city, on any channel,
// as the CzRM records it: what the clerk's desk shows while the citizen is
// at the counter. It lives in the domain so that the CzRM binding that
// reads it and the desk that shows it share one type.
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
