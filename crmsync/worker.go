package crmsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/boltstore"
	bolt "go.etcd.io/bbolt"
)

// Config configures a Worker. Zero values take the defaults noted.
type Config struct {
	// Store is the hub's store: the worker reads its outbox and keeps its
	// own buckets in the same file. Required.
	Store *boltstore.Store
	// Upsert delivers visits; Open311 files reports. At least one is
	// required; lanes of a kind without a binding wait.
	Upsert  VisitBinding
	Open311 ReportBinding
	// Clock gives the time of schedules (backoff, breaker, Retry-After,
	// reconciliation). Default time.Now.
	Clock  func() time.Time
	Logger *slog.Logger
	// Location is the zone of days and of ReconcileAt; pass the site's
	// (Engine.Site().Location()). Default Europe/Rome.
	Location *time.Location
	// PollInterval is how often the outbox is read without a Notify
	// (default 500 ms).
	PollInterval time.Duration
	// BatchSize is how many outbox records one read takes (default 256).
	BatchSize int
	// Concurrency is how many lanes (visits) are delivered at once; a
	// lane never has more than one call in flight (default 4).
	Concurrency int
	// AttemptTimeout bounds one delivery attempt (default 15 s).
	AttemptTimeout time.Duration
	// BackoffBase and BackoffCap shape the full-jitter backoff of a
	// lane: rand(0, min(cap, base·2^(attempt-1))), at least Retry-After
	// (defaults 1 s and 5 min).
	BackoffBase time.Duration
	BackoffCap  time.Duration
	// AmbiguousDelay is the least wait after an unclear failure of a
	// report (timeout, dropped connection), so that a slow server has
	// applied the POST before the worker looks it up (default twice
	// AttemptTimeout: 30 s with the default timeout). After a POST left
	// in flight by a process that stopped or was killed, the wait runs
	// from the end of that POST's attempt timeout.
	AmbiguousDelay time.Duration
	// BreakerThreshold consecutive retryable failures open a peer's
	// breaker (default 5); after BreakerCooldown one probe goes through
	// (default 30 s).
	BreakerThreshold int
	BreakerCooldown  time.Duration
	// ReconcileAt is the daily time ("HH:MM", Location) of the nightly
	// reconciliation of that day (default "23:30"); NoReconcile turns the
	// schedule off (Reconcile can still be called). A failed run is
	// retried after ReconcileRetry (default 15 min).
	ReconcileAt    string
	NoReconcile    bool
	ReconcileRetry time.Duration
	// KeepSent is how long the record of each delivery is kept for
	// reconciliation (default 30 days).
	KeepSent time.Duration
	// OnReportDelivered is called when the CRM accepted a report, with
	// our protocol and its service_request_id (connect it to
	// Engine.ReportDelivered). An error is retried: the report is looked
	// up again, never filed twice.
	OnReportDelivered func(protocol, serviceRequestID string) error
	// OnAttempt, when set, is told about every delivery attempt (metrics,
	// tests). It runs on the delivering goroutine: keep it short.
	OnAttempt func(Attempt)
	// Rand returns a number in [0, 1) for the jitter (default math/rand).
	Rand func() float64
	// Reduce is called once a closed visit that carries personal data
	// (fiscal code, name) has been delivered: connect it to
	// Engine.ReduceCitizen, so that the hub keeps only the keyed hash.
	// The call is recorded durably with the delivery and retried until it
	// succeeds (a crash in between does not leave the data behind).
	Reduce func(ctx context.Context, ticketID string) error
	// OutboxRetention is how long a delivered outbox record is kept
	// (default 1 h: long enough for a cursor reset after an incident);
	// older ones are deleted, with the citizen data of their snapshots.
	// Records of visits still on their way are kept.
	OutboxRetention time.Duration
	// PruneEvery is how often the outbox is pruned (default 1 min).
	PruneEvery time.Duration
}

