package agent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/hubtest"
	"github.com/comune-rc/sportello/kiosk/agent"
	"github.com/comune-rc/sportello/printer"
	"github.com/stretchr/testify/require"
)

// countingPrinter is a real file printer that also counts how often each
// ticket number went to paper, and can be held or made to fail.
type countingPrinter struct {
	agent.Printer
	mu      sync.Mutex
	printed map[string]int
	state   printer.State
	hold    chan struct{} // when set, Print waits for it to close
	started chan string
}

func newCounting(t *testing.T) (*countingPrinter, string) {
	path := filepath.Join(t.TempDir(), "printer.bin")
	p, err := printer.Open("file:" + path)
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return &countingPrinter{Printer: p, printed: map[string]int{}, state: printer.StateOK, started: make(chan string, 16)}, path
}

func (c *countingPrinter) Print(ctx context.Context, job []byte) error {
	c.mu.Lock()
	hold := c.hold
	c.mu.Unlock()
	number := numberIn(job)
	c.started <- number
	if hold != nil {
		<-hold
	}
	if err := c.Printer.Print(ctx, job); err != nil {
		return err
	}
	c.mu.Lock()
	c.printed[number]++
	c.mu.Unlock()
	return nil
}

func (c *countingPrinter) Status(ctx context.Context) (printer.State, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state, nil
}

func (c *countingPrinter) count(number string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.printed[number]
}

// numberIn finds the ticket number (a capital letter and three digits,
// printed at 4×4 after GS ! 0x33) in a job.
func numberIn(job []byte) string {
	i := bytes.Index(job, []byte{0x1d, 0x21, 0x33})
	if i < 0 {
		return ""
	}
	return string(numberRe.Find(job[i+3:]))
}

var numberRe = regexp.MustCompile(`[A-Z]{1,3}[0-9]{3,}`)

func startAgent(t *testing.T, h *hubtest.Hub, p agent.Printer, state string) *agent.Agent {
	t.Helper()
	prof, err := printer.LookupProfile("generic-80mm")
	require.NoError(t, err)
	a, err := agent.New(agent.Config{HubURL: h.URL, TotemID: "totem-1", Token: "demo-totem-1", Printer: p, Profile: prof,
		StateFile: state, Logger: hubtest.Quiet, MaxBackoff: 200 * time.Millisecond, StatusEvery: 200 * time.Millisecond})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = a.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return a
}

func issue(t *testing.T, h *hubtest.Hub, service string) (id, number string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.URL+"/api/v1/tickets", strings.NewReader(`{"service":"`+service+`"}`))
	req.Header.Set("Authorization", "Bearer demo-totem-1")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(body))
	var tk struct{ ID, Number string }
	require.NoError(t, json.Unmarshal(body, &tk))
	return tk.ID, tk.Number
}

func waitPrint(t *testing.T, h *hubtest.Hub, id string, want hub.PrintStatus) *hub.Ticket {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, err := h.Engine.Ticket(id)
		require.NoError(t, err)
		if v.Ticket.Print == want {
			return v.Ticket
		}
		if time.Now().After(deadline) {
			t.Fatalf("ticket %s: print %q, want %q", v.Ticket.Number, v.Ticket.Print, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAgentPrintsAndReports(t *testing.T) {
	h := hubtest.Start(t, hubtest.Options{})
	p, path := newCounting(t)
	startAgent(t, h, p, "")
	id, number := issue(t, h, "certificati")
	waitPrint(t, h, id, hub.PrintDone)
	require.Equal(t, 1, p.count(number))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Contains(t, string(data), number)
	require.Contains(t, string(data), "/t/", "the QR carries the tracking link")
	require.NotContains(t, string(data), "none", "no priority category on paper")
	// The supervisor sees the totem's health.
	deadline := time.Now().Add(5 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, h.URL+"/api/v1/totems", nil)
		tok := login(t, h, "supervisor")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		var list []struct {
			ID           string `json:"id"`
			Connected    bool   `json:"connected"`
			PrinterState string `json:"printer_state"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&list))
		resp.Body.Close()
		if list[0].ID == "totem-1" && list[0].Connected && list[0].PrinterState == "ok" {
			break
		}
		require.True(t, time.Now().Before(deadline), "totem health never reported: %+v", list)
		time.Sleep(50 * time.Millisecond)
	}
}

func login(t *testing.T, h *hubtest.Hub, user string) string {
	t.Helper()
	resp, err := http.Post(h.URL+"/api/v1/auth/login", "application/json", strings.NewReader(`{"username":"`+user+`","password":"demo"}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	var r struct{ Token string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&r))
	return r.Token
}

// TestAgentPaperOut: a printer without paper is not sent the job; the hub
// knows the ticket did not print, and a desk can reprint it once paper is
// back.
func TestAgentPaperOut(t *testing.T) {
	h := hubtest.Start(t, hubtest.Options{})
	p, _ := newCounting(t)
	p.state = printer.StatePaperOut
	startAgent(t, h, p, "")
	id, number := issue(t, h, "cie")
	tk := waitPrint(t, h, id, hub.PrintFailed)
	require.Contains(t, tk.PrintError, "paper_out")
	require.Equal(t, 0, p.count(number))
	p.mu.Lock()
	p.state = printer.StateOK
	p.mu.Unlock()
	_, err := h.Engine.Reprint(context.Background(), id, "clerk01")
	require.NoError(t, err)
	waitPrint(t, h, id, hub.PrintDone)
	require.Equal(t, 1, p.count(number))
}

// TestAgentHubRestart: the hub restarts while the agent is connected, once
// while a job is on paper and its result not yet reported. The agent
// reconnects; no job is lost and none is printed twice.
func TestAgentHubRestart(t *testing.T) {
	h := hubtest.Start(t, hubtest.Options{})
	p, _ := newCounting(t)
	state := filepath.Join(t.TempDir(), "state.json")
	startAgent(t, h, p, state)
	id1, n1 := issue(t, h, "certificati")
	waitPrint(t, h, id1, hub.PrintDone)
	require.Equal(t, n1, <-p.started)

	// Hold the printer mid-job, restart the hub, then let the job finish:
	// its result cannot reach the old connection.
	p.mu.Lock()
	p.hold = make(chan struct{})
	hold := p.hold
	p.mu.Unlock()
	id2, n2 := issue(t, h, "tributi")
	require.Equal(t, n2, <-p.started)
	h.Restart(t, hubtest.Options{})
	p.mu.Lock()
	p.hold = nil
	p.mu.Unlock()
	close(hold)
	// After the restart the hub resends the job; the agent remembers it
	// printed it and reports it without printing again.
	waitPrint(t, h, id2, hub.PrintDone)
	id3, n3 := issue(t, h, "idrico")
	waitPrint(t, h, id3, hub.PrintDone)
	require.Equal(t, 1, p.count(n1))
	require.Equal(t, 1, p.count(n2), "printed once across the restart")
	require.Equal(t, 1, p.count(n3))
	require.Empty(t, h.Engine.PrintJobs("totem-1"))
}

func TestAgentConfig(t *testing.T) {
	p, _ := newCounting(t)
	for _, cfg := range []agent.Config{
		{HubURL: "", TotemID: "totem-1", Token: "x", Printer: p},
		{HubURL: "ftp://hub", TotemID: "totem-1", Token: "x", Printer: p},
		{HubURL: "http://hub:8080", TotemID: "", Token: "x", Printer: p},
		{HubURL: "http://hub:8080", TotemID: "totem-1", Token: "x"},
	} {
		_, err := agent.New(cfg)
		require.Error(t, err)
	}
}
