package boltstore

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/comune-rc/sportello/hub"
	bolt "go.etcd.io/bbolt"
)

var _ hub.PastTickets = (*Store)(nil)

// PutAggregates stores daily KPI aggregates, keyed by day (YYYY-MM-DD,
// which sorts by date). The values are opaque here: the kpi package owns
// their shape. They hold no personal data of citizens, so they outlive
// both event pruning and the retention purge.
func (s *Store) PutAggregates(days map[string][]byte) error {
	if len(days) == 0 {
		return nil
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketKPIDays)
		for day, v := range days {
			if err := b.Put([]byte(day), v); err != nil {
				return err
			}
		}
		return nil
	})
}

// Aggregates returns the stored daily aggregates of the days from..to
// (inclusive, YYYY-MM-DD), copied out of the transaction.
func (s *Store) Aggregates(from, to string) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketKPIDays)
		if b == nil {
			return nil // a read-only store of an older schema
		}
		c := b.Cursor()
		for k, v := c.Seek([]byte(from)); k != nil && bytes.Compare(k, []byte(to)) <= 0; k, v = c.Next() {
			out[string(k)] = append([]byte(nil), v...)
		}
		return nil
	})
	return out, err
}

// purgeScanDays bounds how far back ClosedTicketsBefore looks: the
// retention job runs daily, so older days were purged on earlier runs.
const purgeScanDays = 62

// ClosedTicketsBefore implements hub.PastTickets for the retention job:
// the closed tickets of the purgeScanDays days up to cutoff that ended
// before it.
func (s *Store) ClosedTicketsBefore(cutoff time.Time, fn func(t *hub.Ticket)) error {
	from := []byte(cutoff.AddDate(0, 0, -purgeScanDays).Format("2006-01-02"))
	to := []byte(cutoff.Format("2006-01-02") + "\xff")
	return s.db.View(func(tx *bolt.Tx) error {
		tb := tx.Bucket(bucketTickets)
		c := tx.Bucket(bucketTicketsByDay).Cursor()
		for k, _ := c.Seek(from); k != nil && bytes.Compare(k, to) <= 0; k, _ = c.Next() {
			i := bytes.IndexByte(k, 0)
			if i < 0 {
				continue
			}
			v := tb.Get(k[i+1:])
			if v == nil {
				continue
			}
			var t hub.Ticket
			if err := json.Unmarshal(v, &t); err != nil {
				return err
			}
			if t.Status.Closed() && t.ClosedAt != nil && t.ClosedAt.Before(cutoff) {
				fn(&t)
			}
		}
		return nil
	})
}
