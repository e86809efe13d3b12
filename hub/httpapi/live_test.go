package httpapi_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/httpapi"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
)

type feedMsg struct {
	Seq  uint64          `json:"seq"`
	Type string          `json:"type"`
	At   time.Time       `json:"at"`
	Data json.RawMessage `json:"data"`
}

func liveDial(t *testing.T, h *testHub, query string) *websocket.Conn {
	t.Helper()
	u := "ws" + strings.TrimPrefix(h.URL, "http") + "/api/v1/live" + query
	c, resp, err := websocket.DefaultDialer.Dial(u, nil)
	require.NoError(t, err)
	resp.Body.Close()
	t.Cleanup(func() { c.Close() })
	return c
}

func read(t *testing.T, c *websocket.Conn) feedMsg {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	var m feedMsg
	require.NoError(t, c.ReadJSON(&m))
	return m
}

func issue(t *testing.T, h *testHub, service string, prio string) ticket {
	t.Helper()
	body := `{"service":"` + service + `"}`
	if prio != "" {
		body = `{"service":"` + service + `","priority":"` + prio + `"}`
	}
	status, b := h.do(http.MethodPost, "/api/v1/tickets", "demo-totem-1", body)
	require.Equal(t, http.StatusCreated, status, string(b))
	return decode[ticket](t, b)
}

func TestLiveSnapshotThenEvents(t *testing.T) {
	h := newTestHub(t)
	issue(t, h, "certificati", "")
	c := liveDial(t, h, "")
	snap := read(t, c)
	require.Equal(t, "snapshot", snap.Type)
	require.Equal(t, uint64(1), snap.Seq)
	var s hub.Snapshot
	require.NoError(t, json.Unmarshal(snap.Data, &s))
	require.Len(t, s.Counters, 23)
	require.NotEmpty(t, s.Queue)

	clerk := h.as("clerk03")
	status, _ := clerk.do(http.MethodPost, "/api/v1/counters/3/open", nil)
	require.Equal(t, http.StatusOK, status)
	issue(t, h, "cie", "pregnancy")
	status, _ = clerk.do(http.MethodPost, "/api/v1/counters/3/call-next", nil)
	require.Equal(t, http.StatusOK, status)

	opened := read(t, c)
	require.Equal(t, "counter.opened", opened.Type)
	issued := read(t, c)
	require.Equal(t, "ticket.issued", issued.Type)
	called := read(t, c)
	require.Equal(t, "ticket.called", called.Type)
	require.Equal(t, []uint64{2, 3, 4}, []uint64{opened.Seq, issued.Seq, called.Seq})
	var d map[string]any
	require.NoError(t, json.Unmarshal(called.Data, &d))
	require.Equal(t, "3", d["counter"])
	require.NotEmpty(t, d["number"])
	require.NotEmpty(t, d["service"])
	for _, m := range []feedMsg{opened, issued, called} {
		// The public feed never carries a priority category or a clerk.
		require.NotContains(t, string(m.Data), "pregnancy")
		require.NotContains(t, string(m.Data), "priority")
		require.NotContains(t, string(m.Data), "clerk03")
	}
}

// TestLiveReconnectSince: a client that reconnects with since= gets every
// event it missed, once, in order, then the live ones.
func TestLiveReconnectSince(t *testing.T) {
	h := newTestHub(t)
	c := liveDial(t, h, "")
	snap := read(t, c)
	issue(t, h, "certificati", "")
	last := read(t, c)
	require.Equal(t, snap.Seq+1, last.Seq)
	c.Close()

	for i := 0; i < 20; i++ {
		issue(t, h, "tributi", "")
	}
	c2 := liveDial(t, h, "?since="+itoa64(last.Seq))
	want := last.Seq + 1
	for i := 0; i < 20; i++ {
		m := read(t, c2)
		require.Equal(t, want, m.Seq, "missed events replayed once, in order")
		require.Equal(t, "ticket.issued", m.Type)
		want++
	}
	issue(t, h, "idrico", "")
	m := read(t, c2)
	require.Equal(t, want, m.Seq, "then the live stream, without a gap")

	// Since from another store (the future): a fresh snapshot instead.
	c3 := liveDial(t, h, "?since=999999")
	require.Equal(t, "snapshot", read(t, c3).Type)
	// since=current: nothing to replay, then live.
	c4 := liveDial(t, h, "?since="+itoa64(want))
	issue(t, h, "idrico", "")
	m = read(t, c4)
	require.Equal(t, want+1, m.Seq)
}

// TestLiveSlowClientDropped: a client that stops reading is dropped, and
// the others get every event without waiting for it.
func TestLiveSlowClientDropped(t *testing.T) {
	h := newTestHub(t, withAPI(func(c *httpapi.Config) { c.LiveBuffer = 256; c.WriteTimeout = 500 * time.Millisecond }))
	// The slow client has a tiny socket buffer and never reads.
	dialer := *websocket.DefaultDialer
	dialer.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			_ = conn.(*net.TCPConn).SetReadBuffer(1024)
		}
		return conn, err
	}
	u := "ws" + strings.TrimPrefix(h.URL, "http") + "/api/v1/live"
	slow, resp, err := dialer.Dial(u, nil)
	require.NoError(t, err)
	resp.Body.Close()
	defer slow.Close()
	fast := liveDial(t, h, "")
	read(t, fast) // snapshot

	const n = 600
	var wg sync.WaitGroup
	got := make(chan uint64, n)
	wg.Add(1)
	var closeGot sync.Once
	go func() {
		// Reads on after the n events, so that it keeps answering pings.
		defer wg.Done()
		defer closeGot.Do(func() { close(got) })
		for i := 0; ; i++ {
			_ = fast.SetReadDeadline(time.Now().Add(20 * time.Second))
			var m feedMsg
			if err := fast.ReadJSON(&m); err != nil {
				return
			}
			if i < n {
				got <- m.Seq
			}
			if i == n-1 {
				closeGot.Do(func() { close(got) })
			}
		}
	}()
	t0 := time.Now()
	// Issue concurrently so that events come in bursts (group commit).
	var iw sync.WaitGroup
	for g := 0; g < 20; g++ {
		iw.Add(1)
		go func() {
			defer iw.Done()
			for i := 0; i < n/20; i++ {
				h.do(http.MethodPost, "/api/v1/tickets", "demo-totem-1", `{"service":"informazioni"}`)
			}
		}()
	}
	iw.Wait()
	t.Logf("issued after %s", time.Since(t0))
	var seqs []uint64
	for s := range got {
		seqs = append(seqs, s)
	}
	t.Logf("fast got all after %s", time.Since(t0))
	require.Len(t, seqs, n, "the fast client got every event")
	for i := 1; i < len(seqs); i++ {
		require.Equal(t, seqs[i-1]+1, seqs[i])
	}
	// The slow client, which never reads and so never answers pings, is
	// disconnected by the hub; the fast one stays.
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, body := h.do(http.MethodGet, "/metrics", "", nil)
		if strings.Contains(string(body), "sportello_websocket_clients 1\n") {
			require.Contains(t, string(body), "sportello_websocket_dropped_total 1\n")
			break
		}
		require.True(t, time.Now().Before(deadline), "slow client never dropped:\n%s", body)
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("slow dropped after %s", time.Since(t0))
	fast.Close()
	wg.Wait()
}

func asClose(err error, ce **websocket.CloseError) bool {
	c, ok := err.(*websocket.CloseError)
	if ok {
		*ce = c
	}
	return ok
}

func itoa64(n uint64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
