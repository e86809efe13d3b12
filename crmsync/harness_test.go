package crmsync_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/comune-rc/sportello/crmsync"
	"github.com/comune-rc/sportello/crmsync/peer"
	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/hubtest"
)

// peerHost serves the reference CzRM peer on a loopback HTTP server
// whose peer can be replaced (a peer restarted on an empty data dir)
// while the URL stays the same.
type peerHost struct {
	URL string
	srv *httptest.Server
	cur atomic.Pointer[peer.Peer]
	// postsIn and postsOut count the Open311 POSTs received and those
	// the peer has finished with (applied or not, answered or not).
	postsIn, postsOut atomic.Int64
}

func startPeer(t *testing.T) *peerHost {
	t.Helper()
	ph := &peerHost{}
	ph.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/open311/") {
			ph.postsIn.Add(1)
			defer ph.postsOut.Add(1)
		}
		ph.cur.Load().Handler().ServeHTTP(w, r)
	}))
	ph.URL = ph.srv.URL
	ph.replace(t, t.TempDir())
	t.Cleanup(func() {
		_ = ph.cur.Load().Close() // releases hanging fault calls first
		ph.srv.CloseClientConnections()
		ph.srv.Close()
	})
	return ph
}

// replace swaps in a new peer on dir (an empty dir: a peer that lost
// everything, tokens included).
func (ph *peerHost) replace(t *testing.T, dir string) {
	t.Helper()
	p, err := peer.New(peer.Config{Data: dir, Demo: true})
	if err != nil {
		t.Fatal(err)
	}
	if old := ph.cur.Swap(p); old != nil {
		_ = old.Close()
	}
}

func (ph *peerHost) peer() *peer.Peer { return ph.cur.Load() }

func (ph *peerHost) faults() *peer.Faults { return ph.cur.Load().Faults() }

func (ph *peerHost) record(id string) *peer.Record {
	m := crmsync.DefaultMapping()
	r, err := ph.peer().Record(m.Object, m.ExtIDField, id)
	if err != nil {
		return nil
	}
	return r
}

// fakeClock is the injected clock of tests that assert schedules.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{now: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// attempts records the worker's delivery attempts.
type attempts struct {
	mu  sync.Mutex
	all []crmsync.Attempt
}

func (a *attempts) add(x crmsync.Attempt) {
	a.mu.Lock()
	a.all = append(a.all, x)
	a.mu.Unlock()
}

func (a *attempts) list() []crmsync.Attempt {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]crmsync.Attempt(nil), a.all...)
}

func (a *attempts) count(outcome string) int {
	n := 0
	for _, x := range a.list() {
		if x.Outcome == outcome {
			n++
		}
	}
	return n
}

// rig is a hub, a peer, the bindings and a worker.
type rig struct {
	t   *testing.T
	h   *hubtest.Hub
	ph  *peerHost
	up  *crmsync.UpsertClient
	o   *crmsync.Open311Client
	w   *crmsync.Worker
	log *attempts
}

// fast are test settings: a quick poll, tiny backoff, a high breaker
// threshold (tests of the breaker set their own).
func fast(c *crmsync.Config) {
	c.PollInterval = 5 * time.Millisecond
	c.BackoffBase = time.Millisecond
	c.BackoffCap = 10 * time.Millisecond
	c.AmbiguousDelay = 10 * time.Millisecond
	c.AttemptTimeout = 5 * time.Second
	c.BreakerThreshold = 1000
	c.NoReconcile = true
	c.Logger = hubtest.Quiet
}

func newRig(t *testing.T, tune func(*crmsync.Config)) *rig {
	t.Helper()
	ph := startPeer(t)
	h := hubtest.Start(t, hubtest.Options{})
	r := &rig{t: t, h: h, ph: ph}
	r.w = r.newWorker(tune)
	return r
}

func (r *rig) bindings() {
	if r.up != nil {
		return
	}
	up, o, err := crmsync.NewCzRMBindings(r.ph.URL, "sportello", "demo", crmsync.Mapping{}, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	r.up, r.o = up, o
}

// newWorker builds a worker on the hub's current store.
func (r *rig) newWorker(tune func(*crmsync.Config)) *crmsync.Worker {
	r.t.Helper()
	r.bindings()
	r.log = &attempts{}
	cfg := crmsync.Config{Store: r.h.Store, Upsert: r.up, Open311: r.o, Location: r.h.Engine.Site().Location(), OnAttempt: r.log.add}
	fast(&cfg)
	if tune != nil {
		tune(&cfg)
	}
	w, err := crmsync.New(cfg)
	if err != nil {
		r.t.Fatal(err)
	}
	return w
}

// run starts the worker; the returned stop cancels it and waits.
func run(t *testing.T, w *crmsync.Worker) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("worker: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Errorf("the worker did not stop")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(3 * time.Millisecond)
	}
}

var bg = context.Background()

func (r *rig) issue(service string) *hub.Ticket {
	r.t.Helper()
	tk, _, err := r.h.Engine.Issue(bg, hub.IssueRequest{Service: service, Channel: hub.ChannelTotem, By: "totem-1", Priority: hub.PriorityElderly})
	if err != nil {
		r.t.Fatal(err)
	}
	return tk
}

func (r *rig) open(counter, clerk string) {
	r.t.Helper()
	if _, err := r.h.Engine.OpenCounter(bg, counter, clerk); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) call(counter, clerk, id string) {
	r.t.Helper()
	if _, err := r.h.Engine.CallTicket(bg, counter, clerk, id); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) start(counter, clerk string) {
	r.t.Helper()
	if _, err := r.h.Engine.Start(bg, counter, clerk); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) finish(counter, clerk, outcome string) {
	r.t.Helper()
	if _, err := r.h.Engine.Finish(bg, counter, clerk, hub.FinishRequest{Outcome: outcome}); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) ticket(id string) *hub.Ticket {
	r.t.Helper()
	tk, err := r.h.Store.Ticket(id)
	if err != nil {
		r.t.Fatal(err)
	}
	return tk
}

func decodeAll(v any) any {
	b, _ := json.Marshal(v)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	_ = dec.Decode(&out)
	return out
}

// matches reports whether the peer holds exactly the mapped fields of
// the visit's current state in the hub.
func (r *rig) matches(id string) bool {
	rec := r.ph.record(id)
	if rec == nil {
		return false
	}
	tk, err := r.h.Store.Ticket(id)
	if err != nil {
		return false
	}
	want := decodeAll(r.up.Mapping().VisitFields(tk)).(map[string]any)
	have := map[string]any{}
	for k, v := range rec.Fields {
		if k == r.up.Mapping().VersionField() {
			continue // the version of the state, not a field of it
		}
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.UseNumber()
		var x any
		_ = dec.Decode(&x)
		have[k] = x
	}
	return reflect.DeepEqual(want, have)
}

func (r *rig) drained() bool {
	s := r.w.Status()
	return s.Backlog == 0 && s.InFlight == 0
}

func deliveryCode(err error) string {
	var de *crmsync.DeliveryError
	if errors.As(err, &de) {
		return de.Code
	}
	return ""
}
