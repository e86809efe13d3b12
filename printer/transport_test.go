package printer

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestOpenSpecs(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		spec string
		want string // "" for a good spec, else a part of the error
	}{
		{spec: "serial:/dev/ttyUSB0?baud=9600"},
		{spec: "serial:/dev/ttyUSB0"},
		{spec: "serial:/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0?baud=115200&status=off"},
		{spec: "usblp:/dev/usb/lp0"},
		{spec: "usblp:/dev/usb/lp0?status=on"},
		{spec: "tcp:192.0.2.10:9100"},
		{spec: "tcp:printer.example:9100"},
		{spec: "tcp:[2001:db8::1]:9100"},
		{spec: "file:" + filepath.Join(dir, "tickets.bin")},
		{spec: "file:" + filepath.Join(dir, "odd?name.bin")},
		{spec: "png:" + filepath.Join(dir, "png")},
		{spec: "png:" + filepath.Join(dir, "png58") + "?width=384"},

		{spec: "", want: "missing scheme"},
		{spec: "/dev/ttyUSB0", want: "missing scheme"},
		{spec: ":/dev/ttyUSB0", want: "missing scheme"},
		{spec: "lpt:/dev/lp0", want: `unknown scheme "lpt": want one of serial, usblp, tcp, file, png`},
		{spec: "Serial:/dev/ttyUSB0", want: `unknown scheme "Serial"`},
		{spec: "serial:", want: `missing device path after "serial:"`},
		{spec: "serial:?baud=9600", want: "missing device path"},
		{spec: "serial:/dev/ttyUSB0?baud=fast", want: `bad baud "fast": want one of 1200, 2400`},
		{spec: "serial:/dev/ttyUSB0?baud=12345", want: `bad baud "12345"`},
		{spec: "serial:/dev/ttyUSB0?baud=", want: `bad baud ""`},
		{spec: "serial:/dev/ttyUSB0?speed=9600", want: `unknown option "speed": serial takes baud, status`},
		{spec: "serial:/dev/ttyUSB0?status=maybe", want: `bad status "maybe": want on or off`},
		{spec: "serial:/dev/ttyUSB0?baud=%zz", want: "bad options"},
		{spec: "usblp:", want: `missing device path after "usblp:"`},
		{spec: "usblp:/dev/usb/lp0?baud=9600", want: `unknown option "baud"`},
		{spec: "tcp:printer", want: `bad host:port "printer"`},
		{spec: "tcp:", want: `bad host:port ""`},
		{spec: "tcp::9100", want: `bad host:port ":9100"`},
		{spec: "tcp:printer:port", want: `port "port" is not a number`},
		{spec: "tcp:printer:0", want: `port "0" is not a number from 1 to 65535`},
		{spec: "tcp:printer:99999", want: `port "99999"`},
		{spec: "file:", want: `missing file path after "file:"`},
		{spec: "file:" + filepath.Join(dir, "no-such-dir", "x.bin"), want: "no such file or directory"},
		{spec: "png:", want: `missing directory after "png:"`},
		{spec: "png:" + dir + "?width=100", want: `bad width "100"`},
		{spec: "png:" + dir + "?width=abc", want: `bad width "abc"`},
		{spec: "png:" + dir + "?dpi=203", want: `unknown option "dpi": png takes width`},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			p, err := Open(tc.spec)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Open(%q): %v", tc.spec, err)
				}
				if err := p.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
				return
			}
			if err == nil {
				p.Close()
				t.Fatalf("Open(%q) succeeded, want an error with %q", tc.spec, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open(%q) = %q, want it to contain %q", tc.spec, err, tc.want)
			}
			var se *SpecError
			if strings.Contains(tc.want, "no such file") != !errors.As(err, &se) {
				t.Errorf("Open(%q): error %T", tc.spec, err)
			}
		})
	}
}

func TestFilePrinterAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tickets.bin")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Open("file:" + path)
	if err != nil {
		t.Fatal(err)
	}
	job := Layout(referenceTicket(), mustProfile(t, "epson-tm-t20"))
	for i := 0; i < 2; i++ {
		if err := p.Print(context.Background(), job); err != nil {
			t.Fatal(err)
		}
	}
	if st, err := p.Status(context.Background()); st != StateOK || err != nil {
		t.Errorf("Status = %s, %v", st, err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, concat([]byte("old"), job, job)) {
		t.Errorf("file holds %d bytes, want the old content and two jobs (%d)", len(got), 3+2*len(job))
	}
	if err := p.Print(context.Background(), job); err == nil {
		t.Error("Print after Close succeeded")
	}
}

