package hub

import "time"

// AdviceWait is the estimated wait above which a ticket carries the
// "book an appointment or come back later" advice: the totem shows it next
// to the estimate, so that nobody is left to find out by waiting an hour.
const AdviceWait = 45 * time.Minute

// NeedsAdvice reports whether a ticket issued with estimate ewt carries the
// overload advice.
func NeedsAdvice(ewt time.Duration) bool { return ewt > AdviceWait }

// Advice reports whether the ticket, as the queue stands, carries the
// overload advice.
func (v TicketView) Advice() bool { return v.Ticket != nil && v.Position > 0 && NeedsAdvice(v.EWT) }
