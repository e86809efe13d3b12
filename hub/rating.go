package hub

import (
	"context"
	"strings"
	"time"
)

// EventTicketRated records a citizen's rating of a finished visit. It is
// a private event: never on the public live feed (the clerk's desk and the
// screens listen to it), only in the event log, the reports and the CzRM.
const EventTicketRated = "ticket.rated"

// Rating is the citizen's answer to the satisfaction survey of one visit:
// 1 (very unhappy) to 5 (very happy) faces, optionally a reason from
// RatingReasons and a short comment. It travels to the CzRM with the
// visit; the comment is free text and is purged with the visit's personal
// data on the retention schedule.
type Rating struct {
	Score   int    `json:"score"`
	Reason  string `json:"reason,omitempty"`
	Comment string `json:"comment,omitempty"`
	// Channel is where the citizen answered: web (the tracking page on
	// their phone), counter (the screen at the counter) or totem.
	Channel string    `json:"channel"`
	At      time.Time `json:"at"`
}

// Rating channels.
const (
	RatedOnWeb     = "web"
	RatedAtCounter = "counter"
	RatedAtTotem   = "totem"
)

// RatingReason is one entry of the survey's short list of reasons.
type RatingReason struct {
	Code string `json:"code"`
	Text Text   `json:"text"`
}

// RatingReasons is the fixed list the survey offers: short enough to read
// on a phone, the same for good and bad answers (what mattered most).
var RatingReasons = []RatingReason{
	{Code: "attesa", Text: Text{IT: "Tempo di attesa", EN: "Waiting time"}},
	{Code: "cortesia", Text: Text{IT: "Cortesia", EN: "Courtesy"}},
	{Code: "competenza", Text: Text{IT: "Competenza", EN: "Competence"}},
	{Code: "chiarezza", Text: Text{IT: "Chiarezza delle informazioni", EN: "Clear information"}},
	{Code: "esito", Text: Text{IT: "Esito della pratica", EN: "Outcome of the request"}},
	{Code: "ambiente", Text: Text{IT: "Ambiente e accessibilità", EN: "Premises and accessibility"}},
}

// MaxRatingComment bounds the survey's comment (characters).
const MaxRatingComment = 500

// RatingWindow is how long after the end of a visit it can be rated.
const RatingWindow = 48 * time.Hour

// RateRequest is one answer to the survey. The visit is named by its
// ticket id or by its tracking token (the citizen's link).
type RateRequest struct {
	TicketID string
	Token    string
	Score    int
	Reason   string
	Comment  string
	Channel  string
	// By is who submitted it: "citizen", a totem or a counter screen.
	By string
}

// ErrAlreadyRated refuses a second answer for the same visit.
var ErrAlreadyRated = &Error{Kind: KindConflict, Code: "already_rated", Message: "this visit has already been rated: one answer per visit"}

// validRating checks the answer's fields before it reaches the writer.
func validRating(r *RateRequest) error {
	if r.Score < 1 || r.Score > 5 {
		return FieldError("invalid_score", "score", "score must be 1 to 5")
	}
	if r.Reason != "" {
		known := false
		for _, rr := range RatingReasons {
			known = known || rr.Code == r.Reason
		}
		if !known {
			codes := make([]string, len(RatingReasons))
			for i, rr := range RatingReasons {
				codes[i] = rr.Code
			}
			return FieldError("invalid_reason", "reason", "reason must be one of %s", strings.Join(codes, ", "))
		}
	}
	r.Comment = strings.TrimSpace(r.Comment)
	if err := validText("comment", r.Comment, MaxRatingComment, false); err != nil {
		return err
	}
	switch r.Channel {
	case "":
		r.Channel = RatedOnWeb
	case RatedOnWeb, RatedAtCounter, RatedAtTotem:
	default:
		return FieldError("invalid_channel", "channel", "channel must be web, counter or totem")
	}
	return nil
}

// Rate records the citizen's rating of a finished visit: once per visit,
// only for a visit that was served (done), within RatingWindow of its end.
// Every refusal is a coded error and changes nothing.
func (e *Engine) Rate(ctx context.Context, r RateRequest) (*Ticket, error) {
	if err := validRating(&r); err != nil {
		return nil, err
	}
	if r.By == "" {
		r.By = "citizen"
	}
	v, err := e.do(ctx, r.By, func(tx *txn) (any, error) {
		t, err := tx.ratedVisit(r)
		if err != nil {
			return nil, err
		}
		switch {
		case t.Status == StatusNoShow || t.Status == StatusCancelled:
			return nil, Errorf(KindConflict, "visit_not_served", "visit %s ended without a service (%s): there is nothing to rate", t.Number, t.Status)
		case t.Status != StatusDone:
			return nil, Errorf(KindConflict, "visit_not_finished", "visit %s is not finished yet (%s): rate it once the service has ended", t.Number, t.Status)
		case t.Rating != nil:
			return nil, ErrAlreadyRated
		case t.ClosedAt != nil && tx.now.Sub(*t.ClosedAt) > RatingWindow:
			return nil, Errorf(KindConflict, "rating_closed", "visit %s ended more than %d hours ago: the survey is closed", t.Number, int(RatingWindow/time.Hour))
		}
		t.Rating = &Rating{Score: r.Score, Reason: r.Reason, Comment: r.Comment, Channel: r.Channel, At: tx.now}
		// The event carries the score and the reason, never the comment
		// (free text stays with the visit and is purged with it).
		ev := tx.emit(EventTicketRated, EventData{TicketID: t.ID, Number: t.Number, Service: t.Service, Counter: t.Counter, Status: t.Status,
			Channel: r.Channel, Score: r.Score, Reason: r.Reason})
		tx.putTicket(t, &ev)
		return t.Clone(), nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Ticket), nil
}

// ratedVisit finds the visit an answer is for: in memory, else (by id) in
// the store, for a visit of a past day.
func (tx *txn) ratedVisit(r RateRequest) (*Ticket, error) {
	e := tx.e
	if r.Token != "" {
		if id, ok := e.byToken[r.Token]; ok {
			return e.tickets[id], nil
		}
		return nil, &Error{Kind: KindNotFound, Code: ErrTicketNotFound.Code, Message: "no such visit: the link is wrong or has expired"}
	}
	if t, ok := e.tickets[r.TicketID]; ok {
		return t, nil
	}
	t, err := e.store.Ticket(r.TicketID)
	if err != nil {
		if ErrorKind(err) == KindNotFound {
			return nil, &Error{Kind: KindNotFound, Code: ErrTicketNotFound.Code, Message: "no such visit"}
		}
		return nil, err
	}
	return t, nil
}

// FeedbackVisit is the visit a counter's feedback screen offers to rate:
// the last one served there, if it ended within window and is not rated.
func (e *Engine) FeedbackVisit(counterID string, window time.Duration) (*Ticket, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if _, ok := e.counters[counterID]; !ok {
		return nil, ErrCounterNotFound
	}
	now := e.clock()
	var last *Ticket
	for _, t := range e.tickets {
		if t.Counter != counterID || t.ClosedAt == nil || t.Status != StatusDone {
			continue
		}
		if last == nil || t.ClosedAt.After(*last.ClosedAt) || t.ClosedAt.Equal(*last.ClosedAt) && t.ID > last.ID {
			last = t
		}
	}
	if last == nil || last.Rating != nil || now.Sub(*last.ClosedAt) > window {
		return nil, nil
	}
	// A new call at the counter means the next citizen is there.
	if c := e.counters[counterID]; c.Ticket != "" {
		return nil, nil
	}
	return last.Clone(), nil
}
