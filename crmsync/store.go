package crmsync

import (
	"encoding/binary"
	"encoding/json"
	"sort"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/boltstore"
	bolt "go.etcd.io/bbolt"
)

// crmsync's buckets in the hub's bbolt file, created at open. A lane is
// "visit/TICKET_ID" or "report/PROTOCOL".
var (
	bMeta       = []byte("crmsync_meta")       // cursor, totals, last error, breakers, reconciliation
	bPending    = []byte("crmsync_pending")    // lane → pendingEntry (small: scanned every round)
	bPayload    = []byte("crmsync_payload")    // lane → hub.OutboxRecord (the latest snapshot)
	bSent       = []byte("crmsync_sent")       // lane → sentEntry (last delivered)
	bDead       = []byte("crmsync_dead")       // seq → deadEntry
	bDeadLanes  = []byte("crmsync_dead_lanes") // lane → seq of its dead letter
	bReduce     = []byte("crmsync_reduce")     // ticket id → "": delivered closed visits whose personal data the hub must reduce
	allBuckets  = [][]byte{bMeta, bPending, bPayload, bSent, bDead, bDeadLanes, bReduce}
	kCursor     = []byte("cursor")
	kDelivered  = []byte("delivered_total")
	kDiscarded  = []byte("discarded_total")
	kSuperseded = []byte("superseded_total")
	kLastError  = []byte("last_error")
	kLastSent   = []byte("last_delivered_at")
	kBreakers   = []byte("breakers")
	kReconDay   = []byte("reconciled_day")
	kLastRecon  = []byte("last_reconcile")
)

// Lane kinds.
const (
	KindVisit  = "visit"
	KindReport = "report"
)

func laneOf(r *hub.OutboxRecord) (lane, kind, key string) {
	switch {
	case r.Ticket != nil:
		id := r.TicketID
		if id == "" {
			id = r.Ticket.ID
		}
		return KindVisit + "/" + id, KindVisit, id
	case r.Report != nil:
		return KindReport + "/" + r.Report.Protocol, KindReport, r.Report.Protocol
	}
	return "", "", ""
}

// change is one outbox record collapsed into a lane.
type change struct {
	Seq uint64    `json:"seq"`
	At  time.Time `json:"at"`
}

// pendingEntry is a lane with a state not yet delivered. Seq is the
// outbox seq of the snapshot in crmsync_payload (the latest change);
// Changes are the undelivered changes collapsed into it.
type pendingEntry struct {
	Lane        string    `json:"lane"`
	Kind        string    `json:"kind"`
	Key         string    `json:"key"`
	Seq         uint64    `json:"seq"`
	Type        string    `json:"type"`
	Changes     []change  `json:"changes"`
	Attempts    int       `json:"attempts"`
	NextAt      time.Time `json:"next_at"`
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at"`
	LastStatus  int       `json:"last_status,omitempty"`
	// Held is the seq of the lane's dead letter: the lane waits for its
	// replay (or discard), so nothing newer overtakes it.
	Held uint64 `json:"held,omitempty"`
	// MaybeSent is set (durably) before a non-idempotent call (Open311
	// POST): a later attempt looks the report up before posting again.
	MaybeSent bool `json:"maybe_sent,omitempty"`
	// Post is set (durably) before every report POST and cleared when
	// the attempt's outcome is recorded: left behind, it tells the next
	// run that a process stopped (or was killed) during the POST, which
	// may still land at the CRM (Worker.recoverPosts).
	Post   *postMark `json:"post,omitempty"`
	Origin string    `json:"origin"` // outbox, reconcile, replay
}

// postMark is a report POST under way: started At by the worker's clock,
// bounded by the attempt timeout of the process that made it (Until).
type postMark struct {
	At    time.Time `json:"at"`
	Until time.Time `json:"until"`
}

const maxChanges = 64

func (p *pendingEntry) oldest() time.Time {
	if len(p.Changes) == 0 {
		return time.Time{}
	}
	return p.Changes[0].At
}

func (p *pendingEntry) addChange(c change) {
	p.Changes = append(p.Changes, c)
	if len(p.Changes) > maxChanges {
		// Keep the oldest (its time is the lane's age) and the newest.
		p.Changes = append(p.Changes[:1], p.Changes[len(p.Changes)-maxChanges+1:]...)
	}
}

