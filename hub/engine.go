package hub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Config is everything the engine needs; it is passed in, never global.
type Config struct {
	Site  *Site
	Store Store
	// Clock is injected so that the simulator can drive the same engine
	// with simulated time. Defaults to time.Now.
	Clock func() time.Time
	// Policy chooses the next ticket for a counter. Defaults to FairPolicy.
	Policy Policy
	// PolicyFor, when set, builds the policy from the site as the admin
	// catalogue makes it (at start and after each change), so that
	// targets edited on the admin page order the queue; it overrides
	// Policy.
	PolicyFor func(*Site) Policy
	// Estimator computes waiting-time estimates. Defaults to a
	// ProjectionEstimator seeded with the services' typical times.
	Estimator Estimator
	// AsyncEstimates computes the estimates on a goroutine of their own
	// after each commit instead of on the writer, so that no command
	// waits for a projection (see estimateworker.go); AwaitEstimate waits,
	// up to EstimateWait, for a new ticket's own estimate. The policy must be
	// a PolicyCopier; otherwise the estimates stay on the writer. The
	// simulator leaves it off: on the writer the results are exact.
	AsyncEstimates bool
	// EstimateWait bounds AwaitEstimate. Default 2 s.
	EstimateWait time.Duration
	// AutoNoShowRecalls turns a ticket into a no-show when it is recalled
	// more than this many times; 0 disables it.
	AutoNoShowRecalls int
	// MaxBatch bounds how many commands share one transaction (group
	// commit); 1 means one fsync per command.
	MaxBatch int
	// PublicURL is the base of track_url links (the hub's public address).
	PublicURL string
	// IdemTTL is how long idempotency keys are kept (at least 24 h).
	IdemTTL time.Duration
	// Version is reported in snapshots so that screens reload on upgrade.
	Version string
	Logger  *slog.Logger
	// Booking says when appointments can be booked and how much capacity
	// they may take.
	Booking BookingConfig
	// HashKey keys the hash that replaces fiscal codes (a secret of the
	// installation, kept beside the store).
	HashKey []byte
	// OnCommit, when set, is called after each committed batch with its
	// events (metrics, print jobs). It runs on the writer: keep it short.
	OnCommit func(events []Event)
}

// Engine owns every state change of the office: commands go through one
// writer goroutine, each group of commands is committed to the store in one
// transaction, and events are published to the live feed only after the
// commit. Reads take a shared lock on the in-memory state.
type Engine struct {
	cfg Config
	// site is the site file's site with the admin catalogue laid over it.
	// It is replaced, never changed, under mu by the writer; cur holds the
	// same pointer for readers outside the lock (Site).
	site      *Site
	cur       atomic.Pointer[Site]
	catalogue *Catalogue
	loc       *time.Location
	store     Store
	clock     func() time.Time
	policy    Policy
	est       Estimator
	log       *slog.Logger
	feed      *Feed

	mu           sync.RWMutex
	lastSeq      uint64
	tickets      map[string]*Ticket
	byToken      map[string]string
	waiting      map[string]*Ticket
	counters     map[string]*Counter
	appointments map[string]*Appointment
	numbers      map[string]int
	idem         map[string]IdemRecord
	calls        []Call
	notice       Text
	stats        *serviceStats
	view         *queueView
	// With AsyncEstimates: the worker, and a channel closed (and
	// replaced) each time it lays new estimates over the view.
	estw     *estimateWorker
	estReady chan struct{}

	cmds      chan *command
	done      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
}

type command struct {
	actor string
	fn    func(tx *txn) (any, error)
	reply chan result
}

type result struct {
	v   any
	err error
}

// txn is the context of one command inside a group transaction: it stamps
// one now for the whole command and collects what the store must write.
type txn struct {
	e     *Engine
	actor string // who asked: a user or a device; every event records it
	now   time.Time
	batch *Batch
	pend  []Event
}

