package kpi_test

import (
	"encoding/json"
	"time"

	"github.com/comune-rc/sportello/hub"
)

// logSource is an event log in memory with stored aggregates: the
// computation's input written by hand, so that the expected figures can
// be worked out on paper.
type logSource struct {
	events []hub.Event
	stored map[string][]byte
}

func (s *logSource) EventsSince(since uint64, limit int) ([]hub.Event, bool, error) {
	var out []hub.Event
	for _, e := range s.events {
		if e.Seq > since && (limit <= 0 || len(out) < limit) {
			out = append(out, e)
		}
	}
	ok := len(s.events) == 0 || s.events[0].Seq <= since+1
	return out, ok, nil
}

func (s *logSource) Aggregates(from, to string) (map[string][]byte, error) {
	out := map[string][]byte{}
	for k, v := range s.stored {
		if k >= from && k <= to {
			out[k] = append([]byte(nil), v...)
		}
	}
	return out, nil
}

func (s *logSource) PutAggregates(days map[string][]byte) error {
	if s.stored == nil {
		s.stored = map[string][]byte{}
	}
	for k, v := range days {
		s.stored[k] = v
	}
	return nil
}

var rome, _ = time.LoadLocation("Europe/Rome")

// at is a time on 2 November 2026 (a Monday) in Rome.
func at(hhmm string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", "2026-11-02 "+hhmm, rome)
	if err != nil {
		panic(err)
	}
	return t
}

// logBuilder appends events with increasing seqs.
type logBuilder struct{ src *logSource }

func (b *logBuilder) add(typ string, when time.Time, d hub.EventData) {
	b.src.events = append(b.src.events, hub.Event{Seq: uint64(len(b.src.events) + 1), Type: typ, At: when, Data: d})
}

func (b *logBuilder) issued(id, service, hhmm string, slot string) {
	d := hub.EventData{TicketID: id, Service: service}
	if slot != "" {
		s := at(slot)
		d.Slot = &s
	}
	b.add(hub.EventTicketIssued, at(hhmm), d)
}

func (b *logBuilder) called(id, hhmm, counter, clerk string) {
	b.add(hub.EventTicketCalled, at(hhmm), hub.EventData{TicketID: id, Counter: counter, Clerk: clerk})
}

func (b *logBuilder) simple(typ, id, hhmm, counter string) {
	b.add(typ, at(hhmm), hub.EventData{TicketID: id, Counter: counter})
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
