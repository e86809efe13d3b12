package printer

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"
)

func openSerial(t *testing.T, path string, opts string) Printer {
	t.Helper()
	p, err := Open("serial:" + path + "?baud=115200" + opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// TestSerialPrintGolden prints the reference ticket to a fake printer on a
// pty: it receives the status requests, then exactly the golden bytes,
// then the status requests again.
func TestSerialPrintGolden(t *testing.T) {
	f, path := startPTYPrinter(t)
	p := openSerial(t, path, "")
	job := Layout(referenceTicket(), mustProfile(t, "epson-tm-t20"))
	if err := p.Print(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	got := f.Received()
	if !bytes.HasPrefix(got, idleQueries) || !bytes.HasSuffix(got, idleQueries) || len(got) < 2*len(idleQueries) {
		t.Fatalf("received % X…, want the status requests around the job", window(got, 0))
	}
	golden(t, "reference-ticket.bin", got[len(idleQueries):len(got)-len(idleQueries)])

	// A second job on the same port.
	if err := p.Print(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	if got := f.Received(); !bytes.Equal(got, concat(idleQueries, job, idleQueries)) {
		t.Fatalf("second job: received %d bytes, want %d", len(got), len(job)+2*len(idleQueries))
	}
}

func TestSerialStatus(t *testing.T) {
	f, path := startPTYPrinter(t)
	p := openSerial(t, path, "")
	for _, tc := range []struct {
		name    string
		replies [5]byte
		extra   [5][]byte
		want    State
		asked   []byte
	}{
		{name: "idle", replies: [5]byte{0, 0x12, 0x12, 0x12, 0x12}, want: StateOK, asked: []byte{1, 2, 4}},
		{name: "paper near end", replies: [5]byte{0, 0x12, 0x12, 0x12, 0x1E}, want: StatePaperNearEnd, asked: []byte{1, 2, 4}},
		{name: "paper out", replies: [5]byte{0, 0x1A, 0x32, 0x12, 0x72}, want: StatePaperOut, asked: []byte{1, 2, 4, 3}},
		{name: "paper out, paper sensor only", replies: [5]byte{0, 0x12, 0x12, 0x12, 0x72}, want: StatePaperOut, asked: []byte{1, 2, 4}},
		{name: "cover open", replies: [5]byte{0, 0x1A, 0x16, 0x12, 0x12}, want: StateCoverOpen, asked: []byte{1, 2, 4, 3}},
		{name: "offline", replies: [5]byte{0, 0x1A, 0x12, 0x12, 0x12}, want: StateOffline, asked: []byte{1, 2, 4, 3}},
		{name: "error", replies: [5]byte{0, 0x1A, 0x52, 0x1A, 0x12}, want: StateError, asked: []byte{1, 2, 4, 3}},
		{
			name:    "noise, ASB and XOFF/XON around replies",
			replies: [5]byte{0, 0x12, 0x12, 0x12, 0x1E},
			extra:   [5][]byte{nil, {0xFF, 0x80}, {0x18, 0x00, 0x13, 0x0C, 0x00, 0x11}, nil, {0x93, 0xC3, 0x10, 0x00}},
			want:    StatePaperNearEnd,
			asked:   []byte{1, 2, 4},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.Set(func(f *fakePrinter) { f.Replies, f.Extra = tc.replies, tc.extra })
			f.Received()
			st, err := p.Status(context.Background())
			if err != nil || st != tc.want {
				t.Fatalf("Status = %s, %v; want %s", st, err, tc.want)
			}
			if got := f.Queries(); !bytes.Equal(got, tc.asked) {
				t.Errorf("asked DLE EOT % d, want % d", got, tc.asked)
			}
			err = p.Print(context.Background(), []byte("x\n"))
			if tc.want.CanPrint() {
				if err != nil {
					t.Fatalf("Print: %v", err)
				}
				return
			}
			var nr *NotReadyError
			if !errors.As(err, &nr) || nr.State != tc.want || nr.After {
				t.Fatalf("Print = %v, want a NotReadyError %s", err, tc.want)
			}
			if got := f.Received(); bytes.Contains(got, []byte("x\n")) {
				t.Errorf("the job was sent to a printer in state %s", tc.want)
			}
		})
	}
}

// TestSerialStopsAnswering: a printer that stops answering (and reading) is
// offline within 5 s, and a Print to it fails within 5 s.
func TestSerialStopsAnswering(t *testing.T) {
	f, path := startPTYPrinter(t)
	p := openSerial(t, path, "")
	if st, err := p.Status(context.Background()); err != nil || st != StateOK {
		t.Fatalf("Status = %s, %v", st, err)
	}
	f.Set(func(f *fakePrinter) { f.Silent = true })

	within(t, 5*time.Second, "Status", func() {
		st, err := p.Status(context.Background())
		if st != StateOffline || !isOffline(err) {
			t.Errorf("Status = %s, %v; want offline", st, err)
		}
	})
	within(t, 5*time.Second, "Print", func() {
		err := p.Print(context.Background(), Layout(referenceTicket(), mustProfile(t, "epson-tm-t20")))
		if !isOffline(err) {
			t.Errorf("Print = %v, want an offline error", err)
		}
	})
}

// TestSerialWriteWatchdog: the printer answers the status, then stops
// reading in the middle of a job too big for the pty's buffers. The write
// blocks; the watchdog must give up, close the port and fail the job.
func TestSerialWriteWatchdog(t *testing.T) {
	f, path := startPTYPrinter(t)
	p := openSerial(t, path, "")
	f.Set(func(f *fakePrinter) { f.StopJob = true })
	job := concat([]byte{esc, '@'}, bytes.Repeat([]byte("0123456789abcdef"), 32<<10)) // 512 KiB
	within(t, 5*time.Second, "Print", func() {
		if err := p.Print(context.Background(), job); !isOffline(err) {
			t.Errorf("Print = %v, want an offline error", err)
		}
	})
	within(t, 5*time.Second, "Status", func() {
		if st, err := p.Status(context.Background()); st != StateOffline || err == nil {
			t.Errorf("Status = %s, %v; want offline", st, err)
		}
	})
}

func TestSerialContextCancel(t *testing.T) {
	f, path := startPTYPrinter(t)
	p := openSerial(t, path, "")
	f.Set(func(f *fakePrinter) { f.Silent = true })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	within(t, time.Second, "Status", func() {
		if st, err := p.Status(ctx); st != StateOffline || err == nil {
			t.Errorf("Status = %s, %v", st, err)
		}
	})
}

func TestSerialMissingDevice(t *testing.T) {
	p := openSerial(t, t.TempDir()+"/ttyUSB9", "")
	if st, err := p.Status(context.Background()); st != StateOffline || !isOffline(err) {
		t.Errorf("Status = %s, %v", st, err)
	}
	if err := p.Print(context.Background(), []byte("x")); !isOffline(err) {
		t.Errorf("Print = %v", err)
	}
}

func TestSerialStatusOff(t *testing.T) {
	f, path := startPTYPrinter(t)
	p := openSerial(t, path, "&status=off")
	f.Set(func(f *fakePrinter) { f.Replies[1] = 0x1A })
	if st, err := p.Status(context.Background()); st != StateOK || !errors.Is(err, ErrStatusUnsupported) {
		t.Errorf("Status = %s, %v", st, err)
	}
	if err := p.Print(context.Background(), []byte("x\n")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	var got []byte
	for time.Now().Before(deadline) && len(got) < 2 {
		got = append(got, f.Received()...)
		time.Sleep(5 * time.Millisecond) // poll with a deadline
	}
	if !bytes.Equal(got, []byte("x\n")) {
		t.Errorf("received % X, want the job alone", got)
	}
}
