//go:build unix

package display_test

// BenchmarkCallToDisplay: how long a call-next takes to reach a display's
// DOM, measured in the browser. See BENCHMARKS.md ("Display latency").

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/comune-rc/sportello/display"
	"github.com/comune-rc/sportello/hub"
	"github.com/gorilla/websocket"
)

// benchObserver records, per ticket number, when the number first appears
// in the latest-call element (a MutationObserver: the DOM change itself,
// before layout and paint), in ms since the epoch with sub-ms resolution.
const benchObserver = `(function(){
  window.__bench = {t: {}, waiters: {}};
  var hero = document.getElementById('hero');
  function seen() {
    var n = hero.getAttribute('data-number');
    if (!n || (n in window.__bench.t)) return;
    window.__bench.t[n] = performance.timeOrigin + performance.now();
    var w = window.__bench.waiters[n];
    if (w) { delete window.__bench.waiters[n]; w(window.__bench.t[n]); }
  }
  new MutationObserver(seen).observe(hero, {attributes: true, childList: true, subtree: true});
  window.__benchWait = function(n) {
    if (n in window.__bench.t) return Promise.resolve(window.__bench.t[n]);
    return new Promise(function(res){ window.__bench.waiters[n] = res; });
  };
  return true;
})()`

// BenchmarkCallToDisplay measures call-next → display DOM updated: the
// time from just before Engine.CallNext (Go, time.Now) to the moment the
// display page's MutationObserver sees the ticket number in the latest
// call (browser, performance.timeOrigin + performance.now(); both clocks
// are the machine's wall clock). The display is a real screen (device
// token, audio on, heartbeats) in headless Chromium on a real hub (bbolt
// with fsync). clients=1000 adds 1,000 gorilla/websocket clients on
// /api/v1/live, each reading in its own goroutine. Each iteration is one
// call; between iterations (untimed) the ticket is finished and another
// issued. Target: p99 ≤ 150 ms.
func BenchmarkCallToDisplay(b *testing.B) {
	if testing.Short() {
		b.Skip("skipped with -short: BenchmarkCallToDisplay drives Chromium and 1,000 websocket clients")
	}
	for _, n := range []int{0, 1000} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) { benchCallToDisplay(b, n) })
	}
}

func benchCallToDisplay(b *testing.B, clients int) {
	if clients > 0 {
		raiseFileLimit(b, uint64(2*clients+512))
	}
	e := startHub(b, display.Config{})
	ctx := context.Background()
	e.open(b, "1", "clerk01")
	services := []string{"certificati", "informazioni", "protocollo", "segnalazioni"}

	tb := newTab(b, 1920, 1080)
	tb.navigate(deviceURL(e, "1", ""))
	tb.online()
	tb.eval(benchObserver, nil)

	stop := connectClients(b, e.h.URL, clients)
	defer stop()

	lat := make([]float64, 0, b.N)
	call := make([]float64, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if _, _, err := e.engine().Issue(ctx, hub.IssueRequest{Service: services[i%len(services)], By: "bench"}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 := time.Now()
		tk, err := e.engine().CallNext(ctx, "1", "clerk01")
		if err != nil || tk == nil {
			b.Fatalf("call-next: %v %v", tk, err)
		}
		call = append(call, float64(time.Since(t0).Microseconds())/1000)
		wctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
		at, err := chromedp.Run(wctx, chromedp.Evaluate[float64](`window.__benchWait(`+jsString(tk.Number)+`)`, chromedp.EvalAwaitPromise))
		cancel()
		if err != nil {
			b.Fatalf("waiting for %s on the display: %v", tk.Number, err)
		}
		b.StopTimer()
		lat = append(lat, at-float64(t0.UnixNano())/1e6)
		if _, err := e.engine().Finish(ctx, "1", "clerk01", hub.FinishRequest{}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	slices.Sort(lat)
	slices.Sort(call)
	b.ReportMetric(pct(lat, 50), "p50-ms")
	b.ReportMetric(pct(lat, 99), "p99-ms")
	b.ReportMetric(lat[len(lat)-1], "max-ms")
	b.ReportMetric(pct(call, 99), "call-p99-ms")
	if errs := tb.str(`JSON.stringify(window.__sportello.errors)`); errs != "[]" {
		b.Errorf("page errors: %s", errs)
	}
}

func pct(sorted []float64, p int) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[min(max(i-1, 0), len(sorted)-1)]
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// connectClients opens n live-feed clients that keep reading, and waits
// until every one has its snapshot (so is subscribed).
func connectClients(b *testing.B, base string, n int) func() {
	b.Helper()
	if n == 0 {
		return func() {}
	}
	url := "ws" + strings.TrimPrefix(base, "http") + "/api/v1/live"
	conns := make([]*websocket.Conn, 0, n)
	var ready, done sync.WaitGroup
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	for i := 0; i < n; i++ {
		c, _, err := d.Dial(url, nil)
		if err != nil {
			for _, c := range conns {
				c.Close()
			}
			b.Fatalf("client %d: %v", i, err)
		}
		conns = append(conns, c)
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			first := true
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					if first {
						ready.Done()
					}
					return
				}
				if first {
					first = false
					ready.Done()
				}
			}
		}()
	}
	ready.Wait()
	return func() {
		for _, c := range conns {
			c.Close()
		}
		done.Wait()
	}
}

// raiseFileLimit makes room for need descriptors.
func raiseFileLimit(b *testing.B, need uint64) {
	b.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Skipf("cannot read the open-file limit: %v", err)
	}
	if lim.Cur < need && lim.Cur < lim.Max {
		want := lim
		want.Cur = min(lim.Max, max(need, 4096))
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err == nil {
			lim = want
		}
	}
	if lim.Cur < need {
		b.Skipf("the open-file limit is %d (hard %d); %d are needed: raise it with ulimit -n", lim.Cur, lim.Max, need)
	}
}
