package crmsync

import (
	"context"
	"time"

	"github.com/comune-rc/sportello/hub"
	bolt "go.etcd.io/bbolt"
)

// Data protection: the fiscal code and the name of a visit live in the
// hub only until the CzRM has them. Two things follow a delivery:
//
//   - a closed visit that carried them is reduced (Config.Reduce, i.e.
//     Engine.ReduceCitizen) to the keyed hash; the request is written in
//     the ack's transaction (crmsync_reduce) and retried until done;
//   - the outbox records, full snapshots with the same data, are deleted
//     once read into their lane, delivered, and older than
//     Config.OutboxRetention.
//
// Neither the worker nor the bindings log a snapshot or a field value:
// lines carry lanes (ticket ids), seqs and error texts.

// hasPersonal reports whether a visit still carries personal data.
func hasPersonal(t *hub.Ticket) bool {
	return t != nil && t.Citizen != nil && (t.Citizen.FiscalCode != "" || t.Citizen.Name != "")
}

// markReduce records, in the ack's transaction, that a delivered closed
// visit must be reduced.
func (w *Worker) markReduce(tx *bolt.Tx, rec *hub.OutboxRecord) error {
	if w.cfg.Reduce == nil || rec.Ticket == nil || !rec.Ticket.Status.Closed() || !hasPersonal(rec.Ticket) {
		return nil
	}
	return tx.Bucket(bReduce).Put([]byte(rec.Ticket.ID), nil)
}

const reducePerRound = 64

// reduceDelivered asks the hub to reduce the visits delivered closed.
func (w *Worker) reduceDelivered(ctx context.Context) {
	if w.cfg.Reduce == nil || ctx.Err() != nil {
		return
	}
	var ids []string
	_ = w.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bReduce).Cursor()
		for k, _ := c.First(); k != nil && len(ids) < reducePerRound; k, _ = c.Next() {
			ids = append(ids, string(k))
		}
		return nil
	})
	for _, id := range ids {
		if err := w.cfg.Reduce(ctx, id); err != nil {
			if ctx.Err() == nil && hub.ErrorKind(err) != hub.KindNotFound {
				w.noteError("reduce the personal data of visit "+id+": "+err.Error(), w.now())
				return
			}
		}
		if err := w.update(func(tx *bolt.Tx) error { return tx.Bucket(bReduce).Delete([]byte(id)) }); err != nil {
			w.noteError("reduce: "+err.Error(), w.now())
			return
		}
	}
}

const pruneScan = 20_000

// maybePrune deletes the outbox records that were read into their lane
// (at or before the cursor), whose visit is not waiting for delivery or
// held by a dead letter, and that are older than OutboxRetention.
func (w *Worker) maybePrune() {
	now := w.now()
	w.mu.Lock()
	if now.Before(w.nextPrune) {
		w.mu.Unlock()
		return
	}
	w.nextPrune = now.Add(w.cfg.PruneEvery)
	w.mu.Unlock()
	if _, err := w.PruneOutbox(now.Add(-w.cfg.OutboxRetention)); err != nil {
		w.noteError("prune the outbox: "+err.Error(), now)
	}
}

// PruneOutbox deletes the delivered outbox records older than before and
// returns how many it deleted (the worker calls it every PruneEvery).
func (w *Worker) PruneOutbox(before time.Time) (int, error) {
	var cursor uint64
	waiting := map[string]bool{}
	if err := w.db.View(func(tx *bolt.Tx) error {
		cursor = btoi(tx.Bucket(bMeta).Get(kCursor))
		for _, b := range [][]byte{bPending, bDeadLanes} {
			if err := tx.Bucket(b).ForEach(func(k, _ []byte) error {
				waiting[string(k)] = true
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return 0, err
	}
	w.mu.Lock()
	for lane := range w.inflight {
		waiting[lane] = true
	}
	w.mu.Unlock()
	var drop []uint64
	after, scanned := uint64(0), 0
	for scanned < pruneScan {
		seqs, recs, err := w.store.Outbox(after, 1000)
		if err != nil {
			return 0, err
		}
		if len(recs) == 0 {
			break
		}
		stop := false
		for i := range recs {
			seq, r := seqs[i], &recs[i]
			if seq > cursor || !r.At.Before(before) {
				stop = true
				break
			}
			if lane, _, _ := laneOf(r); !waiting[lane] {
				drop = append(drop, seq)
			}
		}
		if stop {
			break
		}
		after, scanned = seqs[len(seqs)-1], scanned+len(recs)
	}
	if err := w.store.DeleteOutbox(drop); err != nil {
		return 0, err
	}
	if len(drop) > 0 {
		w.log.Info("crmsync: delivered outbox records pruned", "records", len(drop))
	}
	return len(drop), nil
}
