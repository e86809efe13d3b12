// Package boltstore is the hub's durable store on bbolt: one file, one
// writer, every batch of the engine in one fsynced transaction.
package boltstore

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/comune-rc/sportello/hub"
	bolt "go.etcd.io/bbolt"
)

// Bucket names. Keys of sequence buckets are big-endian uint64 so that
// they sort numerically.
var (
	bucketMeta         = []byte("meta")
	bucketEvents       = []byte("events")
	bucketTickets      = []byte("tickets")
	bucketTicketsByDay = []byte("tickets_by_day")
	bucketOpen         = []byte("open_tickets")
	bucketCounters     = []byte("counters")
	bucketAppointments = []byte("appointments")
	bucketNumbers      = []byte("numbers")
	bucketIdem         = []byte("idempotency")
	bucketOutbox       = []byte("outbox")
	bucketUsers        = []byte("users")
	bucketSessions     = []byte("sessions")
	bucketDevices      = []byte("devices")
	bucketReports      = []byte("reports")
	bucketLogins       = []byte("logins")
	bucketCatalogue    = []byte("catalogue")
	bucketKPIDays      = []byte("kpi_days")
	allBuckets         = [][]byte{bucketCatalogue, bucketKPIDays, bucketReports, bucketLogins, bucketMeta, bucketEvents, bucketTickets, bucketTicketsByDay, bucketOpen, bucketCounters, bucketAppointments, bucketNumbers, bucketIdem, bucketOutbox, bucketUsers, bucketSessions, bucketDevices}
	keySchema          = []byte("schema_version")
	keyNotice          = []byte("notice")
	keyCatalogue       = []byte("catalogue")
)

// Options tune the store.
type Options struct {
	// KeepEvents is how many events are kept for live-feed replay
	// (default 200,000; older ones are pruned at open).
	KeepEvents int
	// NoSync skips fsync: only for tests that measure something else.
	NoSync bool
	// Timeout bounds the wait for the file lock (default 2 s): a second
	// hub on the same directory fails at start instead of hanging.
	Timeout time.Duration
	// ReadOnly opens the file for reading only (backups of a stopped hub):
	// no migration, no pruning, a shared lock.
	ReadOnly bool
	Logger   *slog.Logger
}

// Store is the bbolt store. It implements hub.Store and hub.AuthStore.
type Store struct {
	db   *bolt.DB
	opts Options
}

var (
	_ hub.Store     = (*Store)(nil)
	_ hub.AuthStore = (*Store)(nil)
)

// Open opens (or creates) the store file, creates the buckets and runs the
// migrations.
func Open(path string, opts Options) (*Store, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Second
	}
	if opts.KeepEvents <= 0 {
		opts.KeepEvents = 200_000
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.Timeout, NoSync: opts.NoSync, ReadOnly: opts.ReadOnly, NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("open %s: the store is in use by another process (is a hub already running on this data directory?)", path)
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s := &Store{db: db, opts: opts}
	if opts.ReadOnly {
		return s, nil
	}
	if err := s.init(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return s, nil
}

// DB exposes the bbolt handle to packages that keep their own buckets in
// the same file (crmsync's outbox cursor, for one).
func (s *Store) DB() *bolt.DB { return s.db }

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

func (s *Store) init() error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := s.migrate(); err != nil {
		return err
	}
	return s.prune()
}

// migrations are applied in order, each in its own transaction together
// with the new schema version; the version is their count.
var migrations = []func(tx *bolt.Tx) error{
	// 1: the initial schema (buckets are created at open).
	func(tx *bolt.Tx) error { return nil },
	// 2: the admin pages' catalogue of services and counters, laid over
	// the site file at start (hub.Catalogue); empty until an admin saves.
	func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketCatalogue)
		return err
	},
	// 3: daily KPI aggregates (kpi_days), kept when events are pruned and
	// personal data purged.
	func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketKPIDays)
		return err
	},
}

// SchemaVersion is the schema this code writes.
var SchemaVersion = len(migrations)

func (s *Store) migrate() error {
	var v int
	if err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketMeta).Get(keySchema); b != nil {
			v = int(binary.BigEndian.Uint64(b))
		}
		return nil
	}); err != nil {
		return err
	}
	if v > len(migrations) {
		return fmt.Errorf("the store has schema version %d, newer than this program's %d: run a newer sportello", v, len(migrations))
	}
	for i := v; i < len(migrations); i++ {
		err := s.db.Update(func(tx *bolt.Tx) error {
			if err := migrations[i](tx); err != nil {
				return err
			}
			return tx.Bucket(bucketMeta).Put(keySchema, itob(uint64(i+1)))
		})
		if err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		s.opts.Logger.Info("store migrated", "component", "store", "version", i+1)
	}
	return nil
}

// idemKeep is how long idempotency keys stay on disk; the engine honours
// them for its IdemTTL (at least 24 h), so this only bounds the bucket.
const idemKeep = 72 * time.Hour

// keepLogins bounds the login audit (failed logins can be made up by
// anyone, so it must not grow without limit).
const keepLogins = 50_000