// Attempt is one delivery attempt of a lane.
type Attempt struct {
	Lane    string
	Kind    string
	Seq     uint64
	Peer    string
	At      time.Time
	Attempt int // 1 for the first attempt of this state
	// Outcome is delivered, superseded, retry or dead.
	Outcome    string
	Err        error
	Delay      time.Duration // the wait before the next attempt (retry)
	RetryAfter time.Duration
	Probe      bool // the half-open breaker's probe
	ID         string
}

// Attempt outcomes. Superseded: the CRM refused the state as older than
// the one it holds (nothing written, nothing to retry).
const (
	OutcomeDelivered  = "delivered"
	OutcomeSuperseded = "superseded"
	OutcomeRetry      = "retry"
	OutcomeDead       = "dead"
)

// Worker is the crmsync worker: it reads the hub's outbox behind a
// durable cursor and delivers every visit and report to the CRM.
type Worker struct {
	cfg   Config
	store *boltstore.Store
	db    *bolt.DB
	log   *slog.Logger
	wake  chan struct{}
	recH  int
	recM  int

	reconMu sync.Mutex // one reconciliation at a time

	mu            sync.Mutex
	inflight      map[string]bool
	breakers      map[string]*breaker
	running       bool
	reconciling   bool
	nextReconTry  time.Time
	reconciledDay string
	nextPrune     time.Time
	wg            sync.WaitGroup
}

