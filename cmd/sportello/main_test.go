package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds the real sportello once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sportello-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "sportello")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return binPath
}

// proc is a running `sportello serve`.
type proc struct {
	cmd *exec.Cmd
	url string
	out *bytes.Buffer
	mu  *sync.Mutex
}

func startServe(t *testing.T, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	p := &proc{cmd: cmd, out: &bytes.Buffer{}, mu: &sync.Mutex{}}
	cmd.Stderr = &lockedWriter{p.mu, p.out}
	require.NoError(t, cmd.Start())
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if i := strings.Index(line, "listening on "); i >= 0 {
				urlc <- strings.TrimSpace(line[i+len("listening on "):])
			}
		}
	}()
	select {
	case p.url = <-urlc:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("hub did not start:\n%s", p.out)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_, _ = cmd.Process.Wait()
		}
	})
	return p
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func (p *proc) kill9(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGKILL))
	_, _ = p.cmd.Process.Wait()
}

type apiClient struct {
	base  string
	token string
	http  *http.Client
}

func (c *apiClient) do(method, path string, body string, hdr map[string]string) (int, []byte, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func login(t *testing.T, base, user string) *apiClient {
	t.Helper()
	c := &apiClient{base: base, http: &http.Client{Timeout: 10 * time.Second}}
	status, body, err := c.do("POST", "/api/v1/auth/login", `{"username":"`+user+`","password":"demo"}`, nil)
	require.NoError(t, err)
	require.Equal(t, 200, status, string(body))
	var r struct{ Token string }
	require.NoError(t, json.Unmarshal(body, &r))
	c.token = r.Token
	return c
}

type tk struct {
	ID, Number, Status string
}

var rank = map[string]int{"waiting": 0, "called": 1, "serving": 2, "done": 3, "no_show": 3, "cancelled": 3}

// TestKill9KeepsAcknowledgedTickets: a real hub killed with -9 while a
// client issues and calls as fast as it can keeps every acknowledged
// ticket with its status, never reissues a number of the day, and its
// live-feed seq goes on increasing.
func TestKill9KeepsAcknowledgedTickets(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills real processes")
	}
	data := t.TempDir()
	acked := map[string]tk{} // id → last acknowledged state
	var mu sync.Mutex
	lastSeq := uint64(0)
	for round := 0; round < 3; round++ {
		p := startServe(t, "--demo", "--data", data)
		clerk := login(t, p.url, "clerk01")
		totem := &apiClient{base: p.url, token: "demo-totem-1", http: &http.Client{Timeout: 10 * time.Second}}
		// Everything acknowledged before is still there, as acknowledged
		// (or moved on, if a later change was made but not acknowledged).
		for id, want := range acked {
			status, body, err := clerk.do("GET", "/api/v1/tickets/"+id, "", nil)
			require.NoError(t, err)
			require.Equal(t, 200, status, "acknowledged ticket %s lost: %s", id, body)
			var got tk
			require.NoError(t, json.Unmarshal(body, &got))
			require.Equal(t, want.Number, got.Number)
			require.GreaterOrEqual(t, rank[got.Status], rank[want.Status], "ticket %s went back from %s to %s", id, want.Status, got.Status)
		}
		// No number of the day issued twice.
		status, body, err := clerk.do("GET", "/api/v1/tickets", "", nil)
		require.NoError(t, err)
		require.Equal(t, 200, status)
		var all []tk
		require.NoError(t, json.Unmarshal(body, &all))
		seen := map[string]string{}
		for _, x := range all {
			require.NotContains(t, seen, x.Number, "number %s issued twice", x.Number)
			seen[x.Number] = x.ID
		}
		require.GreaterOrEqual(t, len(all), len(acked))
		// The feed's seq goes on from where it was.
		status, body, err = clerk.do("GET", "/metrics", "", nil)
		require.NoError(t, err)
		var seq uint64
		for _, line := range strings.Split(string(body), "\n") {
			if strings.HasPrefix(line, "sportello_events_total ") {
				fmt.Sscan(strings.TrimPrefix(line, "sportello_events_total "), &seq)
			}
		}
		require.GreaterOrEqual(t, seq, lastSeq)

		// Open counter 1 (it may still be open from the last round).
		status, body, err = clerk.do("POST", "/api/v1/counters/1/open", "", nil)
		require.NoError(t, err)
		require.Equal(t, 200, status, string(body))

		stop := make(chan struct{})
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					key := fmt.Sprintf("r%d-g%d-%d", round, g, i)
					status, body, err := totem.do("POST", "/api/v1/tickets", `{"service":"certificati"}`, map[string]string{"Idempotency-Key": key})
					if err != nil || (status != 201 && status != 200) {
						continue
					}
					var x tk
					if json.Unmarshal(body, &x) == nil {
						mu.Lock()
						if _, ok := acked[x.ID]; !ok {
							acked[x.ID] = x
						}
						mu.Unlock()
					}
				}
			}(g)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				status, body, err := clerk.do("POST", "/api/v1/counters/1/call-next", "", nil)
				if err != nil {
					continue
				}
				if status == 409 { // a ticket from before the kill is still current
					status, body, err = clerk.do("POST", "/api/v1/counters/1/finish", "", nil)
				}
				if err != nil || status != 200 {
					continue
				}
				var x tk
				if json.Unmarshal(body, &x) == nil {
					mu.Lock()
					acked[x.ID] = x
					mu.Unlock()
				}
			}
		}()
		// Let it run until enough was acknowledged, then kill mid-flight.
		deadline := time.Now().Add(20 * time.Second)
		for {
			mu.Lock()
			n := len(acked)
			mu.Unlock()
			if n >= (round+1)*150 || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		p.kill9(t)
		close(stop)
		wg.Wait()
		lastSeq = seq
	}
	// A last restart, and a new ticket gets a fresh number and a higher seq.
	p := startServe(t, "--demo", "--data", data)
	totem := &apiClient{base: p.url, token: "demo-totem-1", http: &http.Client{Timeout: 10 * time.Second}}
	status, body, err := totem.do("POST", "/api/v1/tickets", `{"service":"certificati"}`, nil)
	require.NoError(t, err)
	require.Equal(t, 201, status)
	var x tk
	require.NoError(t, json.Unmarshal(body, &x))
	for _, a := range acked {
		require.NotEqual(t, a.Number, x.Number)
	}
	require.GreaterOrEqual(t, len(acked), 150)
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, p.cmd.Wait(), "clean exit on SIGTERM")
}

