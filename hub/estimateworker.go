package hub

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"sync"
	"time"
)

// With Config.AsyncEstimates the waiting-time estimates are computed by a
// goroutine of their own, on a copy of the queue taken after each commit,
// instead of on the single writer. The projection replays the office
// forward, which at a thousand waiting costs tens of milliseconds: on the
// writer every call-next would wait for it. Off the writer a call-next
// costs the commit and the ordering of the queue; the estimates follow a
// few milliseconds later. Only the answer to the totem that prints a new
// ticket waits for its estimate (see AwaitEstimate).
//
// The worker keeps its own copy of the day's tickets, fed with the
// tickets each commit changed, so that a projection costs no copy of the
// whole queue. Projections are coalesced: when commits come faster than
// projections, the worker projects the latest state and skips the ones in
// between.
//
// The simulator keeps the estimates on the writer (the default), so that
// its results stay exact and reproducible; the estimator and the policy
// are the same.

// PolicyCopier is a policy that can copy itself with what it observed, so
// that an estimator can replay it away from the writer.
type PolicyCopier interface {
	CopyPolicy() Policy
}

// CopyPolicy implements PolicyCopier.
func (p *FairPolicy) CopyPolicy() Policy {
	cp := *p
	cp.promised = maps.Clone(p.promised)
	cp.svcTime = maps.Clone(p.svcTime)
	return &cp
}

// CopyPolicy implements PolicyCopier.
func (p FIFOPolicy) CopyPolicy() Policy { return p }

// estimateJob is one commit's queue, copied out of the writer's state.
type estimateJob struct {
	now      time.Time
	order    map[string][]string // service → waiting ticket ids, in policy order
	counters []*Counter          // copies, in site order
	busy     map[string]string   // counter → ticket id
	svcTime  map[string]time.Duration
	promised map[string]time.Time
	booked   []*Appointment // appointments are replaced, never changed
	policy   Policy
}

// estimateWorker runs the estimator on the jobs the writer submits.
type estimateWorker struct {
	e    *Engine
	est  Estimator
	kick chan struct{}
	done chan struct{}
	once sync.Once
	wg   sync.WaitGroup

	mu      sync.Mutex
	job     *estimateJob       // the latest job not yet taken
	changed map[string]*Ticket // tickets changed since the last take
	reset   bool               // changed holds every ticket: drop the mirror
	busy    bool               // a projection is running
	idle    chan struct{}      // closed when nothing is pending or running

	// The worker's own copy of the day's tickets; only run touches it.
	mirror map[string]*Ticket
}

func newEstimateWorker(e *Engine, est Estimator) *estimateWorker {
	w := &estimateWorker{e: e, est: est, kick: make(chan struct{}, 1), done: make(chan struct{}), changed: map[string]*Ticket{}, mirror: map[string]*Ticket{}}
	w.wg.Add(1)
	go w.run()
	return w
}

func (w *estimateWorker) closeOnce() {
	w.once.Do(func() { close(w.done) })
	w.wg.Wait()
}

// tickets passes the worker the committed state of changed tickets; they
// are copied, so the writer may go on changing its own. With all set they
// are every ticket the engine holds (after a reload).
func (w *estimateWorker) tickets(ts []*Ticket, all bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if all {
		w.changed, w.reset = map[string]*Ticket{}, true
	}
	for _, t := range ts {
		w.changed[t.ID] = t.Clone()
	}
}

// submit replaces the pending job with j.
func (w *estimateWorker) submit(j *estimateJob) {
	w.mu.Lock()
	w.job = j
	w.mu.Unlock()
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// settled returns a channel closed once no job is pending or running.
func (w *estimateWorker) settled() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.job == nil && !w.busy {
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	if w.idle == nil {
		w.idle = make(chan struct{})
	}
	return w.idle
}

func (w *estimateWorker) run() {
	defer w.wg.Done()
	for {
		select {
		case <-w.kick:
		case <-w.done:
			return
		}
		for {
			w.mu.Lock()
			j, reset := w.job, w.reset
			var changed map[string]*Ticket
			if len(w.changed) > 0 || reset {
				changed, w.changed = w.changed, map[string]*Ticket{}
			}
			w.job, w.reset = nil, false
			if j == nil {
				w.busy = false
				if w.idle != nil {
					close(w.idle)
					w.idle = nil
				}
				w.mu.Unlock()
				break
			}
			w.busy = true
			w.mu.Unlock()
			start := time.Now()
			w.project(j, changed, reset)
			// At most half a core: when commits come faster than
			// projections, rest as long as the last one took before the
			// next, so that the writer, the live feed and the pages keep
			// the rest of the machine.
			if spent := time.Since(start); spent > time.Millisecond && w.pending() {
				rest := time.NewTimer(spent)
				select {
				case <-rest.C:
				case <-w.done:
					rest.Stop()
					return
				}
			}
		}
	}
}

func (w *estimateWorker) pending() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.job != nil
}