// prune drops the oldest events beyond KeepEvents (replay from before them
// falls back to a snapshot), idempotency keys older than idemKeep and the
// oldest login records beyond keepLogins.
func (s *Store) prune() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		lb := tx.Bucket(bucketLogins)
		if excess := lb.Stats().KeyN - keepLogins; excess > 0 {
			c := lb.Cursor()
			for k, _ := c.First(); k != nil && excess > 0; k, _ = c.Next() {
				if err := c.Delete(); err != nil {
					return err
				}
				excess--
			}
		}
		ib := tx.Bucket(bucketIdem)
		var old [][]byte
		cutoff := time.Now().Add(-idemKeep)
		if err := ib.ForEach(func(k, v []byte) error {
			var r hub.IdemRecord
			if json.Unmarshal(v, &r) != nil || r.At.Before(cutoff) {
				old = append(old, append([]byte(nil), k...))
			}
			return nil
		}); err != nil {
			return err
		}
		for _, k := range old {
			if err := ib.Delete(k); err != nil {
				return err
			}
		}
		b := tx.Bucket(bucketEvents)
		n := b.Stats().KeyN
		excess := n - s.opts.KeepEvents
		if excess <= 0 {
			return nil
		}
		c := b.Cursor()
		for k, _ := c.First(); k != nil && excess > 0; k, _ = c.Next() {
			if err := c.Delete(); err != nil {
				return err
			}
			excess--
		}
		return nil
	})
}

func itob(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

func btoi(b []byte) uint64 { return binary.BigEndian.Uint64(b) }

func put(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

// Commit implements hub.Store: the whole batch in one transaction.
func (s *Store) Commit(batch *hub.Batch) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		ev := tx.Bucket(bucketEvents)
		for i := range batch.Events {
			e := &batch.Events[i]
			if err := put(ev, itob(e.Seq), e); err != nil {
				return err
			}
		}
		tb, byDay, open := tx.Bucket(bucketTickets), tx.Bucket(bucketTicketsByDay), tx.Bucket(bucketOpen)
		for _, t := range batch.Tickets {
			if err := put(tb, []byte(t.ID), t); err != nil {
				return err
			}
			if err := byDay.Put([]byte(t.Day+"\x00"+t.ID), nil); err != nil {
				return err
			}
			if t.Status.Closed() {
				if err := open.Delete([]byte(t.ID)); err != nil {
					return err
				}
			} else if err := open.Put([]byte(t.ID), nil); err != nil {
				return err
			}
		}
		cb := tx.Bucket(bucketCounters)
		for _, c := range batch.Counters {
			if err := put(cb, []byte(c.ID), c); err != nil {
				return err
			}
		}
		ab := tx.Bucket(bucketAppointments)
		for _, a := range batch.Appointments {
			if err := put(ab, []byte(a.Code), a); err != nil {
				return err
			}
		}
		nb := tx.Bucket(bucketNumbers)
		for k, n := range batch.Numbers {
			// Numbers only go up, even if two batches raced (they cannot:
			// one writer), so a number is never reissued.
			if old := nb.Get([]byte(k)); old != nil && btoi(old) >= uint64(n) {
				continue
			}
			if err := nb.Put([]byte(k), itob(uint64(n))); err != nil {
				return err
			}
		}
		ib := tx.Bucket(bucketIdem)
		for _, r := range batch.Idem {
			if err := put(ib, []byte(r.Key), r); err != nil {
				return err
			}
		}
		if batch.Notice != nil {
			if err := put(tx.Bucket(bucketMeta), keyNotice, batch.Notice); err != nil {
				return err
			}
		}
		if batch.Catalogue != nil {
			if err := put(tx.Bucket(bucketCatalogue), keyCatalogue, batch.Catalogue); err != nil {
				return err
			}
		}
		if err := commitAccounts(tx, batch); err != nil {
			return err
		}
		rb := tx.Bucket(bucketReports)
		for _, r := range batch.Reports {
			if err := put(rb, []byte(r.Protocol), r); err != nil {
				return err
			}
		}
		ob := tx.Bucket(bucketOutbox)
		for _, r := range batch.Outbox {
			seq, err := ob.NextSequence()
			if err != nil {
				return err
			}
			if err := put(ob, itob(seq), r); err != nil {
				return err
			}
		}
		return nil
	})
}