// New loads the state from the store and starts the writer.
func New(cfg Config) (*Engine, error) {
	if cfg.Site == nil {
		return nil, errors.New("hub: config has no site")
	}
	if cfg.Store == nil {
		return nil, errors.New("hub: config has no store")
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Policy == nil {
		cfg.Policy = NewFairPolicy(FairPolicyConfig{})
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 256
	}
	if cfg.IdemTTL < 24*time.Hour {
		cfg.IdemTTL = 48 * time.Hour
	}
	cfg.Booking = cfg.Booking.withDefaults()
	if len(cfg.HashKey) == 0 {
		cfg.HashKey = []byte("sportello:" + cfg.Site.ID)
	}
	if cfg.AutoNoShowRecalls < 0 {
		cfg.AutoNoShowRecalls = 0
	}
	e := &Engine{
		cfg:    cfg,
		site:   cfg.Site,
		loc:    cfg.Site.Location(),
		store:  cfg.Store,
		clock:  cfg.Clock,
		policy: cfg.Policy,
		log:    cfg.Logger.With("component", "engine"),
		feed:   NewFeed(),
		cmds:   make(chan *command, 1024),
		done:   make(chan struct{}),
	}
	e.est = cfg.Estimator
	if e.est == nil {
		e.est = NewProjectionEstimator()
	}
	if cfg.EstimateWait <= 0 {
		e.cfg.EstimateWait = 2 * time.Second
	}
	if cfg.AsyncEstimates {
		if _, ok := e.policyFor(cfg.Site).(PolicyCopier); ok {
			e.estw = newEstimateWorker(e, e.est)
			e.estReady = make(chan struct{})
		} else {
			e.log.Warn("the policy cannot be copied: estimates stay on the writer", "policy", e.policyFor(cfg.Site).Name())
		}
	}
	if err := e.reload(); err != nil {
		if e.estw != nil {
			e.estw.closeOnce()
		}
		return nil, err
	}
	e.wg.Add(1)
	go e.writer()
	return e, nil
}

// Site returns the site the engine runs, with the admin catalogue's
// changes. The site returned is never modified: a change replaces it, so
// callers must not keep it across requests.
func (e *Engine) Site() *Site { return e.cur.Load() }

// Feed returns the live feed the engine publishes to.
func (e *Engine) Feed() *Feed { return e.feed }

// Now is the engine's clock.
func (e *Engine) Now() time.Time { return e.clock().In(e.loc) }

// Policy returns the call-next policy in use.
func (e *Engine) Policy() Policy {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.policy
}

// policyFor is the policy for site: PolicyFor's when set, else Policy.
func (e *Engine) policyFor(site *Site) Policy {
	if e.cfg.PolicyFor != nil {
		return e.cfg.PolicyFor(site)
	}
	return e.cfg.Policy
}

func (e *Engine) day(t time.Time) string {
	return t.In(e.loc).Format("2006-01-02")
}

// reload rebuilds the in-memory state from the store. It runs at start and
// after a failed commit, so memory never runs ahead of the disk.
func (e *Engine) reload() error {
	now := e.clock()
	st, err := e.store.Load(e.day(now))
	if err != nil {
		return fmt.Errorf("hub: load state: %w", err)
	}
	site := e.cfg.Site.withCatalogue(st.Catalogue)
	if pr := site.catalogueProblem(); pr != nil {
		return fmt.Errorf("hub: the catalogue saved from the admin pages no longer fits the site file: %s: %s", pr.path, pr.msg)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.site, e.catalogue = site, st.Catalogue.clone()
	e.cur.Store(site)
	e.policy = e.policyFor(site)
	e.lastSeq = st.LastSeq
	e.tickets = make(map[string]*Ticket, len(st.Tickets))
	e.byToken = make(map[string]string, len(st.Tickets))
	e.waiting = make(map[string]*Ticket)
	e.stats = newServiceStats(e.site)
	for _, t := range st.Tickets {
		e.indexTicket(t)
		e.stats.observe(t)
	}
	e.counters = make(map[string]*Counter, len(e.site.Counters))
	for _, def := range e.site.Counters {
		e.counters[def.ID] = &Counter{ID: def.ID, Kind: def.Kind, Services: append([]string(nil), def.Services...), State: CounterClosed}
	}
	for _, c := range st.Counters {
		if cur, ok := e.counters[c.ID]; ok {
			// The skill profile comes from the stored state only when a
			// supervisor changed it live; the site file is the default.
			cur.State, cur.Clerk, cur.Ticket, cur.Since, cur.Reason = c.State, c.Clerk, c.Ticket, c.Since, c.Reason
			if len(c.Services) > 0 {
				cur.Services = append([]string(nil), c.Services...)
			}
		}
	}
	e.appointments = make(map[string]*Appointment, len(st.Appointments))
	for _, a := range st.Appointments {
		e.appointments[a.Code] = a
	}
	e.numbers = st.Numbers
	if e.numbers == nil {
		e.numbers = map[string]int{}
	}
	e.idem = make(map[string]IdemRecord, len(st.Idem))
	for _, r := range st.Idem {
		if now.Sub(r.At) < e.cfg.IdemTTL {
			e.idem[r.Key] = r
		}
	}
	e.notice = st.Notice
	e.calls = e.calls[:0]
	for _, ev := range st.RecentCalls {
		e.appendCall(ev)
	}
	if e.estw != nil {
		all := make([]*Ticket, 0, len(e.tickets))
		for _, t := range e.tickets {
			all = append(all, t)
		}
		e.estw.tickets(all, true)
	}
	e.refreshView(now)
	return nil
}

func (e *Engine) indexTicket(t *Ticket) {
	e.tickets[t.ID] = t
	if t.TrackToken != "" {
		e.byToken[t.TrackToken] = t.ID
	}
	if t.Status == StatusWaiting {
		e.waiting[t.ID] = t
	} else {
		delete(e.waiting, t.ID)
	}
}

func (e *Engine) evictPastDays(today string) {
	for id, t := range e.tickets {
		if t.Day != today && t.Status.Closed() {
			delete(e.tickets, id)
			delete(e.byToken, t.TrackToken)
		}
	}
}

// Close stops the writer after the commands already queued.
func (e *Engine) Close() error {
	e.closeOnce.Do(func() { close(e.done) })
	e.wg.Wait()
	if e.estw != nil {
		e.estw.closeOnce()
	}
	e.feed.Close()
	return nil
}

// do runs fn on the writer for actor and waits for its commit.
func (e *Engine) do(ctx context.Context, actor string, fn func(tx *txn) (any, error)) (any, error) {
	c := &command{actor: actor, fn: fn, reply: make(chan result, 1)}
	select {
	case <-e.done:
		return nil, ErrUnavailable
	default:
	}
	select {
	case e.cmds <- c:
	case <-e.done:
		return nil, ErrUnavailable
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	// Once queued, the command will run: wait for its result even if the
	// caller gives up, so an acknowledged change is never in doubt.
	r := <-c.reply
	return r.v, r.err
}

func (e *Engine) writer() {
	defer e.wg.Done()
	ticker := time.NewTicker(15 * time.Second)
	defer ticker.Stop()
	for {
		select {
		case c := <-e.cmds:
			group := []*command{c}
		drain:
			for len(group) < e.cfg.MaxBatch {
				select {
				case c2 := <-e.cmds:
					group = append(group, c2)
				default:
					break drain
				}
			}
			e.runGroup(group)
		case <-ticker.C:
			// Waits age with the clock even when nothing happens, and the
			// closed visits of past days leave memory (they stay on disk).
			e.mu.Lock()
			now := e.clock()
			e.evictPastDays(e.day(now))
			e.refreshView(now)
			e.mu.Unlock()
		case <-e.done:
			for {
				select {
				case c := <-e.cmds:
					c.reply <- result{err: ErrUnavailable}
				default:
					return
				}
			}
		}
	}
}

func (e *Engine) runGroup(group []*command) {
	e.mu.Lock()
	batch := &Batch{Numbers: map[string]int{}}
	results := make([]result, len(group))
	var events []Event
	panicked := false
	for i, c := range group {
		// Times are kept in the site's zone so that every API answer
		// carries the office's offset.
		tx := &txn{e: e, actor: c.actor, now: e.clock().In(e.loc), batch: batch}
		v, err := safeRun(c.fn, tx)
		results[i] = result{v: v, err: err}
		if err == nil {
			events = append(events, tx.pend...)
		} else if ErrorCode(err) == "command_panicked" {
			panicked = true
			e.log.Error("command panicked", "err", err)
		}
	}
	var commitErr error
	if !batch.Empty() {
		commitErr = e.store.Commit(batch)
	}
	if commitErr != nil {
		e.log.Error("commit failed; reloading state", "err", commitErr, "commands", len(group))
		e.mu.Unlock()
		if err := e.reload(); err != nil {
			e.log.Error("reload after failed commit", "err", err)
		}
		for _, c := range group {
			c.reply <- result{err: &Error{Kind: KindUnavailable, Code: "store_failed", Message: "the change could not be saved; nothing was changed", Err: commitErr}}
		}
		return
	}
	for _, ev := range events {
		if ev.Type == EventTicketCalled || ev.Type == EventTicketRecalled {
			e.appendCall(ev)
		}
	}
	if e.estw != nil {
		e.estw.tickets(batch.Tickets, false)
	}
	e.refreshView(e.clock())
	// Queue figures in ticket events are taken after the whole group, so
	// the feed shows the state that was committed.
	for i := range events {
		if events[i].Data.Service != "" && events[i].Type != EventCounterOpened {
			q := e.view.entry(events[i].Data.Service)
			events[i].Data.Queue = &q
		}
	}
	e.feed.Publish(events)
	e.mu.Unlock()
	if panicked {
		// A command that panicked may have changed memory without
		// recording it: memory must never run ahead of the disk.
		if err := e.reload(); err != nil {
			e.log.Error("reload after panic", "err", err)
		}
	}
	if e.cfg.OnCommit != nil && len(events) > 0 {
		e.cfg.OnCommit(events)
	}
	for i, c := range group {
		c.reply <- results[i]
	}
}

// safeRun keeps a bug in one command from killing the writer; the writer
// then reloads the state from the store (see runGroup).
func safeRun(fn func(tx *txn) (any, error), tx *txn) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &Error{Kind: KindInternal, Code: "command_panicked", Message: fmt.Sprint(r)}
		}
	}()
	return fn(tx)
}