// New prepares a worker on the hub's store, creating its buckets.
func New(cfg Config) (*Worker, error) {
	if cfg.Store == nil {
		return nil, errors.New("crmsync: Config.Store is required")
	}
	if cfg.Upsert == nil && cfg.Open311 == nil {
		return nil, errors.New("crmsync: no binding: set Config.Upsert and/or Config.Open311")
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Location == nil {
		if loc, err := time.LoadLocation("Europe/Rome"); err == nil {
			cfg.Location = loc
		} else {
			cfg.Location = time.UTC
		}
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.PollInterval, 500*time.Millisecond)
	def(&cfg.AttemptTimeout, 15*time.Second)
	def(&cfg.BackoffBase, time.Second)
	def(&cfg.BackoffCap, 5*time.Minute)
	def(&cfg.AmbiguousDelay, 2*cfg.AttemptTimeout)
	def(&cfg.BreakerCooldown, 30*time.Second)
	def(&cfg.ReconcileRetry, 15*time.Minute)
	def(&cfg.KeepSent, 30*24*time.Hour)
	def(&cfg.OutboxRetention, time.Hour)
	def(&cfg.PruneEvery, time.Minute)
	if cfg.BackoffCap < cfg.BackoffBase {
		cfg.BackoffCap = cfg.BackoffBase
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 256
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.BreakerThreshold <= 0 {
		cfg.BreakerThreshold = 5
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Float64
	}
	if cfg.ReconcileAt == "" {
		cfg.ReconcileAt = "23:30"
	}
	at, err := time.Parse("15:04", cfg.ReconcileAt)
	if err != nil {
		return nil, fmt.Errorf("crmsync: ReconcileAt %q is not HH:MM", cfg.ReconcileAt)
	}
	w := &Worker{cfg: cfg, store: cfg.Store, db: cfg.Store.DB(), log: cfg.Logger.With("component", "crmsync"),
		wake: make(chan struct{}, 1), recH: at.Hour(), recM: at.Minute(),
		inflight: map[string]bool{}, breakers: map[string]*breaker{}}
	if err := initBuckets(w.db); err != nil {
		return nil, fmt.Errorf("crmsync: prepare buckets: %w", err)
	}
	for _, name := range w.peerNames() {
		w.breakers[name] = newBreaker(cfg.BreakerThreshold, cfg.BreakerCooldown)
	}
	err = w.db.View(func(tx *bolt.Tx) error {
		w.reconciledDay = string(tx.Bucket(bMeta).Get(kReconDay))
		return nil
	})
	return w, err
}

func (w *Worker) peerNames() []string {
	var out []string
	if w.cfg.Upsert != nil {
		out = append(out, w.cfg.Upsert.Name())
	}
	if w.cfg.Open311 != nil && (w.cfg.Upsert == nil || w.cfg.Open311.Name() != w.cfg.Upsert.Name()) {
		out = append(out, w.cfg.Open311.Name())
	}
	return out
}

func (w *Worker) peerOf(kind string) (string, bool) {
	switch kind {
	case KindVisit:
		if w.cfg.Upsert != nil {
			return w.cfg.Upsert.Name(), true
		}
	case KindReport:
		if w.cfg.Open311 != nil {
			return w.cfg.Open311.Name(), true
		}
	}
	return "", false
}

func (w *Worker) now() time.Time { return w.cfg.Clock() }

// Notify wakes the worker at once (the hub's OnCommit hook calls it, so a
// change leaves without waiting for the next poll). It never blocks.
func (w *Worker) Notify() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends, then waits for the calls in flight (they
// are cancelled with ctx and retried by the next run). It returns nil
// after a cancellation.
func (w *Worker) Run(ctx context.Context) error {
	w.mu.Lock()
	if w.running {
		w.mu.Unlock()
		return errors.New("crmsync: the worker is already running")
	}
	w.running = true
	w.mu.Unlock()
	defer func() {
		w.wg.Wait()
		w.mu.Lock()
		w.running = false
		w.mu.Unlock()
	}()
	w.log.Info("crmsync worker started", "peers", w.peerNames())
	recovered := false
	for {
		if ctx.Err() != nil {
			w.log.Info("crmsync worker stopped")
			return nil
		}
		// Nothing is delivered before the POSTs a stopped process left in
		// flight are accounted for (else their reports could be filed
		// twice); a failing store is retried at the next poll.
		if !recovered {
			if err := w.recoverPosts(); err != nil {
				w.noteError("recover report posts: "+err.Error(), w.now())
			} else {
				recovered = true
			}
		}
		if recovered && w.round(ctx) {
			continue
		}
		t := time.NewTimer(w.cfg.PollInterval)
		select {
		case <-ctx.Done():
		case <-w.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// round reads the outbox, starts the due deliveries and the scheduled
// reconciliation; it reports whether more outbox records are waiting.
func (w *Worker) round(ctx context.Context) bool {
	n, err := w.ingest()
	if err != nil && !errors.Is(err, errCursorMoved) {
		w.noteError("read outbox: "+err.Error(), w.now())
	}
	w.dispatch(ctx)
	w.reduceDelivered(ctx)
	w.maybePrune()
	w.maybeReconcile(ctx)
	return n >= w.cfg.BatchSize
}

var errCursorMoved = errors.New("crmsync: the cursor moved during the read")

// ingest moves outbox records after the cursor into their lanes, in one
// transaction with the new cursor: a record is in a lane or still after
// the cursor, never lost, whatever crashes.
func (w *Worker) ingest() (int, error) {
	var cursor uint64
	if err := w.db.View(func(tx *bolt.Tx) error {
		cursor = btoi(tx.Bucket(bMeta).Get(kCursor))
		return nil
	}); err != nil {
		return 0, err
	}
	seqs, recs, err := w.store.Outbox(cursor, w.cfg.BatchSize)
	if err != nil || len(recs) == 0 {
		return 0, err
	}
	err = w.db.Update(func(tx *bolt.Tx) error {
		meta, pend, pay, deadLanes := tx.Bucket(bMeta), tx.Bucket(bPending), tx.Bucket(bPayload), tx.Bucket(bDeadLanes)
		if btoi(meta.Get(kCursor)) != cursor {
			return errCursorMoved
		}
		for i := range recs {
			r, seq := &recs[i], seqs[i]
			lane, kind, key := laneOf(r)
			if lane == "" {
				w.log.Warn("crmsync: outbox record with neither visit nor report skipped", "seq", seq, "type", r.Type)
				continue
			}
			var p pendingEntry
			ok, err := getJSON(pend, []byte(lane), &p)
			if err != nil {
				return err
			}
			if ok {
				if seq <= p.Seq {
					continue // an older state than the one held (cursor moved back)
				}
				p.Seq, p.Type = seq, r.Type
				p.addChange(change{Seq: seq, At: r.At})
			} else {
				p = pendingEntry{Lane: lane, Kind: kind, Key: key, Seq: seq, Type: r.Type, Changes: []change{{Seq: seq, At: r.At}}, Origin: "outbox"}
				if d := deadLanes.Get([]byte(lane)); d != nil {
					p.Held = btoi(d)
				}
			}
			if err := putJSON(pend, []byte(lane), p); err != nil {
				return err
			}
			if err := putJSON(pay, []byte(lane), r); err != nil {
				return err
			}
		}
		return meta.Put(kCursor, itob(seqs[len(seqs)-1]))
	})
	if err != nil {
		return 0, err
	}
	return len(recs), nil
}

// dispatch starts the deliveries that are due, oldest change first,
// within the concurrency, one per lane, as the breakers allow.
func (w *Worker) dispatch(ctx context.Context) {
	w.mu.Lock()
	free := w.cfg.Concurrency - len(w.inflight)
	busy := make(map[string]bool, len(w.inflight))
	for k := range w.inflight {
		busy[k] = true
	}
	w.mu.Unlock()
	if free <= 0 || ctx.Err() != nil {
		return
	}
	now := w.now()
	var due []pendingEntry
	err := w.db.View(func(tx *bolt.Tx) error {
		cursor, sent := btoi(tx.Bucket(bMeta).Get(kCursor)), tx.Bucket(bSent)
		return tx.Bucket(bPending).ForEach(func(k, v []byte) error {
			var p pendingEntry
			if err := json.Unmarshal(v, &p); err != nil {
				w.log.Error("crmsync: unreadable pending entry", "lane", string(k), "err", err)
				return nil
			}
			if p.Held != 0 || busy[p.Lane] || p.NextAt.After(now) {
				return nil
			}
			if _, ok := w.peerOf(p.Kind); !ok {
				return nil
			}
			// After a cursor reset, a lane re-read from the start must not
			// show the CRM its history again: wait until the reading
			// reaches the state already delivered.
			var se sentEntry
			if ok, _ := getJSON(sent, k, &se); ok && p.Seq < se.Seq && cursor < se.Seq {
				return nil
			}
			due = append(due, p)
			return nil
		})
	})
	if err != nil {
		w.noteError("read lanes: "+err.Error(), now)
		return
	}
	sort.Slice(due, func(i, j int) bool { return firstSeq(&due[i]) < firstSeq(&due[j]) })
	for i := range due {
		if free == 0 {
			break
		}
		p := due[i]
		peer, _ := w.peerOf(p.Kind)
		br := w.breakers[peer]
		ok, probe := br.allow(now)
		if !ok {
			continue
		}
		w.mu.Lock()
		if w.inflight[p.Lane] {
			w.mu.Unlock()
			br.abort(probe)
			continue
		}
		w.inflight[p.Lane] = true
		w.mu.Unlock()
		free--
		w.wg.Add(1)
		go w.deliver(ctx, p.Lane, peer, br, probe)
	}
}

func firstSeq(p *pendingEntry) uint64 {
	if len(p.Changes) > 0 {
		return p.Changes[0].Seq
	}
	return p.Seq
}

// deliver makes one attempt on a lane and records its outcome.
func (w *Worker) deliver(ctx context.Context, lane, peer string, br *breaker, probe bool) {
	defer w.wg.Done()
	defer func() {
		w.mu.Lock()
		delete(w.inflight, lane)
		w.mu.Unlock()
		w.Notify()
	}()
	var p pendingEntry
	var rec hub.OutboxRecord
	var found bool
	err := w.db.View(func(tx *bolt.Tx) error {
		ok, err := getJSON(tx.Bucket(bPending), []byte(lane), &p)
		if err != nil || !ok {
			return err
		}
		found, err = getJSON(tx.Bucket(bPayload), []byte(lane), &rec)
		return err
	})
	if err != nil || !found || p.Held != 0 {
		br.abort(probe)
		if err != nil {
			w.noteError("read lane "+lane+": "+err.Error(), w.now())
		}
		return
	}
	maybeFiled := false
	if p.Kind == KindReport {
		maybeFiled = p.MaybeSent
		// Written before the POST: after a crash between the CRM's answer
		// and our ack, the next attempt looks the report up; and the next
		// process waits for a POST the dead one left in flight before it
		// looks (recoverPosts), so that the POST cannot land after the
		// search and be filed again.
		at := w.now()
		mark := &postMark{At: at, Until: at.Add(w.cfg.AttemptTimeout)}
		if err := w.update(func(tx *bolt.Tx) error {
			return modifyPending(tx, lane, func(c *pendingEntry) { c.MaybeSent, c.Post = true, mark })
		}); err != nil {
			br.abort(probe)
			w.noteError("mark report "+p.Key+": "+err.Error(), w.now())
			return
		}
	}
	actx, cancel := context.WithTimeout(ctx, w.cfg.AttemptTimeout)
	var id string
	switch p.Kind {
	case KindVisit:
		var rc Receipt
		if rec.Ticket == nil {
			err = &DeliveryError{Class: Permanent, Code: "no_snapshot", Message: "the outbox record has no visit snapshot"}
		} else {
			rc, err = w.cfg.Upsert.UpsertVisit(actx, rec.Ticket, p.Seq)
			id = rc.ID
		}
	case KindReport:
		if rec.Report == nil {
			err = &DeliveryError{Class: Permanent, Code: "no_snapshot", Message: "the outbox record has no report"}
		} else if id, err = w.cfg.Open311.FileReport(actx, rec.Report, maybeFiled); err == nil && w.cfg.OnReportDelivered != nil {
			if cbErr := w.cfg.OnReportDelivered(rec.Report.Protocol, id); cbErr != nil {
				err = &DeliveryError{Class: Retryable, Code: "callback", Local: true, Err: cbErr,
					Message: "the CRM has the report, recording its id failed: " + cbErr.Error()}
			}
		}
	}
	cancel()
	if ctx.Err() != nil {
		// Stopping: not a failure of the peer; the next run retries.
		br.abort(probe)
		return
	}
	now := w.now()
	att := Attempt{Lane: lane, Kind: p.Kind, Seq: p.Seq, Peer: peer, At: now, Attempt: p.Attempts + 1, Probe: probe, ID: id}
	if err == nil {
		br.success()
		att.Outcome = OutcomeDelivered
		if aerr := w.ack(&p, &rec, id, now, false); aerr != nil {
			w.noteError("ack "+lane+": "+aerr.Error(), now)
		}
	} else {
		de := asDelivery(err)
		att.Err, att.RetryAfter = de, de.RetryAfter
		switch de.Class {
		case Superseded:
			// The CRM holds a newer state than this one (a re-send after a
			// cursor reset, a reconciliation racing a change): it stays as
			// it is, and this state counts as delivered.
			br.success()
			att.Outcome = OutcomeSuperseded
			w.log.Debug("crmsync: the CRM holds a newer state: superseded", "lane", lane, "seq", p.Seq, "err", de.Error())
			if aerr := w.ack(&p, &rec, id, now, true); aerr != nil {
				w.noteError("ack "+lane+": "+aerr.Error(), now)
			}
		case Permanent:
			br.success() // the peer answered: it is up
			att.Outcome = OutcomeDead
			w.log.Warn("crmsync: change refused for good: dead letter", "lane", lane, "seq", p.Seq, "err", de.Error())
			if berr := w.bury(&p, &rec, de, now); berr != nil {
				w.noteError("dead-letter "+lane+": "+berr.Error(), now)
			}
		default:
			if de.Local {
				br.success()
			} else {
				br.failure(now)
			}
			if de.RetryAfter > 0 {
				br.pause(now.Add(de.RetryAfter))
			}
			att.Outcome = OutcomeRetry
			att.Delay = w.backoff(p.Attempts+1, p.Kind, de)
			w.log.Info("crmsync: delivery failed, will retry", "lane", lane, "attempt", p.Attempts+1, "in", att.Delay, "err", de.Error())
			if rerr := w.retry(lane, de, now, att.Delay); rerr != nil {
				w.noteError("record retry "+lane+": "+rerr.Error(), now)
			}
		}
	}
	if w.cfg.OnAttempt != nil {
		w.cfg.OnAttempt(att)
	}
}

// recoverPosts runs when a run starts, before any delivery: a report
// whose POST mark is still there was being posted when the process that
// made the call stopped or was killed with -9. The CRM may have that POST
// still on its way, and would file it after a search made now found
// nothing, so the report is treated as an unclear failure: it waits until
// AmbiguousDelay after that call's own deadline (its attempt timeout),
// then looks the report up and posts only if it is not there. The mark
// stays until the attempt's outcome is recorded, so a second crash
// before then waits the same way.
func (w *Worker) recoverPosts() error {
	return w.update(func(tx *bolt.Tx) error {
		pend := tx.Bucket(bPending)
		var marked []pendingEntry
		if err := pend.ForEach(func(k, v []byte) error {
			var p pendingEntry
			if err := json.Unmarshal(v, &p); err != nil {
				return nil // reported by dispatch
			}
			if p.Post != nil {
				marked = append(marked, p)
			}
			return nil
		}); err != nil {
			return err
		}
		for _, p := range marked {
			notBefore := p.Post.Until.Add(w.cfg.AmbiguousDelay)
			if !notBefore.After(p.NextAt) {
				continue
			}
			p.NextAt, p.MaybeSent = notBefore, true
			p.LastError = "a POST of this report was under way when the hub stopped: it is looked up before any new POST"
			w.log.Info("crmsync: a report POST may still reach the CRM: looking it up later", "lane", p.Lane,
				"posted_at", p.Post.At, "search_at", notBefore)
			if err := putJSON(pend, []byte(p.Lane), p); err != nil {
				return err
			}
		}
		return nil
	})
}

// backoff is full jitter on an exponential ceiling, at least the peer's
// Retry-After, and at least AmbiguousDelay after an unclear report POST.
func (w *Worker) backoff(attempt int, kind string, de *DeliveryError) time.Duration {
	ceil := w.cfg.BackoffCap
	if attempt < 40 {
		if c := w.cfg.BackoffBase << (attempt - 1); c > 0 && c < ceil {
			ceil = c
		}
	}
	d := time.Duration(w.cfg.Rand() * float64(ceil))
	if de.RetryAfter > d {
		d = de.RetryAfter
	}
	if kind == KindReport && de.Ambiguous && d < w.cfg.AmbiguousDelay {
		d = w.cfg.AmbiguousDelay
	}
	return d
}

func (w *Worker) update(fn func(tx *bolt.Tx) error) error { return w.db.Update(fn) }

func modifyPending(tx *bolt.Tx, lane string, fn func(p *pendingEntry)) error {
	b := tx.Bucket(bPending)
	var p pendingEntry
	ok, err := getJSON(b, []byte(lane), &p)
	if err != nil || !ok {
		return err
	}
	fn(&p)
	return putJSON(b, []byte(lane), p)
}

func dropUpTo(cs []change, seq uint64) []change {
	out := cs[:0:0]
	for _, c := range cs {
		if c.Seq > seq {
			out = append(out, c)
		}
	}
	return out
}

func (w *Worker) dayOf(rec *hub.OutboxRecord) string {
	switch {
	case rec.Ticket != nil && rec.Ticket.Day != "":
		return rec.Ticket.Day
	case rec.Report != nil:
		return rec.Report.FiledAt.In(w.cfg.Location).Format(time.DateOnly)
	}
	return rec.At.In(w.cfg.Location).Format(time.DateOnly)
}

// ack records a delivery: the lane is done unless a newer change arrived
// meanwhile (it then goes next, with fresh attempts). superseded counts a
// state the CRM refused as older than its own: done all the same.
func (w *Worker) ack(p *pendingEntry, rec *hub.OutboxRecord, id string, now time.Time, superseded bool) error {
	return w.update(func(tx *bolt.Tx) error {
		pend, meta := tx.Bucket(bPending), tx.Bucket(bMeta)
		var cur pendingEntry
		ok, err := getJSON(pend, []byte(p.Lane), &cur)
		if err != nil {
			return err
		}
		if ok {
			if cur.Seq <= p.Seq && cur.Held == 0 {
				if err := pend.Delete([]byte(p.Lane)); err != nil {
					return err
				}
				if err := tx.Bucket(bPayload).Delete([]byte(p.Lane)); err != nil {
					return err
				}
			} else {
				cur.Changes = dropUpTo(cur.Changes, p.Seq)
				cur.Attempts, cur.NextAt, cur.LastError, cur.LastStatus, cur.MaybeSent, cur.Post = 0, time.Time{}, "", 0, false, nil
				if err := putJSON(pend, []byte(p.Lane), cur); err != nil {
					return err
				}
			}
		}
		if err := w.markReduce(tx, rec); err != nil {
			return err
		}
		se := sentEntry{Kind: p.Kind, Key: p.Key, Seq: p.Seq, Day: w.dayOf(rec), At: now}
		if p.Kind == KindReport {
			se.ServiceRequestID = id
		}
		if err := putJSON(tx.Bucket(bSent), []byte(p.Lane), se); err != nil {
			return err
		}
		if superseded {
			if err := addCounter(meta, kSuperseded, 1); err != nil {
				return err
			}
			return w.putBreakers(meta, now)
		}
		if err := addCounter(meta, kDelivered, 1); err != nil {
			return err
		}
		if err := putJSON(meta, kLastSent, now); err != nil {
			return err
		}
		return w.putBreakers(meta, now)
	})
}

func (w *Worker) retry(lane string, de *DeliveryError, now time.Time, delay time.Duration) error {
	msg := de.Error()
	return w.update(func(tx *bolt.Tx) error {
		if err := modifyPending(tx, lane, func(c *pendingEntry) {
			c.Attempts++
			c.NextAt = now.Add(delay) // after an unclear POST, at least AmbiguousDelay
			c.Post = nil
			c.LastError, c.LastErrorAt, c.LastStatus = msg, now, de.Status
		}); err != nil {
			return err
		}
		meta := tx.Bucket(bMeta)
		if err := putJSON(meta, kLastError, lastError{Message: msg, At: now}); err != nil {
			return err
		}
		return w.putBreakers(meta, now)
	})
}

// bury moves the refused change to the dead letters; the lane holds any
// newer change until the dead letter is replayed or discarded.
func (w *Worker) bury(p *pendingEntry, rec *hub.OutboxRecord, de *DeliveryError, now time.Time) error {
	msg := de.Error()
	return w.update(func(tx *bolt.Tx) error {
		pend, meta := tx.Bucket(bPending), tx.Bucket(bMeta)
		var cur pendingEntry
		ok, err := getJSON(pend, []byte(p.Lane), &cur)
		if err != nil {
			return err
		}
		d := deadEntry{DeadLetter: DeadLetter{Seq: p.Seq, Lane: p.Lane, Kind: p.Kind, ExternalID: p.Key, Type: p.Type,
			Attempts: p.Attempts + 1, EnqueuedAt: p.oldest(), DeadAt: now, HTTPStatus: de.Status, Code: de.Code,
			Error: firstOf(de.Message, msg), Request: de.Op}, Record: *rec}
		if d.EnqueuedAt.IsZero() {
			d.EnqueuedAt = rec.At
		}
		switch {
		case rec.Ticket != nil:
			d.Number, d.Service, d.Status = rec.Ticket.Number, rec.Ticket.Service, string(rec.Ticket.Status)
		case rec.Report != nil:
			d.Number, d.Service, d.Status = rec.Report.Protocol, rec.Report.Topic, rec.Report.Kind
		}
		if err := putJSON(tx.Bucket(bDead), itob(p.Seq), d); err != nil {
			return err
		}
		if err := tx.Bucket(bDeadLanes).Put([]byte(p.Lane), itob(p.Seq)); err != nil {
			return err
		}
		if ok {
			if cur.Seq <= p.Seq {
				if err := pend.Delete([]byte(p.Lane)); err != nil {
					return err
				}
				if err := tx.Bucket(bPayload).Delete([]byte(p.Lane)); err != nil {
					return err
				}
			} else {
				cur.Held = p.Seq
				cur.Changes = dropUpTo(cur.Changes, p.Seq)
				cur.Attempts, cur.NextAt, cur.Post = 0, time.Time{}, nil
				if err := putJSON(pend, []byte(p.Lane), cur); err != nil {
					return err
				}
			}
		}
		if err := putJSON(meta, kLastError, lastError{Message: msg, At: now}); err != nil {
			return err
		}
		return w.putBreakers(meta, now)
	})
}

func (w *Worker) peerStates(now time.Time) map[string]PeerState {
	out := make(map[string]PeerState, len(w.breakers))
	for name, b := range w.breakers {
		out[name] = b.snapshot(now)
	}
	return out
}

func (w *Worker) putBreakers(meta *bolt.Bucket, now time.Time) error {
	return putJSON(meta, kBreakers, w.peerStates(now))
}

// noteError records a failure of the worker itself (its store).
func (w *Worker) noteError(msg string, at time.Time) {
	w.log.Error("crmsync: "+msg, "err", msg)
	_ = w.update(func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bMeta), kLastError, lastError{Message: msg, At: at})
	})
}

// Status returns the figures of the supervisor console.
func (w *Worker) Status() Status {
	s, err := readStatus(w.store)
	if err != nil {
		s.LastError = "status: " + err.Error()
		now := w.now()
		s.LastErrorAt = &now
	}
	now := w.now()
	s.Peers = w.peerStates(now)
	s.BreakerState = BreakerClosed
	for _, p := range s.Peers {
		st := p.State
		if st == BreakerOpen && p.OpenedAt != nil && now.Sub(*p.OpenedAt) >= w.cfg.BreakerCooldown {
			st = BreakerHalfOpen // waiting for its probe
		}
		s.BreakerState = worse(s.BreakerState, st)
	}
	w.mu.Lock()
	s.InFlight = len(w.inflight)
	s.Running = w.running
	w.mu.Unlock()
	if s.OldestPendingAt != nil && now.After(*s.OldestPendingAt) {
		s.OldestPendingAgeS = int64(now.Sub(*s.OldestPendingAt) / time.Second)
	}
	for _, tp := range []**time.Time{&s.OldestPendingAt, &s.LastErrorAt, &s.LastDeliveredAt} {
		if *tp != nil {
			x := (*tp).In(w.cfg.Location)
			*tp = &x
		}
	}
	return s
}

// DeadLetters lists the dead letters, oldest first.
func (w *Worker) DeadLetters() ([]DeadLetter, error) { return listDead(w.db) }

// Replay puts a dead letter back in delivery (the latest state of its
// visit is delivered) and wakes the worker.
func (w *Worker) Replay(seq uint64) (DeadLetter, error) {
	d, err := replayDead(w.db, seq)
	if err == nil {
		w.log.Info("crmsync: dead letter replayed", "seq", seq, "lane", d.Lane)
		w.Notify()
	}
	return d, err
}

// Discard drops a dead letter for good; newer changes held behind it go.
func (w *Worker) Discard(seq uint64, reason string) (DeadLetter, error) {
	d, err := discardDead(w.db, seq)
	if err == nil {
		w.log.Warn("crmsync: dead letter discarded", "seq", seq, "lane", d.Lane, "reason", reason)
		w.Notify()
	}
	return d, err
}

// Pending lists the lanes waiting for delivery.
func (w *Worker) Pending() ([]Pending, error) { return listPending(w.db) }

// ResetCursor moves the outbox cursor (0: read everything again); the
// visits read again are re-delivered, which the keyed upsert absorbs.
func (w *Worker) ResetCursor(to uint64) error {
	err := resetCursor(w.db, to)
	w.Notify()
	return err
}