// Load implements hub.Store.
func (s *Store) Load(day string) (*hub.State, error) {
	st := &hub.State{Numbers: map[string]int{}}
	err := s.db.View(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bucketEvents).Cursor().Last(); k != nil {
			st.LastSeq = btoi(k)
		}
		if v := tx.Bucket(bucketMeta).Get(keyNotice); v != nil {
			_ = json.Unmarshal(v, &st.Notice) // a damaged notice is only a blank line
		}
		if v := tx.Bucket(bucketCatalogue).Get(keyCatalogue); v != nil {
			st.Catalogue = new(hub.Catalogue)
			if err := json.Unmarshal(v, st.Catalogue); err != nil {
				return fmt.Errorf("catalogue: %w", err)
			}
		}
		tb := tx.Bucket(bucketTickets)
		seen := map[string]bool{}
		load := func(id []byte) error {
			if seen[string(id)] {
				return nil
			}
			v := tb.Get(id)
			if v == nil {
				return nil
			}
			var t hub.Ticket
			if err := json.Unmarshal(v, &t); err != nil {
				return fmt.Errorf("ticket %s: %w", id, err)
			}
			seen[string(id)] = true
			st.Tickets = append(st.Tickets, &t)
			return nil
		}
		prefix := []byte(day + "\x00")
		c := tx.Bucket(bucketTicketsByDay).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			if err := load(k[len(prefix):]); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketOpen).ForEach(func(k, _ []byte) error { return load(k) }); err != nil {
			return err
		}
		if err := tx.Bucket(bucketCounters).ForEach(func(k, v []byte) error {
			var c hub.Counter
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("counter %s: %w", k, err)
			}
			st.Counters = append(st.Counters, &c)
			return nil
		}); err != nil {
			return err
		}
		if err := tx.Bucket(bucketAppointments).ForEach(func(k, v []byte) error {
			var a hub.Appointment
			if err := json.Unmarshal(v, &a); err != nil {
				return fmt.Errorf("appointment %s: %w", k, err)
			}
			st.Appointments = append(st.Appointments, &a)
			return nil
		}); err != nil {
			return err
		}
		nb := tx.Bucket(bucketNumbers)
		dayPrefix := []byte(day + "/")
		nc := nb.Cursor()
		for k, v := nc.Seek(dayPrefix); k != nil && bytes.HasPrefix(k, dayPrefix); k, v = nc.Next() {
			st.Numbers[string(k)] = int(btoi(v))
		}
		// Report protocol numbers run per year.
		yearKey := "reports/" + day[:4]
		if v := nb.Get([]byte(yearKey)); v != nil {
			st.Numbers[yearKey] = int(btoi(v))
		}
		if err := tx.Bucket(bucketIdem).ForEach(func(k, v []byte) error {
			var r hub.IdemRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return nil // a damaged key only loses its idempotency
			}
			st.Idem = append(st.Idem, r)
			return nil
		}); err != nil {
			return err
		}
		// The latest calls of the day, for the screens' history.
		ec := tx.Bucket(bucketEvents).Cursor()
		scanned := 0
		for k, v := ec.Last(); k != nil && scanned < 5000 && len(st.RecentCalls) < 20; k, v = ec.Prev() {
			scanned++
			var e hub.Event
			if err := json.Unmarshal(v, &e); err != nil {
				continue
			}
			if e.Type == hub.EventTicketCalled || e.Type == hub.EventTicketRecalled {
				st.RecentCalls = append([]hub.Event{e}, st.RecentCalls...)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// EventsSince implements hub.Store.
func (s *Store) EventsSince(since uint64, limit int) ([]hub.Event, bool, error) {
	var out []hub.Event
	ok := true
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		first, _ := c.First()
		last, _ := c.Last()
		if first == nil || since >= btoi(last) {
			return nil
		}
		start := since + 1
		if start < btoi(first) {
			// Events after since were pruned: say so, and give what is
			// kept (the audit wants it; the live feed sends a snapshot).
			ok = false
			start = btoi(first)
		}
		for k, v := c.Seek(itob(start)); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Next() {
			var e hub.Event
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("event %d: %w", btoi(k), err)
			}
			out = append(out, e)
		}
		return nil
	})
	return out, ok, err
}

// Ticket implements hub.Store.
func (s *Store) Ticket(id string) (*hub.Ticket, error) {
	var t *hub.Ticket
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketTickets).Get([]byte(id))
		if v == nil {
			return hub.ErrTicketNotFound
		}
		t = new(hub.Ticket)
		return json.Unmarshal(v, t)
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// Report implements hub.Store.
func (s *Store) Report(protocol string) (*hub.Report, error) {
	var r *hub.Report
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketReports).Get([]byte(protocol))
		if v == nil {
			return hub.ErrReportNotFound
		}
		r = new(hub.Report)
		return json.Unmarshal(v, r)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// WriteBackup implements hub.Store: a consistent copy from one read
// transaction, taken while the hub keeps working.
func (s *Store) WriteBackup(w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

// Outbox returns up to limit outbox records after seq, for the CzRM worker
// and tests.
func (s *Store) Outbox(after uint64, limit int) ([]uint64, []hub.OutboxRecord, error) {
	var seqs []uint64
	var recs []hub.OutboxRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketOutbox).Cursor()
		for k, v := c.Seek(itob(after + 1)); k != nil && (limit <= 0 || len(recs) < limit); k, v = c.Next() {
			var r hub.OutboxRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			seqs = append(seqs, btoi(k))
			recs = append(recs, r)
		}
		return nil
	})
	return seqs, recs, err
}

// DeleteOutbox removes outbox records by seq: the CzRM worker prunes what
// it has delivered, so that the citizen data of the snapshots do not
// linger. Unknown seqs are ignored.
func (s *Store) DeleteOutbox(seqs []uint64) error {
	if len(seqs) == 0 {
		return nil
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOutbox)
		for _, seq := range seqs {
			if err := b.Delete(itob(seq)); err != nil {
				return err
			}
		}
		return nil
	})
}
