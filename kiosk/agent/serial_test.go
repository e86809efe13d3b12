package agent_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/hubtest"
	"github.com/comune-rc/sportello/kiosk/agent"
	"github.com/comune-rc/sportello/printer"
	"github.com/comune-rc/sportello/printer/printertest"
	"github.com/stretchr/testify/require"
)

// startSerialAgent runs the agent on a real pseudo-terminal serial line,
// with a fake printer answering status requests on the other end.
func startSerialAgent(t *testing.T, h *hubtest.Hub) (*printertest.Printer, printer.Profile) {
	t.Helper()
	fake, dev := printertest.StartPTY(t)
	p, err := printer.Open("serial:" + dev + "?baud=9600")
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	startAgent(t, h, p, "")
	prof, _ := printer.LookupProfile("generic-80mm")
	return fake, prof
}

func totemState(t *testing.T, h *hubtest.Hub) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.URL+"/api/v1/totems", nil)
	req.Header.Set("Authorization", "Bearer "+login(t, h, "supervisor"))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var list []struct {
		ID           string `json:"id"`
		PrinterState string `json:"printer_state"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&list))
	return list[0].PrinterState
}

func waitState(t *testing.T, h *hubtest.Hub, want string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		got := totemState(t, h)
		if got == want {
			return
		}
		require.True(t, time.Now().Before(deadline), "printer state %q, want %q within %s", got, want, limit)
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAgentSerialPrinter: the agent prints on a serial line exactly the
// bytes of the ticket laid out for its profile, reports the printer's
// state from its status replies, and reports a ticket not printed when the
// printer stops answering — within 5 s.
func TestAgentSerialPrinter(t *testing.T) {
	h := hubtest.Start(t, hubtest.Options{})
	fake, prof := startSerialAgent(t, h)
	waitState(t, h, "ok", 5*time.Second)

	id, _ := issue(t, h, "certificati")
	tk := waitPrint(t, h, id, hub.PrintDone)
	v, err := h.Engine.Ticket(id)
	require.NoError(t, err)
	sv, _ := h.Engine.Site().Service(tk.Service)
	// The job the hub sent, laid out by the agent: compare byte for byte
	// with what the fake printer received.
	want := printer.Layout(printer.Ticket{Comune: h.Engine.Site().Comune, Office: h.Engine.Site().Name.IT, Number: tk.Number,
		Service: sv.Name.IT, ServiceEN: sv.Name.EN, IssuedAt: tk.IssuedAt, Position: 1, EWTMin: int((v.EWT + time.Minute - 1) / time.Minute),
		TrackURL: h.URL + "/t/" + tk.TrackToken}, prof)
	got := fake.Peek()
	require.True(t, bytes.Contains(got, want), "the printer did not receive the ticket's exact bytes")

	cases := []struct {
		name    string
		replies [5]byte
		state   string
	}{
		{"paper near end", [5]byte{0, 0x12, 0x12, 0x12, 0x1e}, "paper_near_end"},
		{"paper out", [5]byte{0, 0x1a, 0x32, 0x12, 0x72}, "paper_out"},
		{"cover open", [5]byte{0, 0x1a, 0x16, 0x12, 0x12}, "cover_open"},
		{"ok again", [5]byte{0, 0x12, 0x12, 0x12, 0x12}, "ok"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake.Set(func(f *printertest.Printer) { f.Replies = tc.replies })
			waitState(t, h, tc.state, 5*time.Second)
		})
	}

	// Paper out: the job is not sent to paper, and the hub knows.
	fake.Set(func(f *printertest.Printer) { f.Replies = [5]byte{0, 0x1a, 0x32, 0x12, 0x72} })
	waitState(t, h, "paper_out", 5*time.Second)
	id2, _ := issue(t, h, "cie")
	tk2 := waitPrint(t, h, id2, hub.PrintFailed)
	require.Contains(t, tk2.PrintError, "paper_out")

	// A printer that stops answering: offline within 5 s, ticket not printed.
	fake.Set(func(f *printertest.Printer) { f.Replies = [5]byte{0, 0x12, 0x12, 0x12, 0x12} })
	waitState(t, h, "ok", 5*time.Second)
	fake.Set(func(f *printertest.Printer) { f.Silent = true })
	start := time.Now()
	id3, _ := issue(t, h, "tributi")
	tk3 := waitPrint(t, h, id3, hub.PrintFailed)
	require.LessOrEqual(t, time.Since(start), 5*time.Second, "the failure took too long to reach the hub")
	require.Contains(t, tk3.PrintError, "offline")
	waitState(t, h, "offline", 5*time.Second)
}

// The agent drives any printer of the printer package.
var _ agent.Printer = (printer.Printer)(nil)
