//go:build unix

package httpapi_test

// BenchmarkLiveFanout1000: how long a call takes to reach 1,000 live-feed
// clients. See BENCHMARKS.md for the target, the figures and how to rerun.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/boltstore"
	"github.com/comune-rc/sportello/hub/httpapi"
	"github.com/gorilla/websocket"
	"golang.org/x/crypto/bcrypt"
)

const (
	fanoutClients = 1000
	// fanoutWait bounds every wait of the benchmark, so that a lost
	// message fails it instead of hanging it.
	fanoutWait = 30 * time.Second
)

var fanoutLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

// fanoutHub is a real hub for benchmarks: bbolt on disk with the default
// options (a real fsync per commit), the engine and the Echo API behind a
// loopback HTTP server.
type fanoutHub struct {
	eng *hub.Engine
	url string
}

func startFanoutHub(b *testing.B) *fanoutHub {
	b.Helper()
	store, err := boltstore.Open(filepath.Join(b.TempDir(), "sportello.db"), boltstore.Options{Logger: fanoutLogger})
	if err != nil {
		b.Fatal(err)
	}
	acc := hub.NewAccounts(hub.AccountsConfig{Store: store, BcryptCost: bcrypt.MinCost})
	eng, err := hub.New(hub.Config{Site: hub.BuiltinSite(), Store: store, AutoNoShowRecalls: 3, Version: "bench", Logger: fanoutLogger})
	if err != nil {
		store.Close()
		b.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	api := httpapi.New(httpapi.Config{Engine: eng, Accounts: acc, Backup: store.WriteBackup, PublicURL: srv.URL, Version: "bench", Logger: fanoutLogger})
	srv.Config.Handler = api.Handler()
	b.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		eng.Close()
		store.Close()
	})
	return &fanoutHub{eng: eng, url: srv.URL}
}

// raiseFileLimit makes room for need descriptors, raising the soft limit
// up to the hard one if it is too low.
func raiseFileLimit(b *testing.B, need uint64) {
	b.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Skipf("cannot read the open-file limit: %v", err)
	}
	if lim.Cur < 4096 && lim.Cur < lim.Max {
		want := lim
		want.Cur = min(lim.Max, max(need, 4096))
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err == nil {
			lim = want
		}
	}
	if lim.Cur < need {
		b.Skipf("the open-file limit is %d (hard %d) and %d clients need about %d: raise it with ulimit -n", lim.Cur, lim.Max, fanoutClients, need)
	}
}

// fanoutClient is one live-feed client; its reader reports the latency of
// every ticket.called it receives and the seq of the last message.
type fanoutClient struct {
	conn    *websocket.Conn
	lastSeq atomic.Uint64
}

type fanoutMessage struct {
	Seq  uint64 `json:"seq"`
	Type string `json:"type"`
}