// sentEntry is the last delivery of a lane.
type sentEntry struct {
	Kind             string    `json:"kind"`
	Key              string    `json:"key"`
	Seq              uint64    `json:"seq"`
	Day              string    `json:"day"`
	At               time.Time `json:"at"`
	ServiceRequestID string    `json:"service_request_id,omitempty"`
}

// DeadLetter is a change the CRM refused for good, kept with its
// snapshot until an admin replays or discards it. It carries no
// personal data: the listing shows ticket number, service and status.
type DeadLetter struct {
	Seq        uint64    `json:"seq"`
	Lane       string    `json:"lane"`
	Kind       string    `json:"kind"`
	ExternalID string    `json:"external_id"`
	Type       string    `json:"type"`
	Number     string    `json:"number,omitempty"`
	Service    string    `json:"service,omitempty"`
	Status     string    `json:"status,omitempty"`
	Attempts   int       `json:"attempts"`
	EnqueuedAt time.Time `json:"enqueued_at"`
	DeadAt     time.Time `json:"dead_at"`
	HTTPStatus int       `json:"http_status,omitempty"`
	Code       string    `json:"code,omitempty"`
	Error      string    `json:"error"`
	Request    string    `json:"request,omitempty"`
	// Held reports that newer changes of the visit wait behind it; a
	// replay delivers the latest state.
	Held bool `json:"held"`
}

type deadEntry struct {
	DeadLetter
	Record hub.OutboxRecord `json:"record"`
}

// LastError is the most recent failure.
type lastError struct {
	Message string    `json:"message"`
	At      time.Time `json:"at"`
}

