// Package printertest plays a thermal printer for tests, with no hardware:
// a fake ESC/POS printer that records what it receives and answers the
// DLE EOT status requests, served on a real pseudo-terminal (as a serial
// port), a TCP connection or any byte stream.
package printertest

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

const (
	dle = 0x10
	eot = 0x04
	esc = 0x1b
)

// OpenPTY opens a pseudo-terminal pair the way a null-modem cable joins two
// serial ports: the test holds the master and plays the printer, the code
// under test opens /dev/pts/N as its serial port. The master is made raw
// (on Linux this sets the pair's line discipline) and non-blocking, so it
// is on Go's poller and closing it ends a pending Read.
func OpenPTY(t testing.TB) (*os.File, string) {
	t.Helper()
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		unix.Close(fd)
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		unix.Close(fd)
		t.Fatalf("pty number: %v", err)
	}
	tio, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		unix.Close(fd)
		t.Fatalf("pty termios: %v", err)
	}
	tio.Iflag, tio.Oflag, tio.Lflag = 0, 0, 0
	tio.Cflag = tio.Cflag&^(unix.CSIZE|unix.PARENB) | unix.CS8 | unix.CREAD | unix.CLOCAL
	tio.Cc[unix.VMIN], tio.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, tio); err != nil {
		unix.Close(fd)
		t.Fatalf("pty raw mode: %v", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	return os.NewFile(uintptr(fd), "/dev/ptmx"), fmt.Sprintf("/dev/pts/%d", n)
}

// Printer plays an ESC/POS printer on any byte stream: it records what it
// receives and answers DLE EOT n with Replies[n] (after Extra[n], which
// lets a test slip noise or XOFF in front of a reply). Change its fields
// only through Set while it serves.
type Printer struct {
	mu sync.Mutex
	// Replies are the answers to DLE EOT 1-4 (index 0 unused); 0x12 is an
	// idle, happy printer.
	Replies [5]byte
	Extra   [5][]byte
	// Silent makes it stop answering and reading: a printer gone dead.
	Silent bool
	// StopJob makes it stop reading once a job (ESC @) arrives.
	StopJob bool
	got     []byte
	asked   []byte
	done    chan struct{}
}

// NewPrinter returns an idle printer with paper.
func NewPrinter() *Printer {
	return &Printer{Replies: [5]byte{0, 0x12, 0x12, 0x12, 0x12}, done: make(chan struct{})}
}

// Serve reads rw until it fails or the printer is told to stop.
func (f *Printer) Serve(rw io.ReadWriter) {
	defer close(f.done)
	buf := make([]byte, 4096)
	var pending []byte // the tail of a DLE EOT split across reads
	for {
		n, err := rw.Read(buf)
		if n > 0 {
			f.mu.Lock()
			f.got = append(f.got, buf[:n]...)
			silent, stopJob := f.Silent, f.StopJob
			f.mu.Unlock()
			if silent {
				return
			}
			data := append(pending, buf[:n]...)
			pending = nil
			var out []byte
			for i := 0; i < len(data); i++ {
				if data[i] != dle {
					continue
				}
				if i+2 >= len(data) {
					pending = append([]byte(nil), data[i:]...)
					break
				}
				if data[i+1] == eot && data[i+2] >= 1 && data[i+2] <= 4 {
					f.mu.Lock()
					k := data[i+2]
					f.asked = append(f.asked, k)
					out = append(out, f.Extra[k]...)
					out = append(out, f.Replies[k])
					f.mu.Unlock()
					i += 2
				}
			}
			if len(out) > 0 {
				if _, err := rw.Write(out); err != nil {
					return
				}
			}
			if stopJob && bytes.Contains(data, []byte{esc, '@'}) {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Done is closed when Serve returns.
func (f *Printer) Done() <-chan struct{} { return f.done }

// Set changes the printer's behaviour under its lock.
func (f *Printer) Set(fn func(f *Printer)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// IsSilent reports whether the printer was told to go silent.
func (f *Printer) IsSilent() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.Silent
}

// Received returns what the printer has read so far, and forgets it.
func (f *Printer) Received() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	got := f.got
	f.got = nil
	f.asked = nil
	return got
}

// Peek returns what the printer has read so far.
func (f *Printer) Peek() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]byte(nil), f.got...)
}

// Queries returns the DLE EOT n values asked since the last Received.
func (f *Printer) Queries() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]byte(nil), f.asked...)
}

// StartPTY runs a printer on a new pseudo-terminal and returns it with the
// device path to open as a serial port.
func StartPTY(t testing.TB) (*Printer, string) {
	t.Helper()
	master, slave := OpenPTY(t)
	f := NewPrinter()
	go f.Serve(master)
	t.Cleanup(func() {
		master.Close()
		<-f.done
	})
	return f, slave
}
