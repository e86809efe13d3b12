package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/comune-rc/sportello/crmsync"
	"github.com/comune-rc/sportello/crmsync/peer"
	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/boltstore"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// killLane is a counter the driver works at, with a service it serves
// (one service per counter: a counter's ticket is never taken by
// another). Every reportEvery-th visit of a lane with reportEvery set is
// a segnalazione or reclamo instead: a ticket for killReportService
// (the built-in site's service of category segnalazione, which the
// counter also serves) during which the clerk files the report.
type killLane struct {
	counter, service, clerk string
	reportEvery             int
}

var killLanes = []killLane{
	{"1", "informazioni", "clerk01", 3}, {"3", "cie", "clerk03", 0}, {"4", "elettorale", "clerk04", 0},
	{"5", "stato_civile", "clerk05", 0}, {"12", "tributi", "clerk12", 0}, {"16", "idrico", "clerk16", 0},
	{"10", "residenza", "clerk10", 0}, {"18", "protocollo", "clerk18", 2},
}

const killReportService = "segnalazioni"

// killFaults are switched on at the peer in turn, one per hub lifetime.
var killFaults = []peer.Fault{
	{Mode: peer.ModeError, Status: 500, Count: 40},
	{Mode: peer.ModeThrottle, RetryAfter: 1, Count: 4},
	{Mode: peer.ModeHang, Count: 6},
	{Mode: peer.ModeDrop, Count: 40},
	{Mode: peer.ModeSlow, Delay: 150 * time.Millisecond, Count: 40},
}

// lateHeld upserts per hub lifetime are held lateDelay (past the hub's
// --czrm-timeout of 600ms and its longest retry wait) before the peer
// applies them.
const (
	lateHeld  = 4
	lateDelay = 1500 * time.Millisecond
)

// Every lateReportEvery-th report POST is held lateReportDelay before the
// peer files it: past the hub's timeout (the hub looks the report up
// after its ambiguous wait, twice the timeout, and finds it), and past
// a kill that comes meanwhile (the next process must wait as long before
// it looks, or its own POST makes a duplicate case when the held one
// lands).
const (
	lateReportEvery = 2
	lateReportDelay = time.Second
)

// applied is what the peer applied for one visit, in order.
type applied struct {
	mu      sync.Mutex
	status  map[string][]string // ticket id → Status__c of each upsert, in apply order
	version map[string][]uint64 // ticket id → Sync_Seq__c of each upsert, in apply order
}

func (a *applied) add(rec peer.Record, _, _ bool) {
	var st string
	var v uint64
	_ = json.Unmarshal(rec.Fields["Status__c"], &st)
	_ = json.Unmarshal(rec.Fields[crmsync.DefaultSeqField], &v)
	a.mu.Lock()
	a.status[rec.ExternalID] = append(a.status[rec.ExternalID], st)
	a.version[rec.ExternalID] = append(a.version[rec.ExternalID], v)
	a.mu.Unlock()
}

