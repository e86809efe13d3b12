package crmsync

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/comune-rc/sportello/hub"
	bolt "go.etcd.io/bbolt"
)

// ReconcileReport is the outcome of one reconciliation of a day.
type ReconcileReport struct {
	Day        string    `json:"day"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	Visits     int       `json:"visits"`  // visits of the day checked
	Reports    int       `json:"reports"` // reports of the day checked
	Matched    int       `json:"matched"`
	Missing    int       `json:"missing"` // the CRM does not hold them
	Stale      int       `json:"stale"`   // the CRM holds another state
	Requeued   int       `json:"requeued"`
	// Skipped are those still on their way (pending, in flight or dead
	// letters): the worker delivers them anyway.
	Skipped    int      `json:"skipped"`
	MissingIDs []string `json:"missing_ids,omitempty"`
	StaleIDs   []string `json:"stale_ids,omitempty"`
	Error      string   `json:"error,omitempty"`
}

const maxReportIDs = 50

// TypeReconcile is the Type of the snapshots reconciliation re-queues.
const TypeReconcile = "crmsync.reconcile"

// Reconcile compares what the CRM holds for every visit of day
// (YYYY-MM-DD, the site's zone) and every report delivered that day with
// the hub's latest state, and re-queues the missing and the stale ones
// (a CRM-side delete, a lost record, an agent's edit of a field we own).
// Visits still on their way are skipped. It stops at the first CRM
// failure and returns the partial report with the error.
func (w *Worker) Reconcile(ctx context.Context, day string) (ReconcileReport, error) {
	w.reconMu.Lock()
	defer w.reconMu.Unlock()
	rep := ReconcileReport{Day: day, StartedAt: w.now()}
	if _, err := time.ParseInLocation(time.DateOnly, day, w.cfg.Location); err != nil {
		return rep, hub.FieldError("invalid_day", "day", "day must be YYYY-MM-DD")
	}
	finish := func(err error) (ReconcileReport, error) {
		rep.FinishedAt = w.now()
		if err != nil {
			rep.Error = err.Error()
		}
		sort.Strings(rep.MissingIDs)
		sort.Strings(rep.StaleIDs)
		if perr := w.update(func(tx *bolt.Tx) error { return putJSON(tx.Bucket(bMeta), kLastRecon, rep) }); perr != nil && err == nil {
			err = perr
		}
		if rep.Requeued > 0 {
			w.Notify()
		}
		w.log.Info("crmsync: reconciliation", "day", day, "visits", rep.Visits, "reports", rep.Reports, "matched", rep.Matched,
			"missing", rep.Missing, "stale", rep.Stale, "requeued", rep.Requeued, "skipped", rep.Skipped, "err", rep.Error)
		return rep, err
	}
	// What was delivered, read before the hub's state: a delivery that
	// happens during the run is seen in requeue and wins.
	sent := map[string]sentEntry{}
	if err := w.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bSent).ForEach(func(k, v []byte) error {
			var se sentEntry
			if json.Unmarshal(v, &se) == nil {
				sent[string(k)] = se
			}
			return nil
		})
	}); err != nil {
		return finish(err)
	}
	note := func(ids *[]string, id string) {
		if len(*ids) < maxReportIDs {
			*ids = append(*ids, id)
		}
	}
	if w.cfg.Upsert != nil {
		st, err := w.store.Load(day)
		if err != nil {
			return finish(fmt.Errorf("load the visits of %s: %w", day, err))
		}
		// Where the outbox stands after the load: every change of a visit
		// not read yet is on its way (and newer than what the CRM has).
		// A re-sent state carries the cursor as its version: it holds
		// every change up to there, and any later one has a higher seq,
		// so the CRM's version guard can never let it overtake, or be
		// overtaken by, a state of the visit in the wrong order.
		at, unread, err := w.unreadVisits()
		if err != nil {
			return finish(fmt.Errorf("read the outbox: %w", err))
		}
		var tickets []*hub.Ticket
		for _, t := range st.Tickets {
			if t.Day == day {
				tickets = append(tickets, t)
			}
		}
		sort.Slice(tickets, func(i, j int) bool { return tickets[i].ID < tickets[j].ID })
		for _, t := range tickets {
			if err := ctx.Err(); err != nil {
				return finish(err)
			}
			lane := KindVisit + "/" + t.ID
			rep.Visits++
			if unread[t.ID] || w.onItsWay(lane) {
				rep.Skipped++
				continue
			}
			actx, cancel := context.WithTimeout(ctx, w.cfg.AttemptTimeout)
			chk, err := w.cfg.Upsert.CheckVisit(actx, t)
			cancel()
			if err != nil {
				return finish(fmt.Errorf("check visit %s: %w", t.ID, err))
			}
			switch {
			case !chk.Found:
				rep.Missing++
				note(&rep.MissingIDs, t.ID)
			case !chk.Equal:
				rep.Stale++
				note(&rep.StaleIDs, t.ID)
			default:
				rep.Matched++
				continue
			}
			se, had := sent[lane]
			rec := hub.OutboxRecord{TicketID: t.ID, EventSeq: se.Seq, Type: TypeReconcile, At: w.now(), Ticket: t}
			ok, err := w.requeue(lane, KindVisit, t.ID, se, had, rec, max(at, se.Seq))
			if err != nil {
				return finish(err)
			}
			if ok {
				rep.Requeued++
			} else {
				rep.Skipped++
			}
		}
	}
	if w.cfg.Open311 != nil {
		var lanes []string
		for lane, se := range sent {
			if se.Kind == KindReport && se.Day == day {
				lanes = append(lanes, lane)
			}
		}
		sort.Strings(lanes)
		for _, lane := range lanes {
			if err := ctx.Err(); err != nil {
				return finish(err)
			}
			se := sent[lane]
			rep.Reports++
			if w.onItsWay(lane) {
				rep.Skipped++
				continue
			}
			actx, cancel := context.WithTimeout(ctx, w.cfg.AttemptTimeout)
			_, found, err := w.cfg.Open311.FindReport(actx, se.Key)
			cancel()
			if err != nil {
				return finish(fmt.Errorf("check report %s: %w", se.Key, err))
			}
			if found {
				rep.Matched++
				continue
			}
			rep.Missing++
			note(&rep.MissingIDs, se.Key)
			r, err := w.store.Report(se.Key)
			if err != nil {
				return finish(fmt.Errorf("read report %s: %w", se.Key, err))
			}
			w.log.Warn("crmsync: the CRM lost a report: filing it again", "protocol", se.Key, "old_service_request_id", se.ServiceRequestID)
			rec := hub.OutboxRecord{EventSeq: se.Seq, Type: TypeReconcile, At: w.now(), Report: r}
			ok, err := w.requeue(lane, KindReport, se.Key, se, true, rec, se.Seq)
			if err != nil {
				return finish(err)
			}
			if ok {
				rep.Requeued++
			} else {
				rep.Skipped++
			}
		}
	}
	if err := w.pruneSent(day); err != nil {
		return finish(err)
	}
	return finish(nil)
}

// onItsWay reports whether a lane has a state waiting, in flight or dead.
func (w *Worker) onItsWay(lane string) bool {
	w.mu.Lock()
	busy := w.inflight[lane]
	w.mu.Unlock()
	if busy {
		return true
	}
	_ = w.db.View(func(tx *bolt.Tx) error {
		busy = tx.Bucket(bPending).Get([]byte(lane)) != nil || tx.Bucket(bDeadLanes).Get([]byte(lane)) != nil
		return nil
	})
	return busy
}

// unreadVisits returns the cursor and the visits with outbox records
// after it (changes not yet read into their lanes).
func (w *Worker) unreadVisits() (uint64, map[string]bool, error) {
	var cursor uint64
	if err := w.db.View(func(tx *bolt.Tx) error {
		cursor = btoi(tx.Bucket(bMeta).Get(kCursor))
		return nil
	}); err != nil {
		return 0, nil, err
	}
	out := map[string]bool{}
	for after := cursor; ; {
		seqs, recs, err := w.store.Outbox(after, 1000)
		if err != nil || len(recs) == 0 {
			return cursor, out, err
		}
		for i := range recs {
			if _, kind, key := laneOf(&recs[i]); kind == KindVisit {
				out[key] = true
			}
		}
		after = seqs[len(seqs)-1]
	}
}

// requeue puts a lane back in delivery with rec as the state of version
// seq, unless the lane moved since before was read (a delivery or a newer
// change wins: the CRM gets that one anyway, and an older snapshot must
// never overtake it).
func (w *Worker) requeue(lane, kind, key string, before sentEntry, had bool, rec hub.OutboxRecord, seq uint64) (bool, error) {
	done := false
	err := w.update(func(tx *bolt.Tx) error {
		if tx.Bucket(bPending).Get([]byte(lane)) != nil || tx.Bucket(bDeadLanes).Get([]byte(lane)) != nil {
			return nil
		}
		var cur sentEntry
		ok, err := getJSON(tx.Bucket(bSent), []byte(lane), &cur)
		if err != nil {
			return err
		}
		if ok != had || cur.Seq != before.Seq || !cur.At.Equal(before.At) {
			return nil
		}
		p := pendingEntry{Lane: lane, Kind: kind, Key: key, Seq: seq, Type: rec.Type,
			Changes: []change{{Seq: seq, At: rec.At}}, Origin: "reconcile"}
		if err := putJSON(tx.Bucket(bPending), []byte(lane), p); err != nil {
			return err
		}
		if err := putJSON(tx.Bucket(bPayload), []byte(lane), rec); err != nil {
			return err
		}
		done = true
		return nil
	})
	return done, err
}

// pruneSent forgets the deliveries of days older than KeepSent before day.
func (w *Worker) pruneSent(day string) error {
	d, err := time.ParseInLocation(time.DateOnly, day, w.cfg.Location)
	if err != nil {
		return err
	}
	cutoff := d.Add(-w.cfg.KeepSent).Format(time.DateOnly)
	return w.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bSent)
		var old [][]byte
		if err := b.ForEach(func(k, v []byte) error {
			var se sentEntry
			if json.Unmarshal(v, &se) != nil || (se.Day != "" && strings.Compare(se.Day, cutoff) < 0) {
				old = append(old, append([]byte(nil), k...))
			}
			return nil
		}); err != nil {
			return err
		}
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// ReconcileDue returns the day the schedule reconciles at now: today once
// past ReconcileAt, else yesterday.
func (w *Worker) reconcileTarget(now time.Time) string {
	now = now.In(w.cfg.Location)
	at := time.Date(now.Year(), now.Month(), now.Day(), w.recH, w.recM, 0, 0, w.cfg.Location)
	if now.Before(at) {
		return now.AddDate(0, 0, -1).Format(time.DateOnly)
	}
	return now.Format(time.DateOnly)
}

// maybeReconcile runs the nightly reconciliation when it is due: the day
// of each ReconcileAt, once (a day missed while the hub was off is done
// at the next start). A failed run is retried after ReconcileRetry.
func (w *Worker) maybeReconcile(ctx context.Context) {
	if w.cfg.NoReconcile {
		return
	}
	now := w.now()
	target := w.reconcileTarget(now)
	w.mu.Lock()
	if w.reconciling || now.Before(w.nextReconTry) || target <= w.reconciledDay {
		w.mu.Unlock()
		return
	}
	w.reconciling = true
	w.mu.Unlock()
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		_, err := w.Reconcile(ctx, target)
		if err == nil {
			err = w.update(func(tx *bolt.Tx) error { return tx.Bucket(bMeta).Put(kReconDay, []byte(target)) })
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		w.reconciling = false
		if err != nil {
			w.nextReconTry = w.now().Add(w.cfg.ReconcileRetry)
			return
		}
		w.reconciledDay = target
	}()
}
