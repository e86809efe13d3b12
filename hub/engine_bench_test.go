package hub_test

// Benchmarks of the engine on a real bbolt file with a real fsync per
// transaction (boltstore.Options{}: NoSync is false). See BENCHMARKS.md for
// the targets, the figures measured and how to rerun them.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/boltstore"
)

// benchLogger keeps the engine's and the store's logs out of the results.
var benchLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

// benchCommits counts the batches the engine committed and the events in
// them, to tell how much group commit actually grouped.
type benchCommits struct {
	batches atomic.Int64
	events  atomic.Int64
}

// openBenchEngine starts an engine on a fresh bbolt file in b.TempDir with
// the default store options (a real fsync per commit). The engine and the
// store are closed at the end of the benchmark.
func openBenchEngine(b *testing.B, mutate func(*hub.Config)) (*hub.Engine, *benchCommits) {
	b.Helper()
	store, err := boltstore.Open(filepath.Join(b.TempDir(), "sportello.db"), boltstore.Options{Logger: benchLogger})
	if err != nil {
		b.Fatal(err)
	}
	commits := &benchCommits{}
	cfg := hub.Config{
		Site:  hub.BuiltinSite(),
		Store: store,
		// As `sportello serve` runs it: the estimates off the writer.
		AsyncEstimates:    true,
		AutoNoShowRecalls: 3,
		Version:           "bench",
		Logger:            benchLogger,
		OnCommit: func(events []hub.Event) {
			commits.batches.Add(1)
			commits.events.Add(int64(len(events)))
		},
	}
	if mutate != nil {
		mutate(&cfg)
	}
	eng, err := hub.New(cfg)
	if err != nil {
		store.Close()
		b.Fatal(err)
	}
	b.Cleanup(func() {
		eng.Close()
		store.Close()
	})
	return eng, commits
}

// benchDesks are the front-office desks of the built-in site (not the
// consultation rooms) and the services they serve between them.
func benchDesks(site *hub.Site) (desks []hub.CounterDef, services []string) {
	seen := map[string]bool{}
	for _, c := range site.Counters {
		if c.Kind != hub.KindCounter {
			continue
		}
		desks = append(desks, c)
		for _, s := range c.Services {
			if !seen[s] {
				seen[s] = true
				services = append(services, s)
			}
		}
	}
	return desks, services
}

func benchClerk(i int) string { return fmt.Sprintf("clerk%02d", i+1) }

// reportLatencies reports the p50, p99 and max of lat in milliseconds.
func reportLatencies(b *testing.B, lat []time.Duration) {
	b.Helper()
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		i := int(p*float64(len(lat))+0.5) - 1
		i = max(0, min(i, len(lat)-1))
		return float64(lat[i]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1])/float64(time.Millisecond), "max-ms")
}

// BenchmarkCallNext measures call-next latency with a real fsync per
// transaction: every desk of the built-in site is open (one clerk each) and
// the waiting queue is kept at a fixed size; each iteration is one timed
// CallNext on the next desk in turn, then (untimed) the Finish of the
// called ticket and the issue of a replacement ticket for the same service.
// ns/op, p50-ms and p99-ms are the CallNext latency alone. Target: p99 ≤ 20 ms.
// The estimates run off the writer as in `sportello serve`; the /writer
// variants keep them on the writer, as the simulator does, for comparison.
func BenchmarkCallNext(b *testing.B) {
	for _, waiting := range []int{100, 1000} {
		b.Run(fmt.Sprintf("waiting=%d", waiting), func(b *testing.B) {
			benchCallNext(b, waiting, nil)
		})
		b.Run(fmt.Sprintf("waiting=%d/writer", waiting), func(b *testing.B) {
			benchCallNext(b, waiting, func(c *hub.Config) { c.AsyncEstimates = false })
		})
	}
}

func benchCallNext(b *testing.B, waiting int, mutate func(*hub.Config)) {
	eng, _ := openBenchEngine(b, mutate)
	ctx := context.Background()
	desks, services := benchDesks(eng.Site())
	for i, d := range desks {
		if _, err := eng.OpenCounter(ctx, d.ID, benchClerk(i)); err != nil {
			b.Fatal(err)
		}
	}
	issueConcurrently(b, eng, waiting, services)

	lat := make([]time.Duration, 0, 4096)
	i := 0
	for b.Loop() {
		k := i % len(desks)
		i++
		start := time.Now()
		t, err := eng.CallNext(ctx, desks[k].ID, benchClerk(k))
		lat = append(lat, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		if t == nil {
			b.Fatalf("desk %s found nobody to call", desks[k].ID)
		}
		b.StopTimer()
		if _, err := eng.Finish(ctx, desks[k].ID, benchClerk(k), hub.FinishRequest{}); err != nil {
			b.Fatal(err)
		}
		if _, _, err := eng.Issue(ctx, hub.IssueRequest{Service: t.Service, By: "totem-1"}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	reportLatencies(b, lat)
}

// issueConcurrently issues n tickets spread over services from 32
// goroutines, so that the pool is filled in a few group commits.
func issueConcurrently(b *testing.B, eng *hub.Engine, n int, services []string) {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 32 {
		wg.Go(func() {
			for {
				j := int(next.Add(1)) - 1
				if j >= n {
					return
				}
				if _, _, err := eng.Issue(context.Background(), hub.IssueRequest{Service: services[j%len(services)], By: "totem-1"}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

// BenchmarkIssueFsyncPerTicket is one client (a totem) issuing tickets one
// after the other with MaxBatch 1: one transaction and one fsync per
// ticket. Target: ≥ 500 tickets/s.
func BenchmarkIssueFsyncPerTicket(b *testing.B) {
	eng, commits := openBenchEngine(b, func(c *hub.Config) { c.MaxBatch = 1 })
	ctx := context.Background()
	services := eng.Site().Services
	lat := make([]time.Duration, 0, 4096)
	i := 0
	for b.Loop() {
		start := time.Now()
		_, _, err := eng.Issue(ctx, hub.IssueRequest{Service: services[i%len(services)].ID, By: "totem-1"})
		lat = append(lat, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tickets/s")
	b.ReportMetric(float64(commits.events.Load())/float64(max(1, commits.batches.Load())), "tickets/commit")
	reportLatencies(b, lat)
}

// benchIssueClients is how many clients issue at once in
// BenchmarkIssueGroupCommit.
const benchIssueClients = 64

// BenchmarkIssueGroupCommit is 64 concurrent clients issuing tickets over
// all the site's services with group commit (MaxBatch default 256): the
// writer takes every command queued meanwhile into one transaction. b.N is
// the total number of tickets. Target: ≥ 5,000 tickets/s.
func BenchmarkIssueGroupCommit(b *testing.B) {
	eng, commits := openBenchEngine(b, nil)
	services := eng.Site().Services
	var next atomic.Int64
	var wg sync.WaitGroup
	lats := make([][]time.Duration, benchIssueClients)
	errs := make(chan error, benchIssueClients)
	b.ResetTimer()
	for c := range benchIssueClients {
		wg.Go(func() {
			ctx := context.Background()
			for {
				j := int(next.Add(1)) - 1
				if j >= b.N {
					return
				}
				start := time.Now()
				_, _, err := eng.Issue(ctx, hub.IssueRequest{Service: services[j%len(services)].ID, By: fmt.Sprintf("totem-%d", c%3+1)})
				lats[c] = append(lats[c], time.Since(start))
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tickets/s")
	b.ReportMetric(float64(commits.events.Load())/float64(max(1, commits.batches.Load())), "tickets/commit")
	reportLatencies(b, slices.Concat(lats...))
}