func TestPNGPrinter(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tickets")
	p, err := Open("png:" + dir + "?width=384")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	tk := referenceTicket()
	job := Layout(tk, mustProfile(t, "generic-58mm"))
	for i := 0; i < 2; i++ {
		if err := p.Print(context.Background(), job); err != nil {
			t.Fatal(err)
		}
	}
	if st, err := p.Status(context.Background()); st != StateOK || err != nil {
		t.Errorf("Status = %s, %v", st, err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "ticket-*.png"))
	if err != nil || len(files) != 2 {
		t.Fatalf("files %v, %v; want 2 PNGs", files, err)
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatalf("%s: %v", files[0], err)
	}
	if img.Bounds().Dx() != 384 {
		t.Errorf("width %d, want 384", img.Bounds().Dx())
	}
	if got := zbar(t, files[1]); got != tk.TrackURL {
		t.Errorf("QR reads %q, want %q", got, tk.TrackURL)
	}
}

// tcpFake is a network printer on a loopback port: each connection is
// served by a fakePrinter, whose recording goes to conns when it closes.
type tcpFake struct {
	ln    net.Listener
	mu    sync.Mutex
	setup func(f *fakePrinter)
	conns chan []byte
	quit  chan struct{}
	wg    sync.WaitGroup
}

func startTCPFake(t *testing.T, setup func(f *fakePrinter)) *tcpFake {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &tcpFake{ln: ln, setup: setup, conns: make(chan []byte, 16), quit: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				f := newFakePrinter()
				s.mu.Lock()
				if s.setup != nil {
					s.setup(f)
				}
				s.mu.Unlock()
				f.Serve(c)
				silent := f.IsSilent()
				if silent { // hold the connection, unread, until the test ends
					<-s.quit
				}
				s.conns <- f.Received()
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		close(s.quit)
		s.wg.Wait()
	})
	return s
}

func (s *tcpFake) spec() string { return "tcp:" + s.ln.Addr().String() }

func (s *tcpFake) next(t *testing.T) []byte {
	t.Helper()
	select {
	case b := <-s.conns:
		return b
	case <-time.After(5 * time.Second):
		t.Fatal("no connection ended within 5 s")
		return nil
	}
}

func TestTCPPrint(t *testing.T) {
	s := startTCPFake(t, nil)
	p, err := Open(s.spec())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	job := Layout(referenceTicket(), mustProfile(t, "epson-tm-t20"))
	for i := 0; i < 2; i++ {
		if err := p.Print(context.Background(), job); err != nil {
			t.Fatal(err)
		}
		got := s.next(t)
		if !bytes.Equal(got, concat(idleQueries, job, idleQueries)) {
			t.Fatalf("connection %d received %d bytes, want the job (%d) between status requests", i, len(got), len(job))
		}
		golden(t, "reference-ticket.bin", got[len(idleQueries):len(got)-len(idleQueries)])
	}
	if st, err := p.Status(context.Background()); st != StateOK || err != nil {
		t.Errorf("Status = %s, %v", st, err)
	}
	if got := s.next(t); !bytes.Equal(got, idleQueries) {
		t.Errorf("status connection received % X", got)
	}
}

func TestTCPStatus(t *testing.T) {
	for _, tc := range []struct {
		name    string
		replies [5]byte
		want    State
	}{
		{"paper near end", [5]byte{0, 0x12, 0x12, 0x12, 0x1E}, StatePaperNearEnd},
		{"paper out", [5]byte{0, 0x12, 0x12, 0x12, 0x72}, StatePaperOut},
		{"cover open", [5]byte{0, 0x1A, 0x16, 0x12, 0x12}, StateCoverOpen},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startTCPFake(t, func(f *fakePrinter) { f.Replies = tc.replies })
			p, _ := Open(s.spec())
			if st, err := p.Status(context.Background()); st != tc.want || err != nil {
				t.Errorf("Status = %s, %v; want %s", st, err, tc.want)
			}
			s.next(t)
			err := p.Print(context.Background(), []byte("x\n"))
			if tc.want.CanPrint() != (err == nil) {
				t.Errorf("Print = %v", err)
			}
			if got := s.next(t); tc.want.CanPrint() != bytes.Contains(got, []byte("x\n")) {
				t.Errorf("received % X", got)
			}
		})
	}
}