// TestKill9WithCzRMFaults: a real `sportello serve` synchronising with the
// reference CzRM (in this process, its own bbolt store, real HTTP) is
// killed with SIGKILL at random moments, 20 times, while a driver takes
// 2,000 visits through the API (issue, call, start, finish), and the
// peer fails in turn with 500s, 429 + Retry-After, hangs past the
// timeout, applies then drops the connection, and answers slowly. In the
// end the peer holds exactly one record per visit with the hub's final
// state, every visit's changes were applied in order, nothing is in the
// dead letters, and every acknowledged ticket survived. Each new process
// starts at once after the kill, while the peer may still be serving the
// dead one's calls (a slow call lands after its successor's newer
// state): the version every upsert carries (Sync_Seq__c) makes the peer
// refuse such a late older state, so what it applied for a visit never
// goes back, in status or in version. Some visits are segnalazioni and
// reclami, filed by the clerk during the visit and carried by Open311
// POST (the same faults in turn, and every other POST held past the
// timeout, across kills too): every report the hub holds is exactly one
// request at the peer, with no duplicate, and the CzRM's protocol is on
// the hub's report — the successor of a process killed during a POST
// waits before it looks the report up. -short runs a smaller loop;
// SPORTELLO_KILL_SEED replays a run.
func TestKill9WithCzRMFaults(t *testing.T) {
	visits, kills := 2000, 20
	if testing.Short() {
		visits, kills = 240, 4
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("SPORTELLO_KILL_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err)
		seed = v
	}
	t.Logf("seed %d (SPORTELLO_KILL_SEED=%d replays this run)", seed, seed)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("FAILED with SPORTELLO_KILL_SEED=%d", seed)
		}
	})
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	bin := binary(t)

	// The reference CzRM.
	log := &applied{status: map[string][]string{}, version: map[string][]uint64{}}
	czrm, err := peer.New(peer.Config{Data: t.TempDir(), Demo: true, OnUpsert: log.add})
	require.NoError(t, err)
	// The calls the peer is serving when a hub is killed: the next one
	// starts without waiting for them (counted for the log only).
	var serving, orphaned atomic.Int64
	// Besides the lifetime's fault, a few upserts of each lifetime that
	// carry a state before the last (not done) are held past the hub's
	// attempt timeout before the peer sees them: the hub retries the
	// visit, by then with a newer state, or is killed and its successor
	// delivers the newer state; the held call reaches the peer last. Only
	// the version guard keeps it from putting the older state back.
	var late atomic.Int64
	late.Store(lateHeld)
	// Report POSTs: every lateReportEvery-th one held; the POSTs the peer
	// is serving when a hub is killed are counted for the log.
	var reportPosts, heldReports, servingPosts, orphanedPosts atomic.Int64
	handler := czrm.Handler()
	psrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serving.Add(1)
		defer serving.Add(-1)
		if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/open311/") {
			servingPosts.Add(1)
			defer servingPosts.Add(-1)
			body, err := io.ReadAll(r.Body)
			if err != nil {
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			if reportPosts.Add(1)%lateReportEvery == 0 {
				heldReports.Add(1)
				held := time.NewTimer(lateReportDelay)
				<-held.C // filed even when the caller is gone meanwhile
			}
		}
		if r.Method == http.MethodPatch {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			if !bytes.Contains(body, []byte(`"Status__c":"done"`)) && late.Add(-1) >= 0 {
				held := time.NewTimer(lateDelay)
				<-held.C
			}
		}
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { _ = czrm.Close(); psrv.CloseClientConnections(); psrv.Close() })

	// A fixed address, so that the driver finds each new process.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	base := "http://" + addr
	data := t.TempDir()
	args := []string{"serve", "--demo", "--data", data, "--addr", addr, "--log-level", "warn",
		"--czrm", psrv.URL, "--czrm-client-id", "sportello", "--czrm-client-secret", "demo",
		"--czrm-timeout", "600ms", "--czrm-retry-max", "400ms", "--czrm-breaker-cooldown", "200ms"}
	var (
		procMu sync.Mutex
		proc   *killProc
	)
	start := func() {
		p := startKillProc(t, bin, args, base)
		procMu.Lock()
		proc = p
		procMu.Unlock()
	}
	start()

	// The driver: one goroutine per counter, each visit issued, called,
	// started and finished, every step retried until the hub says it took
	// effect (a kill may come between the commit and the answer).
	var done atomic.Int64
	acked := sync.Map{} // ticket id → rank of the last acknowledged state
	ids := make([][]string, len(killLanes))
	protocols := make([][]string, len(killLanes)) // the reports the hub acknowledged
	errs := make(chan error, len(killLanes))
	var wg sync.WaitGroup
	per := (visits + len(killLanes) - 1) / len(killLanes)
	for li, lane := range killLanes {
		n := per
		if li == len(killLanes)-1 {
			n = visits - per*(len(killLanes)-1)
		}
		wg.Add(1)
		go func(li int, lane killLane, n int) {
			defer wg.Done()
			d := &killDriver{base: base, totem: "demo-totem-1", counter: lane.counter, clerk: lane.clerk,
				http: &http.Client{Timeout: 5 * time.Second}, deadline: time.Now().Add(4 * time.Minute)}
			for i := 0; i < n; i++ {
				d.service, d.report = lane.service, lane.reportEvery > 0 && i%lane.reportEvery == lane.reportEvery-1
				if d.report {
					d.service = killReportService
				}
				id, err := d.visit(fmt.Sprintf("kill-%d-%s-%d", seed, lane.counter, i), &acked)
				if err != nil {
					errs <- fmt.Errorf("counter %s visit %d: %w", lane.counter, i, err)
					return
				}
				ids[li] = append(ids[li], id)
				done.Add(1)
			}
			protocols[li] = d.protocols
		}(li, lane, n)
	}

	// The killer: at random points of the run, a SIGKILL, the next fault
	// at the peer, a restart.
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	for k := 1; k <= kills; k++ {
		at := int64(k*visits/(kills+1) + rng.IntN(visits/(2*(kills+1))+1) - visits/(4*(kills+1)))
		for done.Load() < at {
			select {
			case <-finished:
			case err := <-errs:
				t.Fatal(err)
			case <-time.After(2 * time.Millisecond):
				continue
			}
			break
		}
		time.Sleep(time.Duration(rng.IntN(20_000)) * time.Microsecond) // a random moment
		procMu.Lock()
		proc.kill9()
		procMu.Unlock()
		orphaned.Add(serving.Load())
		orphanedPosts.Add(servingPosts.Load())
		late.Store(lateHeld)
		require.NoError(t, czrm.Faults().Set(peer.KindUpsert, killFaults[(k-1)%len(killFaults)]))
		// Open311 fails in one lifetime in three only (each fault in
		// turn): in the others the new process's first look-up of a
		// report its predecessor was posting reaches a healthy peer at
		// once, and must not come before the held POST has landed.
		if k%3 == 0 {
			require.NoError(t, czrm.Faults().Set(peer.KindOpen311, killFaults[(k/3-1)%len(killFaults)]))
		} else {
			czrm.Faults().Clear(peer.KindOpen311)
		}
		start()
	}
	select {
	case <-finished:
	case err := <-errs:
		t.Fatal(err)
	}
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	require.EqualValues(t, visits, done.Load())

	// The backlog drains once the peer is healthy.
	czrm.Faults().ClearAll()
	admin := killLogin(t, base, "admin")
	var st crmsync.Status
	deadline := time.Now().Add(60 * time.Second)
	for {
		status, body, err := admin.do("GET", "/api/v1/admin/crmsync", "", nil)
		require.NoError(t, err)
		require.Equal(t, 200, status, string(body))
		require.NoError(t, json.Unmarshal(body, &st))
		if st.Backlog == 0 && st.InFlight == 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "the backlog did not drain: %s", body)
		time.Sleep(20 * time.Millisecond)
	}
	status, body, err := admin.do("GET", "/api/v1/admin/crmsync/dead", "", nil)
	require.NoError(t, err)
	require.Equal(t, 200, status)
	require.JSONEq(t, "[]", string(body), "dead letters after faults that are all retryable")
	require.Zero(t, st.DeadLetters)
	procMu.Lock()
	require.NoError(t, proc.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, proc.cmd.Wait(), "clean exit on SIGTERM")
	procMu.Unlock()

	// What the peer holds against the hub's store.
	store, err := boltstore.Open(filepath.Join(data, "sportello.db"), boltstore.Options{})
	require.NoError(t, err)
	defer store.Close()
	m := crmsync.DefaultMapping()
	rank := map[string]int{"waiting": 0, "called": 1, "serving": 2, "done": 3}
	all := map[string]bool{}
	for _, l := range ids {
		for _, id := range l {
			require.False(t, all[id], "visit %s driven twice", id)
			all[id] = true
		}
	}
	require.Len(t, all, visits)
	log.mu.Lock()
	defer log.mu.Unlock()
	for id := range all {
		tk, err := store.Ticket(id)
		require.NoError(t, err, "acknowledged visit %s lost", id)
		require.Equal(t, hub.StatusDone, tk.Status, "visit %s", id)
		if r, ok := acked.Load(id); ok {
			require.GreaterOrEqual(t, rank[string(tk.Status)], r.(int), "visit %s went back", id)
		}
		recs, err := czrm.Records(id)
		require.NoError(t, err)
		require.Len(t, recs, 1, "records at the peer for visit %s", id)
		rec := recs[0]
		require.Equal(t, m.Object, rec.Object)
		want := m.VisitFields(tk)
		for k, v := range want {
			wb, _ := json.Marshal(v)
			got := rec.Fields[k]
			if v == nil {
				got = bytes.TrimSpace(got)
				require.True(t, got == nil || string(got) == "null", "visit %s field %s: %s, want null", id, k, got)
				continue
			}
			require.JSONEq(t, string(wb), string(rec.Fields[k]), "visit %s field %s", id, k)
		}
		seq, vs := log.status[id], log.version[id]
		require.NotEmpty(t, seq, "visit %s", id)
		for i := 1; i < len(seq); i++ {
			require.GreaterOrEqual(t, rank[seq[i]], rank[seq[i-1]], "visit %s: the peer applied %v: out of order", id, seq)
			require.GreaterOrEqual(t, vs[i], vs[i-1], "visit %s: the peer applied versions %v: an older state after a newer", id, vs)
			if vs[i] == vs[i-1] {
				require.Equal(t, seq[i], seq[i-1], "visit %s: one version, two states %v %v", id, seq, vs)
			}
		}
		require.Equal(t, "done", seq[len(seq)-1], "visit %s", id)
		require.NotZero(t, vs[0], "visit %s: an upsert without its version", id)
		var held uint64
		require.NoError(t, json.Unmarshal(rec.Fields[crmsync.DefaultSeqField], &held))
		require.Equal(t, vs[len(vs)-1], held, "visit %s: the version held is the last applied", id)
	}
	stats := czrm.Faults().Stats(peer.KindUpsert)
	require.EqualValues(t, visits, stats.Created, "records created at the peer")

	// Every report the hub holds (those it acknowledged, and any filed
	// again by a driver that lost the answer to a kill) is exactly one
	// Open311 request at the peer, and its service_request_id is on the
	// hub's report.
	reports := killReports(t, store)
	acks := 0
	for _, l := range protocols {
		for _, p := range l {
			require.Contains(t, reports, p, "acknowledged report %s lost", p)
			acks++
		}
	}
	wantAcks := 0
	for _, lane := range killLanes {
		if lane.reportEvery > 0 {
			wantAcks += (visits / len(killLanes)) / lane.reportEvery
		}
	}
	require.GreaterOrEqual(t, acks, wantAcks, "reports filed by the driver")
	require.Len(t, reports, acks, "one report at the hub per report filed, retries included")
	o311 := czrm.Faults().Stats(peer.KindOpen311)
	require.Zero(t, o311.Duplicates, "duplicate Open311 requests at the peer")
	for p, rep := range reports {
		reqs, err := czrm.ServiceRequestsByExternalID(p)
		require.NoError(t, err)
		var filed []string
		for _, r := range reqs {
			filed = append(filed, r.ServiceRequestID)
		}
		require.Len(t, filed, 1, "Open311 requests at the peer for report %s", p)
		require.Equal(t, "sent", rep.Status, "report %s", p)
		require.Equal(t, filed[0], rep.ServiceRequestID, "report %s: the CzRM's protocol on the hub's report", p)
	}
	require.EqualValues(t, len(reports), o311.Created, "Open311 requests created at the peer")
	t.Logf("%d visits, %d kills: peer calls %d (faulted %d), applied %d (created %d, updated %d, unchanged %d), "+
		"refused as stale %d; calls in flight at the kills %d; %d reports: Open311 calls %d (faulted %d), "+
		"POSTs %d (held %d), created %d, duplicates %d; report POSTs in flight at the kills %d",
		visits, kills, stats.Calls, stats.Faulted, stats.Applied, stats.Created, stats.Updated, stats.Unchanged,
		stats.Stale, orphaned.Load(), len(reports), o311.Calls, o311.Faulted, reportPosts.Load(), heldReports.Load(),
		o311.Created, o311.Duplicates, orphanedPosts.Load())
}