// project folds the changed tickets into the mirror, runs the estimator
// on the job and hands the estimates to the engine.
func (w *estimateWorker) project(j *estimateJob, changed map[string]*Ticket, reset bool) {
	if reset {
		w.mirror = map[string]*Ticket{}
	}
	fresh := make([]*Ticket, 0, len(changed))
	for id, t := range changed {
		w.mirror[id] = t
		fresh = append(fresh, t)
	}
	sort.Slice(fresh, func(a, b int) bool { return arrivalBefore(fresh[a], fresh[b]) })
	// The closed visits of past days leave the mirror as they leave the
	// engine's memory.
	today := j.now.Format("2006-01-02")
	for id, t := range w.mirror {
		if t.Day != today && t.Status.Closed() {
			delete(w.mirror, id)
		}
	}
	queues := make(map[string][]*Ticket, len(j.order))
	var waiting []*Ticket
	for svc, ids := range j.order {
		q := make([]*Ticket, 0, len(ids))
		for _, id := range ids {
			if t := w.mirror[id]; t != nil {
				q = append(q, t)
				waiting = append(waiting, t)
			}
		}
		queues[svc] = q
	}
	sort.Slice(waiting, func(a, b int) bool { return arrivalBefore(waiting[a], waiting[b]) })
	busy := make(map[string]*Ticket, len(j.busy))
	for c, id := range j.busy {
		if t := w.mirror[id]; t != nil {
			busy[c] = t
		}
	}
	booked := j.booked
	office := OfficeState{Now: j.now, Counters: j.counters, ServiceTime: j.svcTime, Promised: j.promised, Waiting: waiting, booked: func() []*Appointment { return booked }}
	in := EstimateInput{Now: j.now, Site: w.e.Site(), Queues: queues, Counters: j.counters, ServiceTime: j.svcTime, Busy: busy, Policy: j.policy, Office: office, tickets: w.mirror, changed: fresh}
	ewt, err := safeEstimate(w.est, in)
	if err != nil {
		// The office goes on with the last estimates counted down; the
		// next change tries again.
		w.e.log.Error("estimate failed", "err", err)
		return
	}
	w.e.applyEstimates(j.now, ewt)
}

// safeEstimate keeps a bug in the estimator from taking the hub down with
// it: on the writer the same bug would stop the office.
func safeEstimate(est Estimator, in EstimateInput) (out map[string]time.Duration, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("estimator panicked: %v", r)
		}
	}()
	return est.Estimate(in), nil
}

// asyncJob copies what a projection needs out of the writer's state; it
// runs on the writer, under the lock.
func (e *Engine) asyncJob(now time.Time, v *queueView, office OfficeState) *estimateJob {
	j := &estimateJob{now: now, order: make(map[string][]string, len(v.order)), busy: map[string]string{}, svcTime: maps.Clone(e.stats.mean), promised: maps.Clone(v.promised)}
	for svc, q := range v.order {
		ids := make([]string, len(q))
		for i, t := range q {
			ids[i] = t.ID
		}
		j.order[svc] = ids
	}
	for _, def := range e.site.Counters {
		c := e.counters[def.ID]
		j.counters = append(j.counters, c.Clone())
		if c.Ticket != "" {
			j.busy[c.ID] = c.Ticket
		}
	}
	j.booked = append([]*Appointment(nil), office.Booked()...)
	if pc, ok := e.policy.(PolicyCopier); ok {
		j.policy = pc.CopyPolicy()
	} else {
		// New checked the policy; one the admin catalogue rebuilt into
		// another kind is replayed as first come, first served.
		j.policy = FIFOPolicy{}
	}
	return j
}

// applyEstimates lays the estimates computed as of at over the current
// view, counted down to the view's time. Tickets that joined since keep
// no estimate until the next projection, already submitted.
func (e *Engine) applyEstimates(at time.Time, ewt map[string]time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	v := e.view
	if v == nil || v.at.Before(at) {
		return // a reload replaced the view with an older clock: skip
	}
	el := v.at.Sub(at)
	next := make(map[string]time.Duration, len(v.position))
	for id := range v.position {
		if d, ok := ewt[id]; ok {
			if d -= el; d < 0 {
				d = 0
			}
			next[id] = d
			if _, ok := v.promised[id]; !ok {
				v.promised[id] = at.Add(ewt[id])
			}
		} else if d, ok := v.ewt[id]; ok {
			next[id] = d
		}
	}
	v.ewt, v.estAt = next, at
	close(e.estReady)
	e.estReady = make(chan struct{})
}

// AwaitEstimate waits, up to Config.EstimateWait, until ticket id has its
// own estimate or is no longer waiting. Issue returns once the ticket is
// committed; whoever prints the estimate or shows it to the citizen calls
// this first. Issuing is not held for it, so that the issue rate is the
// store's, not the projection's. It returns at once when the estimates
// are computed on the writer.
func (e *Engine) AwaitEstimate(ctx context.Context, id string) {
	if e.estw == nil {
		return
	}
	limit := e.cfg.EstimateWait
	timer := time.NewTimer(limit)
	defer timer.Stop()
	for {
		e.mu.RLock()
		_, waiting := e.waiting[id]
		_, has := e.view.ewt[id]
		ready := e.estReady
		e.mu.RUnlock()
		if !waiting || has {
			return
		}
		select {
		case <-ready:
		case <-timer.C:
			e.log.Warn("estimate not ready in time; the ticket shows the queue's estimate", "ticket", id, "limit", limit)
			return
		case <-ctx.Done():
			return
		}
	}
}

// EstimatesSettled waits until the estimates reflect every commit so far
// (only meaningful with AsyncEstimates): for tests and for tools that
// read the queue right after changing it.
func (e *Engine) EstimatesSettled(ctx context.Context) error {
	if e.estw == nil {
		return nil
	}
	select {
	case <-e.estw.settled():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
