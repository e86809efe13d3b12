package printer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"
)

// usbWriteLimit is how long one chunk may take on a USB printer. usblp's
// write blocks while the printer is offline, re-checking every 1.5 s.
const usbWriteLimit = writeMargin

// usblpPrinter drives a USB printer-class device (/dev/usb/lpN) through the
// kernel's usblp driver. usblp supports poll, so os.OpenFile puts the file on
// Go's poller and read deadlines work; writes run under the same watchdog as
// on serial lines. A device bound unidirectionally answers read with EINVAL:
// it then prints without status checks.
type usblpPrinter struct {
	path        string
	checkStatus bool

	mu     sync.Mutex
	f      *os.File
	closed bool
	noRead bool // the device cannot be read: no status
}

func newUSBLPPrinter(path string, checkStatus bool) *usblpPrinter {
	return &usblpPrinter{path: path, checkStatus: checkStatus}
}

func (p *usblpPrinter) open() (*os.File, error) {
	if p.closed {
		return nil, fmt.Errorf("printer: %s: closed", p.path)
	}
	if p.f != nil {
		return p.f, nil
	}
	f, err := os.OpenFile(p.path, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, fmt.Errorf("printer: open %s: %v: %w", p.path, err, ErrOffline)
	}
	p.f = f
	return f, nil
}

func (p *usblpPrinter) drop(f *os.File) {
	f.Close()
	if p.f == f {
		p.f = nil
	}
}

func (p *usblpPrinter) Print(ctx context.Context, job []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	f, err := p.open()
	if err != nil {
		return err
	}
	return printJob(ctx, &session{l: &fileLink{p: p, f: f}}, job, p.checkStatus && !p.noRead)
}

func (p *usblpPrinter) Status(ctx context.Context) (State, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.checkStatus || p.noRead {
		return StateOK, ErrStatusUnsupported
	}
	f, err := p.open()
	if err != nil {
		return StateOffline, err
	}
	return statusOf(ctx, &fileLink{p: p, f: f}, true)
}

func (p *usblpPrinter) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if p.f == nil {
		return nil
	}
	err := p.f.Close()
	p.f = nil
	return err
}

// fileLink is the link over an open character device.
type fileLink struct {
	p *usblpPrinter
	f *os.File
}

func (l *fileLink) write(ctx context.Context, b []byte) error {
	return watchedWrite(ctx, l.f, b, usbWriteLimit, func() { l.p.drop(l.f) })
}

func (l *fileLink) read(b []byte, deadline time.Time) (int, error) {
	if !time.Now().Before(deadline) {
		// A deadline in the past fails before reading: poll briefly instead.
		deadline = time.Now().Add(time.Millisecond)
	}
	if err := l.f.SetReadDeadline(deadline); err != nil {
		// Not on the poller: a read could block for ever.
		l.p.noRead = true
		return 0, fmt.Errorf("printer: %s: %v: %w", l.p.path, err, ErrStatusUnsupported)
	}
	n, err := l.f.Read(b)
	switch {
	case err == nil:
		return n, nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		return n, nil
	case errors.Is(err, syscall.EINVAL):
		l.p.noRead = true // usblp bound unidirectionally
		return 0, fmt.Errorf("printer: %s: %v: %w", l.p.path, err, ErrStatusUnsupported)
	}
	l.p.drop(l.f)
	return n, fmt.Errorf("printer: read %s: %v: %w", l.p.path, err, ErrOffline)
}

// discardInput reads away anything already waiting.
func (l *fileLink) discardInput() {
	var b [64]byte
	for i := 0; i < 16; i++ {
		if l.f.SetReadDeadline(time.Now().Add(time.Millisecond)) != nil {
			return
		}
		if n, err := l.f.Read(b[:]); n == 0 || err != nil {
			return
		}
	}
}

func (l *fileLink) drain(context.Context, int) error { return nil }