// killReports reads every report of the hub's store (its reports bucket:
// the store has no listing), by protocol.
func killReports(t *testing.T, store *boltstore.Store) map[string]hub.Report {
	t.Helper()
	out := map[string]hub.Report{}
	require.NoError(t, store.DB().View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("reports"))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var r hub.Report
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			out[string(k)] = r
			return nil
		})
	}))
	return out
}

// killProc is one `sportello serve` of the loop.
type killProc struct {
	cmd *exec.Cmd
}

// startKillProc starts the binary and waits until it listens.
func startKillProc(t *testing.T, bin string, args []string, base string) *killProc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	out := &bytes.Buffer{}
	mu := &sync.Mutex{}
	cmd.Stderr = &lockedWriter{mu, out}
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	up := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		once := false
		for sc.Scan() {
			if !once && strings.Contains(sc.Text(), "listening on ") {
				once = true
				close(up)
			}
		}
	}()
	select {
	case <-up:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("hub did not start:\n%s", out)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_, _ = cmd.Process.Wait()
		}
	})
	return &killProc{cmd: cmd}
}

func (p *killProc) kill9() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	_, _ = p.cmd.Process.Wait()
}

// killDriver takes visits through the API at one counter.
type killDriver struct {
	base, totem, counter, service, clerk string
	token                                string
	http                                 *http.Client
	deadline                             time.Time
	// report makes the next visit a report visit: the clerk files a
	// segnalazione or reclamo while serving; protocols are those the hub
	// acknowledged.
	report    bool
	protocols []string
}

