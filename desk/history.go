package desk

import (
	"context"
	"net/http"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/httpapi"
	"github.com/labstack/echo/v4"
)

// HistoryFunc fetches a citizen's CzRM timeline by fiscal code (the hub
// wires crmsync's binding in).
type HistoryFunc func(ctx context.Context, fiscalCode string) (entries []hub.HistoryEntry, known bool, err error)

type historyJSON struct {
	// Available is false when the hub has no CzRM, or the visit carries
	// no fiscal code (or no longer: it was reduced).
	Available bool               `json:"available"`
	Known     bool               `json:"known"`
	Entries   []hub.HistoryEntry `json:"entries"`
	Error     string             `json:"error,omitempty"`
}

// history serves GET /desk/history?ticket=ID: the CzRM history of the
// citizen of the ticket at the clerk's counter — only of the person in
// front of the clerk, and the fiscal code never leaves the hub (the hub
// asks the CzRM; the page gets the timeline).
func (p *pages) history(c echo.Context) error {
	if err := staff(c); err != nil {
		return err
	}
	pr, _ := httpapi.PrincipalOf(c)
	id := c.QueryParam("ticket")
	c.Response().Header().Set("Cache-Control", "no-store")
	var tv *hub.TicketView
	for _, v := range p.cfg.Engine.Counters() {
		if v.Counter.Clerk == pr.ID && v.Counter.State != hub.CounterClosed && v.Ticket != nil && v.Ticket.Ticket.ID == id {
			tv = v.Ticket
		}
	}
	if tv == nil {
		return hub.Errorf(hub.KindForbidden, "not_at_counter", "the ticket is not the current one at your place")
	}
	out := historyJSON{Entries: []hub.HistoryEntry{}}
	cz := tv.Ticket.Citizen
	if p.cfg.History == nil || cz == nil || cz.FiscalCode == "" {
		return c.JSON(http.StatusOK, out)
	}
	out.Available = true
	ctx, cancel := context.WithTimeout(c.Request().Context(), 5*time.Second)
	defer cancel()
	es, known, err := p.cfg.History(ctx, cz.FiscalCode)
	if err != nil {
		out.Error = "il CzRM non risponde · the CzRM does not answer"
		return c.JSON(http.StatusOK, out)
	}
	out.Known = known
	if es != nil {
		out.Entries = es
	}
	return c.JSON(http.StatusOK, out)
}