// BenchmarkLiveFanout1000 connects 1,000 gorilla/websocket clients to GET
// /api/v1/live on loopback, each reading in its own goroutine. Each
// iteration is one call-next through the engine; every client records the
// time from just before the call to its receipt of the ticket.called
// message. p50-ms and p99-ms are over all the receipts; ns/op is the time
// until the last client got it. Between iterations (untimed) the ticket is
// finished and a new one issued, and the benchmark waits until every client
// has received those events too. Target: p99 ≤ 150 ms.
func BenchmarkLiveFanout1000(b *testing.B) {
	if testing.Short() {
		b.Skip("skipped with -short: BenchmarkLiveFanout1000 opens 1,000 websocket connections")
	}
	raiseFileLimit(b, 2*fanoutClients+256)
	h := startFanoutHub(b)
	ctx := context.Background()
	site := h.eng.Site()

	// Every desk open, each with its own clerk, and a queue to call from.
	var desks []hub.CounterDef
	for _, c := range site.Counters {
		if c.Kind == hub.KindCounter {
			desks = append(desks, c)
		}
	}
	clerk := func(i int) string { return fmt.Sprintf("clerk%02d", i+1) }
	for i, d := range desks {
		if _, err := h.eng.OpenCounter(ctx, d.ID, clerk(i)); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 100 {
		d := desks[i%len(desks)]
		if _, _, err := h.eng.Issue(ctx, hub.IssueRequest{Service: d.Services[i%len(d.Services)], By: "totem-1"}); err != nil {
			b.Fatal(err)
		}
	}

	var start atomic.Pointer[time.Time]
	got := make(chan time.Duration, fanoutClients)
	clients := connectFanoutClients(b, h.url, &start, got)
	if n := h.eng.Feed().Len(); n < fanoutClients {
		b.Fatalf("%d feed subscriptions after connecting %d clients", n, fanoutClients)
	}

	lat := make([]time.Duration, 0, fanoutClients*64)
	var callLat []time.Duration
	i := 0
	for b.Loop() {
		k := i % len(desks)
		i++
		t0 := time.Now()
		start.Store(&t0)
		t, err := h.eng.CallNext(ctx, desks[k].ID, clerk(k))
		callLat = append(callLat, time.Since(t0))
		if err != nil {
			b.Fatal(err)
		}
		if t == nil {
			b.Fatalf("desk %s found nobody to call", desks[k].ID)
		}
		timeout := time.After(fanoutWait)
		for n := 0; n < fanoutClients; n++ {
			select {
			case d := <-got:
				lat = append(lat, d)
			case <-timeout:
				b.Fatalf("only %d of %d clients received ticket.called within %v", n, fanoutClients, fanoutWait)
			}
		}

		b.StopTimer()
		if _, err := h.eng.Finish(ctx, desks[k].ID, clerk(k), hub.FinishRequest{}); err != nil {
			b.Fatal(err)
		}
		if _, _, err := h.eng.Issue(ctx, hub.IssueRequest{Service: t.Service, By: "totem-1"}); err != nil {
			b.Fatal(err)
		}
		waitFanoutSeq(b, clients, h.eng.LastSeq())
		b.StartTimer()
	}

	b.ReportMetric(percentileMs(lat, 0.50), "p50-ms")
	b.ReportMetric(percentileMs(lat, 0.99), "p99-ms")
	b.ReportMetric(percentileMs(lat, 1), "max-ms")
	// The commit alone (CallNext returning), to tell a slow store from a
	// slow fan-out.
	b.ReportMetric(percentileMs(callLat, 0.99), "call-p99-ms")
}

// percentileMs sorts lat and returns its p-quantile in milliseconds.
func percentileMs(lat []time.Duration, p float64) float64 {
	if len(lat) == 0 {
		return 0
	}
	slices.Sort(lat)
	j := int(p*float64(len(lat))+0.5) - 1
	j = max(0, min(j, len(lat)-1))
	return float64(lat[j]) / float64(time.Millisecond)
}

// connectFanoutClients dials the clients (32 at a time, not to overflow
// the listen backlog) and returns once every one has read its snapshot:
// the server subscribes a client before it sends the snapshot, so from
// then on every client is sure to receive every event.
func connectFanoutClients(b *testing.B, url string, start *atomic.Pointer[time.Time], got chan<- time.Duration) []*fanoutClient {
	b.Helper()
	wsURL := "ws" + strings.TrimPrefix(url, "http") + "/api/v1/live"
	dialer := websocket.Dialer{HandshakeTimeout: fanoutWait}
	clients := make([]*fanoutClient, fanoutClients)
	var readers sync.WaitGroup
	b.Cleanup(func() {
		for _, c := range clients {
			if c != nil {
				c.conn.Close()
			}
		}
		readers.Wait()
	})

	var next atomic.Int64
	var dialers sync.WaitGroup
	errs := make(chan error, 32)
	for range 32 {
		dialers.Go(func() {
			for {
				j := int(next.Add(1)) - 1
				if j >= fanoutClients {
					return
				}
				conn, _, err := dialer.Dial(wsURL, nil)
				if err != nil {
					errs <- fmt.Errorf("client %d: dial: %w", j, err)
					return
				}
				c := &fanoutClient{conn: conn}
				clients[j] = c
				_ = conn.SetReadDeadline(time.Now().Add(fanoutWait))
				var m fanoutMessage
				if _, data, err := conn.ReadMessage(); err != nil {
					errs <- fmt.Errorf("client %d: read the snapshot: %w", j, err)
					return
				} else if err := json.Unmarshal(data, &m); err != nil || m.Type != hub.EventSnapshot {
					errs <- fmt.Errorf("client %d: first message is %q (%v), not a snapshot", j, m.Type, err)
					return
				}
				c.lastSeq.Store(m.Seq)
				_ = conn.SetReadDeadline(time.Time{})
				readers.Go(func() { c.read(start, got) })
			}
		})
	}
	dialers.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return clients
}

func (c *fanoutClient) read(start *atomic.Pointer[time.Time], got chan<- time.Duration) {
	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		at := time.Now()
		var m fanoutMessage
		if err := json.Unmarshal(data, &m); err != nil {
			continue
		}
		if m.Type == hub.EventTicketCalled {
			if t0 := start.Load(); t0 != nil {
				got <- at.Sub(*t0)
			}
		}
		c.lastSeq.Store(m.Seq)
	}
}

// waitFanoutSeq waits until every client has received the event seq.
func waitFanoutSeq(b *testing.B, clients []*fanoutClient, seq uint64) {
	b.Helper()
	deadline := time.Now().Add(fanoutWait)
	for _, c := range clients {
		for c.lastSeq.Load() < seq {
			if time.Now().After(deadline) {
				b.Fatalf("a client is still at seq %d, not %d, after %v", c.lastSeq.Load(), seq, fanoutWait)
			}
			time.Sleep(200 * time.Microsecond)
		}
	}
}