type killTicket struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Counter string `json:"counter"`
}

var killRank = map[string]int{"waiting": 0, "called": 1, "serving": 2, "done": 3, "no_show": 4, "cancelled": 4}

// call makes one request; a transport error (the hub is down) gives
// status 0.
func (d *killDriver) call(method, path, token, body string, hdr map[string]string) (int, []byte) {
	c := &apiClient{base: d.base, token: token, http: d.http}
	status, b, err := c.do(method, path, body, hdr)
	if err != nil {
		return 0, nil
	}
	return status, b
}

func (d *killDriver) wait() error {
	if time.Now().After(d.deadline) {
		return fmt.Errorf("no progress before the deadline")
	}
	time.Sleep(5 * time.Millisecond) // the hub is restarting: poll again
	return nil
}

func (d *killDriver) login() error {
	for {
		status, b := d.call("POST", "/api/v1/auth/login", "", `{"username":"`+d.clerk+`","password":"demo"}`, nil)
		if status == 200 {
			var r struct{ Token string }
			if err := json.Unmarshal(b, &r); err != nil {
				return err
			}
			d.token = r.Token
			return nil
		}
		if status != 0 && status < 500 {
			return fmt.Errorf("login: %d %s", status, b)
		}
		if err := d.wait(); err != nil {
			return err
		}
	}
}