// emit records an event: the seq is assigned now, in commit order.
func (tx *txn) emit(typ string, d EventData) Event {
	tx.e.lastSeq++
	if d.Actor == "" {
		d.Actor = tx.actor
	}
	ev := Event{Seq: tx.e.lastSeq, Type: typ, At: tx.now, Data: d}
	tx.batch.Events = append(tx.batch.Events, ev)
	tx.pend = append(tx.pend, ev)
	return ev
}

// putTicket records the new state of t and, for visit changes, the CzRM
// outbox record, in the same batch as the event.
func (tx *txn) putTicket(t *Ticket, ev *Event) {
	tx.e.indexTicket(t)
	tx.batch.Tickets = append(tx.batch.Tickets, t.Clone())
	if ev != nil {
		tx.batch.Outbox = append(tx.batch.Outbox, OutboxRecord{TicketID: t.ID, EventSeq: ev.Seq, Type: ev.Type, At: ev.At, Ticket: t.Clone()})
	}
}

func (tx *txn) putCounter(c *Counter) {
	tx.batch.Counters = append(tx.batch.Counters, c.Clone())
}

func (tx *txn) ticketEvent(typ string, t *Ticket) {
	d := EventData{TicketID: t.ID, Number: t.Number, Service: t.Service, Counter: t.Counter, Status: t.Status, Channel: string(t.Channel), Priority: t.Prio}
	if t.Counter != "" {
		if c, ok := tx.e.counters[t.Counter]; ok {
			d.Kind = string(c.Kind)
		}
	}
	if s := t.current(); s != nil {
		d.Recall = s.Recalls
		d.Clerk = s.ClerkID
	}
	d.Outcome = t.Outcome
	d.Appointment = t.Appointment
	if t.Slot != nil && typ == EventTicketIssued {
		slot := *t.Slot
		d.Slot = &slot
	}
	ev := tx.emit(typ, d)
	tx.putTicket(t, &ev)
}