func itob(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

func btoi(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

func putJSON(b *bolt.Bucket, k []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(k, data)
}

func getJSON(b *bolt.Bucket, k []byte, v any) (bool, error) {
	if b == nil {
		return false, nil
	}
	data := b.Get(k)
	if data == nil {
		return false, nil
	}
	return true, json.Unmarshal(data, v)
}

func initBuckets(db *bolt.DB) error {
	return db.Update(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
}

func addCounter(meta *bolt.Bucket, k []byte, n uint64) error {
	return meta.Put(k, itob(btoi(meta.Get(k))+n))
}

// ---- status ------------------------------------------------------------------

// Status is the worker's state for the supervisor console and
// `sportello crmsync status`.
type Status struct {
	// Backlog is what still has to reach the CRM: visits and reports with
	// an undelivered state (dead-lettered ones included) plus outbox
	// records not yet read.
	Backlog int `json:"backlog"`
	// OldestPendingAt is when the oldest undelivered change happened.
	OldestPendingAt *time.Time `json:"oldest_pending_at"`
	// OldestPendingAgeS is how long ago that was, in seconds, by the
	// worker's clock (0 when nothing is pending).
	OldestPendingAgeS int64      `json:"oldest_pending_age_s"`
	LastError         string     `json:"last_error"`
	LastErrorAt       *time.Time `json:"last_error_at"`
	DeliveredTotal    uint64     `json:"delivered_total"`
	DeadLetters       int        `json:"dead_letters"`
	// BreakerState is the worst of the peers' breakers: closed,
	// half_open or open.
	BreakerState   string               `json:"breaker_state"`
	Peers          map[string]PeerState `json:"peers"`
	Cursor         uint64               `json:"cursor"`
	Unread         int                  `json:"unread"`
	Pending        int                  `json:"pending"`
	Held           int                  `json:"held"`
	InFlight       int                  `json:"in_flight"`
	DiscardedTotal uint64               `json:"discarded_total"`
	// SupersededTotal counts the states the CRM refused as older than
	// the one it held (a version guard answer): not errors, nothing lost.
	SupersededTotal uint64           `json:"superseded_total"`
	LastDeliveredAt *time.Time       `json:"last_delivered_at"`
	LastReconcile   *ReconcileReport `json:"last_reconcile,omitempty"`
	// Running is false when read from a stopped hub's store.
	Running bool `json:"running"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

const maxUnread = 10_000

// readStatus reads the durable part of the status.
func readStatus(st *boltstore.Store) (Status, error) {
	s := Status{BreakerState: BreakerClosed, Peers: map[string]PeerState{}}
	var oldest time.Time
	err := st.DB().View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		if meta == nil {
			return nil
		}
		s.Cursor = btoi(meta.Get(kCursor))
		s.DeliveredTotal = btoi(meta.Get(kDelivered))
		s.DiscardedTotal = btoi(meta.Get(kDiscarded))
		s.SupersededTotal = btoi(meta.Get(kSuperseded))
		var le lastError
		if ok, _ := getJSON(meta, kLastError, &le); ok {
			s.LastError, s.LastErrorAt = le.Message, timePtr(le.At)
		}
		var ls time.Time
		if ok, _ := getJSON(meta, kLastSent, &ls); ok {
			s.LastDeliveredAt = timePtr(ls)
		}
		var rr ReconcileReport
		if ok, _ := getJSON(meta, kLastRecon, &rr); ok {
			s.LastReconcile = &rr
		}
		_, _ = getJSON(meta, kBreakers, &s.Peers)
		if err := tx.Bucket(bPending).ForEach(func(k, v []byte) error {
			var p pendingEntry
			if err := json.Unmarshal(v, &p); err != nil {
				return err
			}
			s.Pending++
			if p.Held != 0 {
				s.Held++
			}
			if o := p.oldest(); !o.IsZero() && (oldest.IsZero() || o.Before(oldest)) {
				oldest = o
			}
			return nil
		}); err != nil {
			return err
		}
		return tx.Bucket(bDead).ForEach(func(k, v []byte) error {
			var d deadEntry
			if err := json.Unmarshal(v, &d); err != nil {
				return err
			}
			s.DeadLetters++
			if oldest.IsZero() || d.EnqueuedAt.Before(oldest) {
				oldest = d.EnqueuedAt
			}
			return nil
		})
	})
	if err != nil {
		return s, err
	}
	_, recs, err := st.Outbox(s.Cursor, maxUnread)
	if err != nil {
		return s, err
	}
	s.Unread = len(recs)
	if len(recs) > 0 && (oldest.IsZero() || recs[0].At.Before(oldest)) {
		oldest = recs[0].At
	}
	// A dead lane without newer changes has no pending entry: count it.
	deadOnly := s.DeadLetters - s.Held
	if deadOnly < 0 {
		deadOnly = 0
	}
	s.Backlog = s.Unread + s.Pending + deadOnly
	s.OldestPendingAt = timePtr(oldest)
	for _, p := range s.Peers {
		s.BreakerState = worse(s.BreakerState, p.State)
	}
	return s, nil
}

// ReadStatus reads the status from a store no worker is running on (the
// `sportello crmsync status` subcommand on a stopped hub).
func ReadStatus(st *boltstore.Store) (Status, error) { return readStatus(st) }

// ---- dead letters --------------------------------------------------------------

func listDead(db *bolt.DB) ([]DeadLetter, error) {
	var out []DeadLetter
	err := db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bDead)
		if b == nil {
			return nil
		}
		pend := tx.Bucket(bPending)
		return b.ForEach(func(k, v []byte) error {
			var d deadEntry
			if err := json.Unmarshal(v, &d); err != nil {
				return err
			}
			var p pendingEntry
			if ok, _ := getJSON(pend, []byte(d.Lane), &p); ok && p.Held == d.Seq {
				d.Held = true
			}
			out = append(out, d.DeadLetter)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, err
}

// ListDead lists the dead letters of a stopped hub's store, oldest first.
func ListDead(st *boltstore.Store) ([]DeadLetter, error) { return listDead(st.DB()) }

// ErrDeadLetterNotFound is returned for an unknown dead-letter seq.
var ErrDeadLetterNotFound = &hub.Error{Kind: hub.KindNotFound, Code: "dead_letter_not_found", Message: "no such dead letter"}

// replayDead puts a dead letter's lane back in delivery: if newer changes
// of the visit wait behind it, the latest of them is delivered (it
// supersedes the refused one, as every change carries the full state);
// else the refused snapshot itself, with fresh attempts.
func replayDead(db *bolt.DB, seq uint64) (DeadLetter, error) {
	var dl DeadLetter
	err := db.Update(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		dead, pend, pay := tx.Bucket(bDead), tx.Bucket(bPending), tx.Bucket(bPayload)
		var d deadEntry
		ok, err := getJSON(dead, itob(seq), &d)
		if err != nil {
			return err
		}
		if !ok {
			return ErrDeadLetterNotFound
		}
		dl = d.DeadLetter
		var p pendingEntry
		held, err := getJSON(pend, []byte(d.Lane), &p)
		if err != nil {
			return err
		}
		if held {
			p.Held, p.Attempts, p.NextAt, p.Origin = 0, 0, time.Time{}, "replay"
			if len(p.Changes) == 0 || d.EnqueuedAt.Before(p.oldest()) {
				p.Changes = append([]change{{Seq: d.Seq, At: d.EnqueuedAt}}, p.Changes...)
			}
		} else {
			p = pendingEntry{Lane: d.Lane, Kind: d.Kind, Key: d.ExternalID, Seq: d.Seq, Type: d.Type,
				Changes: []change{{Seq: d.Seq, At: d.EnqueuedAt}}, Origin: "replay",
				// A report that reached the CRM before being refused? Look first.
				MaybeSent: d.Kind == KindReport}
			if err := putJSON(pay, []byte(d.Lane), d.Record); err != nil {
				return err
			}
		}
		if err := putJSON(pend, []byte(d.Lane), p); err != nil {
			return err
		}
		if err := dead.Delete(itob(seq)); err != nil {
			return err
		}
		return tx.Bucket(bDeadLanes).Delete([]byte(d.Lane))
	})
	return dl, err
}

// ReplayDead replays a dead letter on a stopped hub's store; the next
// worker delivers it.
func ReplayDead(st *boltstore.Store, seq uint64) (DeadLetter, error) {
	return replayDead(st.DB(), seq)
}

// discardDead drops a dead letter for good (the admin decided the CRM
// must not get it); newer changes held behind it are released.
func discardDead(db *bolt.DB, seq uint64) (DeadLetter, error) {
	var dl DeadLetter
	err := db.Update(func(tx *bolt.Tx) error {
		dead := tx.Bucket(bDead)
		if dead == nil {
			return ErrDeadLetterNotFound
		}
		var d deadEntry
		ok, err := getJSON(dead, itob(seq), &d)
		if err != nil {
			return err
		}
		if !ok {
			return ErrDeadLetterNotFound
		}
		dl = d.DeadLetter
		pend := tx.Bucket(bPending)
		var p pendingEntry
		if held, err := getJSON(pend, []byte(d.Lane), &p); err != nil {
			return err
		} else if held {
			p.Held, p.Attempts, p.NextAt = 0, 0, time.Time{}
			if err := putJSON(pend, []byte(d.Lane), p); err != nil {
				return err
			}
		}
		if err := dead.Delete(itob(seq)); err != nil {
			return err
		}
		if err := tx.Bucket(bDeadLanes).Delete([]byte(d.Lane)); err != nil {
			return err
		}
		return addCounter(tx.Bucket(bMeta), kDiscarded, 1)
	})
	return dl, err
}

// DiscardDead discards a dead letter on a stopped hub's store.
func DiscardDead(st *boltstore.Store, seq uint64) (DeadLetter, error) {
	return discardDead(st.DB(), seq)
}

// resetCursor moves the outbox cursor back (or forward): the records after
// it are read again and their visits re-delivered (harmless: the keyed
// upsert makes a repeat a no-op in the CRM).
func resetCursor(db *bolt.DB, to uint64) error {
	return db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bMeta)
		if err != nil {
			return err
		}
		return meta.Put(kCursor, itob(to))
	})
}

// ResetCursor sets the cursor of a stopped hub's store.
func ResetCursor(st *boltstore.Store, to uint64) error { return resetCursor(st.DB(), to) }

// Pending is one lane waiting for delivery, for inspection.
type Pending struct {
	Lane       string     `json:"lane"`
	Kind       string     `json:"kind"`
	ExternalID string     `json:"external_id"`
	Seq        uint64     `json:"seq"`
	Type       string     `json:"type"`
	Changes    int        `json:"changes"`
	Since      *time.Time `json:"since"`
	Attempts   int        `json:"attempts"`
	NextAt     *time.Time `json:"next_at"`
	LastError  string     `json:"last_error,omitempty"`
	Held       uint64     `json:"held,omitempty"`
	Origin     string     `json:"origin"`
}

func listPending(db *bolt.DB) ([]Pending, error) {
	var out []Pending
	err := db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bPending)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var p pendingEntry
			if err := json.Unmarshal(v, &p); err != nil {
				return err
			}
			out = append(out, Pending{Lane: p.Lane, Kind: p.Kind, ExternalID: p.Key, Seq: p.Seq, Type: p.Type, Changes: len(p.Changes),
				Since: timePtr(p.oldest()), Attempts: p.Attempts, NextAt: timePtr(p.NextAt), LastError: p.LastError, Held: p.Held, Origin: p.Origin})
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, err
}

// ListPending lists the lanes waiting in a stopped hub's store.
func ListPending(st *boltstore.Store) ([]Pending, error) { return listPending(st.DB()) }