// clerkCall is a clerk's request; it logs in again after a 401.
func (d *killDriver) clerkCall(method, path, body string) (int, []byte, error) {
	return d.clerkCallWith(method, path, body, nil)
}

func (d *killDriver) clerkCallWith(method, path, body string, header map[string]string) (int, []byte, error) {
	if d.token == "" {
		if err := d.login(); err != nil {
			return 0, nil, err
		}
	}
	status, b := d.call(method, path, d.token, body, header)
	if status == 401 {
		d.token = ""
	}
	return status, b, nil
}

func (d *killDriver) ticket(id string) (killTicket, bool, error) {
	status, b, err := d.clerkCall("GET", "/api/v1/tickets/"+id, "")
	if err != nil || status != 200 {
		return killTicket{}, false, err
	}
	var tk killTicket
	return tk, json.Unmarshal(b, &tk) == nil, nil
}

// visit takes one visit from issue to finish and returns its ticket id.
func (d *killDriver) visit(key string, acked *sync.Map) (string, error) {
	var id string
	for id == "" {
		status, b := d.call("POST", "/api/v1/tickets", d.totem, `{"service":"`+d.service+`"}`, map[string]string{"Idempotency-Key": key})
		switch {
		case status == 201 || status == 200:
			var tk killTicket
			if err := json.Unmarshal(b, &tk); err != nil {
				return "", err
			}
			id = tk.ID
			acked.Store(id, 0)
		case status == 0 || status >= 500 || status == 503:
			if err := d.wait(); err != nil {
				return "", err
			}
		default:
			return "", fmt.Errorf("issue: %d %s", status, b)
		}
	}
	steps := []struct {
		path, body string
		want       int
	}{
		{"/api/v1/counters/" + d.counter + "/call", `{"ticket":"` + id + `"}`, 1},
		{"/api/v1/counters/" + d.counter + "/start", "", 2},
		{"/api/v1/counters/" + d.counter + "/finish", `{"outcome":"informazioni_date"}`, 3},
	}
	for _, s := range steps {
		if s.want == 3 && d.report {
			if err := d.fileReport(key); err != nil {
				return "", err
			}
		}
		for {
			status, b, err := d.clerkCall("POST", s.path, s.body)
			if err != nil {
				return "", err
			}
			if status == 200 {
				acked.Store(id, s.want)
				break
			}
			// Did it take effect before the kill, or is the counter closed?
			tk, ok, err := d.ticket(id)
			if err != nil {
				return "", err
			}
			if ok && killRank[tk.Status] >= s.want {
				if killRank[tk.Status] > 3 {
					return "", fmt.Errorf("visit %s ended %s", id, tk.Status)
				}
				break
			}
			if status == 409 {
				var pb struct{ Code string }
				_ = json.Unmarshal(b, &pb)
				if pb.Code == "counter_closed" {
					if st, b2, err := d.clerkCall("POST", "/api/v1/counters/"+d.counter+"/open", ""); err != nil {
						return "", err
					} else if st != 200 && st != 0 && st < 500 {
						return "", fmt.Errorf("open counter %s: %d %s", d.counter, st, b2)
					}
					continue
				}
			}
			if status != 0 && status != 401 && status < 500 && status != 409 {
				return "", fmt.Errorf("%s: %d %s", s.path, status, b)
			}
			if err := d.wait(); err != nil {
				return "", fmt.Errorf("%s: last answer %d %s: %w", s.path, status, b, err)
			}
		}
	}
	return id, nil
}