func (e *Engine) appendCall(ev Event) {
	c := Call{Number: ev.Data.Number, Service: ev.Data.Service, Counter: ev.Data.Counter, Kind: ev.Data.Kind, At: ev.At, Recall: ev.Data.Recall, Seq: ev.Seq}
	e.calls = append(e.calls, c)
	if n := len(e.calls); n > 20 {
		e.calls = append(e.calls[:0], e.calls[n-20:]...)
	}
}

// Snapshot returns the public state and the seq it reflects.
func (e *Engine) Snapshot() (Snapshot, uint64) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.snapshotLocked(), e.lastSeq
}

func (e *Engine) snapshotLocked() Snapshot {
	s := Snapshot{Version: e.cfg.Version, Day: e.day(e.clock()), Notice: e.notice}
	ids := make([]string, 0, len(e.counters))
	for _, def := range e.site.Counters {
		ids = append(ids, def.ID)
	}
	for _, id := range ids {
		c := e.counters[id]
		pc := PublicCounter{ID: c.ID, Kind: c.Kind, Services: append([]string(nil), c.Services...), State: c.State}
		if t, ok := e.tickets[c.Ticket]; ok && c.Ticket != "" {
			pc.Number = t.Number
		}
		s.Counters = append(s.Counters, pc)
	}
	s.Calls = append([]Call{}, e.calls...)
	// Newest call first, as screens list them.
	sort.SliceStable(s.Calls, func(i, j int) bool { return s.Calls[i].Seq > s.Calls[j].Seq })
	s.Queue = e.view.entries(e.site)
	return s
}

// Subscribe registers a live-feed client. It returns the subscription and,
// taken at the same instant, the public snapshot and its seq, so that a
// client can replay from its own seq up to that one and then stream
// without a gap or a duplicate.
func (e *Engine) Subscribe(buffer int) (*Subscription, Snapshot, uint64) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	sub := e.feed.Subscribe(buffer)
	return sub, e.snapshotLocked(), e.lastSeq
}

// LastSeq is the seq of the last committed event.
func (e *Engine) LastSeq() uint64 {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.lastSeq
}

// EventsSince reads committed events after since from the store.
func (e *Engine) EventsSince(since uint64, limit int) ([]Event, bool, error) {
	return e.store.EventsSince(since, limit)
}