func TestTCPOffline(t *testing.T) {
	t.Run("silent", func(t *testing.T) {
		s := startTCPFake(t, func(f *fakePrinter) { f.Silent = true })
		p, _ := Open(s.spec())
		within(t, 5*time.Second, "Status", func() {
			if st, err := p.Status(context.Background()); st != StateOffline || !isOffline(err) {
				t.Errorf("Status = %s, %v", st, err)
			}
		})
		within(t, 5*time.Second, "Print", func() {
			if err := p.Print(context.Background(), []byte("x\n")); !isOffline(err) {
				t.Errorf("Print = %v", err)
			}
		})
	})
	t.Run("nobody listening", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		p, _ := Open("tcp:" + addr)
		within(t, 5*time.Second, "Print", func() {
			if err := p.Print(context.Background(), []byte("x\n")); !isOffline(err) {
				t.Errorf("Print = %v", err)
			}
		})
		if st, err := p.Status(context.Background()); st != StateOffline || !isOffline(err) {
			t.Errorf("Status = %s, %v", st, err)
		}
	})
}

// TestUSBLPOnPTY drives the usblp transport over a pty: both are character
// devices on Go's poller, so the same fake printer serves.
func TestUSBLPOnPTY(t *testing.T) {
	f, path := startPTYPrinter(t)
	p, err := Open("usblp:" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	job := Layout(referenceTicket(), mustProfile(t, "generic-80mm"))
	if err := p.Print(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	if got := f.Received(); !bytes.Equal(got, concat(idleQueries, job, idleQueries)) {
		t.Fatalf("received %d bytes, want the job (%d) between status requests", len(got), len(job))
	}
	f.Set(func(f *fakePrinter) { f.Replies[4] = 0x72 })
	if st, err := p.Status(context.Background()); st != StatePaperOut || err != nil {
		t.Errorf("Status = %s, %v", st, err)
	}
	f.Set(func(f *fakePrinter) { f.Silent = true })
	within(t, 5*time.Second, "Print", func() {
		if err := p.Print(context.Background(), job); !isOffline(err) {
			t.Errorf("Print = %v", err)
		}
	})
}

// memLink is a link whose input is scripted: each read returns the next
// chunk, or nothing once they run out.
type memLink struct {
	in      [][]byte
	written [][]byte
	events  []string
}

func (m *memLink) write(_ context.Context, p []byte) error {
	m.written = append(m.written, append([]byte(nil), p...))
	m.events = append(m.events, "write")
	return nil
}

func (m *memLink) read(p []byte, _ time.Time) (int, error) {
	if len(m.in) == 0 {
		return 0, nil
	}
	n := copy(p, m.in[0])
	m.in = m.in[1:]
	m.events = append(m.events, "read "+string(rune('0'+n)))
	return n, nil
}

func (m *memLink) discardInput()                    {}
func (m *memLink) drain(context.Context, int) error { return nil }

func TestSendHonoursXOFF(t *testing.T) {
	job := bytes.Repeat([]byte{'x'}, 3*chunkSize)
	// XOFF before the first chunk; nothing on two reads; then XON.
	m := &memLink{in: [][]byte{{xoff}, {}, {}, {xon}}}
	s := &session{l: m}
	if err := s.send(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	want := "read 1,read 0,read 0,read 1,write,write,write"
	if got := strings.Join(m.events, ","); got != want {
		t.Errorf("events %s, want %s", got, want)
	}
	if len(m.written) != 3 || !bytes.Equal(bytes.Join(m.written, nil), job) {
		t.Errorf("written %d chunks", len(m.written))
	}

	m = &memLink{in: [][]byte{{0x12, xoff}}}
	s = &session{l: m, xoffWait: 50 * time.Millisecond}
	if err := s.send(context.Background(), job); !isOffline(err) {
		t.Errorf("send under XOFF = %v, want offline", err)
	}
	if len(m.written) != 0 {
		t.Errorf("%d chunks written under XOFF", len(m.written))
	}
}