// fileReport files the visit's segnalazione or reclamo, again after a
// kill that took the answer, with the same Idempotency-Key: the hub holds
// one report per visit that files one.
func (d *killDriver) fileReport(key string) error {
	kind, topic := "segnalazione", hub.ReportTopics[len(d.protocols)%len(hub.ReportTopics)]
	if len(d.protocols)%2 == 1 {
		kind = "reclamo"
	}
	body := `{"kind":"` + kind + `","topic":"` + topic + `","description":"Segnalazione di prova ` + key + `","location":"Via Marina 12"}`
	for {
		status, b, err := d.clerkCallWith("POST", "/api/v1/reports", body, map[string]string{"Idempotency-Key": "report-" + key})
		if err != nil {
			return err
		}
		if status == 201 || status == 200 {
			var r struct{ Protocol string }
			if err := json.Unmarshal(b, &r); err != nil || r.Protocol == "" {
				return fmt.Errorf("report: %d %s", status, b)
			}
			d.protocols = append(d.protocols, r.Protocol)
			return nil
		}
		if status != 0 && status != 401 && status < 500 {
			return fmt.Errorf("report: %d %s", status, b)
		}
		if err := d.wait(); err != nil {
			return fmt.Errorf("report: last answer %d %s: %w", status, b, err)
		}
	}
}

func killLogin(t *testing.T, base, user string) *apiClient {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c := &apiClient{base: base, http: &http.Client{Timeout: 10 * time.Second}}
		status, body, err := c.do("POST", "/api/v1/auth/login", `{"username":"`+user+`","password":"demo"}`, nil)
		if err == nil && status == 200 {
			var r struct{ Token string }
			require.NoError(t, json.Unmarshal(body, &r))
			c.token = r.Token
			return c
		}
		require.True(t, time.Now().Before(deadline), "login %s: %v %d %s", user, err, status, body)
		time.Sleep(10 * time.Millisecond)
	}
}