func TestBadFlagsAndSiteFiles(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("id: x\nservices:\n  - id: a\n    prefix: a1\n"), 0o600))
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "usage"},
		{"unknown command", []string{"fly"}, "unknown command"},
		{"unknown flag", []string{"serve", "--colour"}, "flag provided but not defined"},
		{"bad addr", []string{"serve", "--addr", "nowhere", "--data", dir}, "--addr"},
		{"missing site file", []string{"serve", "--data", dir, "--site", filepath.Join(dir, "nope.yaml")}, "nope.yaml"},
		{"invalid site file", []string{"serve", "--data", dir, "--site", bad}, "bad.yaml:1: name.it"},
		{"bad log level", []string{"serve", "--log-level", "loud"}, "--log-level"},
		{"backup without out", []string{"backup", "--data", dir}, "--out is required"},
		{"backup of nothing", []string{"backup", "--data", filepath.Join(dir, "none"), "--out", filepath.Join(dir, "b.db")}, "no store"},
		{"stray argument", []string{"serve", "extra"}, "unexpected argument"},
		{"crmsync without command", []string{"crmsync"}, "usage"},
		{"crmsync unknown command", []string{"crmsync", "fly", "--data", dir}, "unknown command"},
		{"crmsync replay without a number", []string{"crmsync", "replay", "--data", dir}, "give one number"},
		{"crmsync replay of a word", []string{"crmsync", "replay", "--data", dir, "x"}, "not a number"},
		{"crmsync on nothing", []string{"crmsync", "status", "--data", filepath.Join(dir, "none")}, "no store"},
		{"czrm bad addr", []string{"czrm", "--addr", "nowhere"}, "--addr"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tc.args, &out, &errb)
			require.NotEqual(t, 0, code)
			require.Contains(t, errb.String(), tc.want)
		})
	}
	var out bytes.Buffer
	require.Equal(t, 0, run([]string{"version"}, &out, io.Discard))
	require.Contains(t, out.String(), "sportello")
}

// TestServeInProcessAndBackup runs the hub in this process on :0, takes a
// backup of it while it runs (over its socket), stops it with a context
// cancel (as SIGTERM does) and backs up the stopped store too.
func TestServeInProcessAndBackup(t *testing.T) {
	data := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() { done <- run2(ctx, []string{"--addr", "127.0.0.1:0", "--data", data, "--demo"}, pw) }()
	sc := bufio.NewScanner(pr)
	var url string
	for sc.Scan() {
		if i := strings.Index(sc.Text(), "listening on "); i >= 0 {
			url = strings.TrimSpace(sc.Text()[i+len("listening on "):])
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	require.NotEmpty(t, url)
	totem := &apiClient{base: url, token: "demo-totem-3", http: &http.Client{Timeout: 5 * time.Second}}
	status, _, err := totem.do("POST", "/api/v1/tickets", `{"service":"tributi"}`, nil)
	require.NoError(t, err)
	require.Equal(t, 201, status)

	live := filepath.Join(t.TempDir(), "live.db")
	var out, errb bytes.Buffer
	require.Equal(t, 0, run([]string{"backup", "--data", data, "--out", live}, &out, &errb), errb.String())
	cancel()
	require.Equal(t, 0, <-done)
	out.Reset()
	require.Equal(t, 0, run([]string{"crmsync", "status", "--data", data}, &out, &errb), errb.String())
	require.Contains(t, out.String(), `"backlog"`)
	out.Reset()
	require.Equal(t, 0, run([]string{"crmsync", "dead", "--data", data}, &out, &errb), errb.String())
	require.Equal(t, "[]\n", out.String())
	stopped := filepath.Join(t.TempDir(), "stopped.db")
	require.Equal(t, 0, run([]string{"backup", "--data", data, "--out", stopped}, &out, &errb), errb.String())
	for _, f := range []string{live, stopped} {
		st, err := os.Stat(f)
		require.NoError(t, err)
		require.Greater(t, st.Size(), int64(4096))
	}
	// The copy is a working store: a hub starts on it with the ticket.
	restored := t.TempDir()
	require.NoError(t, os.Rename(live, filepath.Join(restored, "sportello.db")))
	p := startServe(t, "--data", restored)
	status, body, err := (&apiClient{base: p.url, http: http.DefaultClient}).do("GET", "/api/v1/queue", "", nil)
	require.NoError(t, err)
	require.Equal(t, 200, status)
	require.Contains(t, string(body), `"service":"tributi","waiting":1`)
}

func run2(ctx context.Context, args []string, stdout io.Writer) int {
	return runServe(ctx, args, stdout, io.Discard, false)
}
