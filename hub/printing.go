package hub

import (
	"context"
	"sort"
	"time"
)

// PrintJobs returns the tickets totem still has to print, oldest first.
// Jobs are the tickets themselves (Print == pending), so they are as
// durable as the tickets: a hub restart loses none.
func (e *Engine) PrintJobs(totem string) []*Ticket {
	e.mu.RLock()
	defer e.mu.RUnlock()
	var out []*Ticket
	for _, t := range e.tickets {
		// A visit that ended before its ticket came out needs no paper.
		if t.IssuedBy == totem && t.Print == PrintPending && !t.Status.Closed() {
			out = append(out, t.Clone())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PrintAt.Before(out[j].PrintAt) })
	return out
}

// PrintResult records what a totem's agent did with a job. Only the totem
// that issued the ticket may report on it, and only once: a second report
// (a retry after a lost answer) changes nothing and returns the ticket.
func (e *Engine) PrintResult(ctx context.Context, totem, ticketID string, ok bool, reason string) (*Ticket, error) {
	v, err := e.do(ctx, totem, func(tx *txn) (any, error) {
		t, found := tx.e.tickets[ticketID]
		if !found {
			return nil, ErrTicketNotFound
		}
		if t.IssuedBy != totem || t.Print == "" {
			return nil, Errorf(KindForbidden, "not_your_job", "ticket %s is not a print job of %s", t.Number, totem)
		}
		if t.Print != PrintPending {
			return t.Clone(), nil
		}
		if len(reason) > 200 {
			reason = reason[:200]
		}
		typ := EventTicketPrinted
		t.Print, t.PrintError = PrintDone, ""
		if !ok {
			typ = EventTicketPrintFailed
			t.Print, t.PrintError = PrintFailed, reason
		}
		ev := tx.emit(typ, EventData{TicketID: t.ID, Number: t.Number, Service: t.Service, Status: t.Status, Totem: totem, Reason: reason})
		tx.putTicket(t, &ev)
		return t.Clone(), nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Ticket), nil
}

// Reprint puts a ticket back in its totem's print queue (a desk asked for
// it, after a failure).
func (e *Engine) Reprint(ctx context.Context, ticketID, by string) (*Ticket, error) {
	v, err := e.do(ctx, by, func(tx *txn) (any, error) {
		t, found := tx.e.tickets[ticketID]
		if !found {
			return nil, ErrTicketNotFound
		}
		if t.Print == "" {
			return nil, Errorf(KindConflict, "not_printable", "ticket %s was not issued at a totem", t.Number)
		}
		if t.Status.Closed() {
			return nil, Errorf(KindConflict, "ticket_closed", "ticket %s is %s", t.Number, t.Status)
		}
		t.Print, t.PrintError = PrintPending, ""
		// The job's age counts from the reprint request.
		t.PrintAt = tx.now
		ev := tx.emit(EventTicketReprint, EventData{TicketID: t.ID, Number: t.Number, Service: t.Service, Status: t.Status, Totem: t.IssuedBy})
		tx.putTicket(t, &ev)
		return t.Clone(), nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Ticket), nil
}

// Help records that a citizen at a totem asked for help; the supervisor
// console shows it.
func (e *Engine) Help(ctx context.Context, totem, by string) error {
	_, err := e.do(ctx, by, func(tx *txn) (any, error) {
		tx.emit(EventTotemHelp, EventData{Totem: totem})
		return nil, nil
	})
	return err
}

// JobMaxAge is how old a print job may be and still be printed: after it,
// the citizen has left the totem and a late ticket would only confuse the
// next one.
const JobMaxAge = 3 * time.Minute
