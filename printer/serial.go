package printer

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.bug.st/serial"
)

// serialPrinter drives a printer on an RS-232 line, a USB-serial adapter
// (/dev/ttyUSB*) or a CDC-ACM device (/dev/ttyACM*) with go.bug.st/serial.
//
// That library sets raw 8N1 with no flow control and has no write timeout,
// so this transport adds what it lacks: every write runs under a watchdog
// whose deadline is the time the bytes need at the line's speed plus a
// margin, and the port is closed (and reopened on the next call) when a
// write does not finish in time; XON/XOFF from the printer is honoured
// between 256-byte chunks.
type serialPrinter struct {
	path        string
	baud        int
	checkStatus bool

	mu     sync.Mutex // one job or status check at a time
	port   serial.Port
	closed bool
}

func newSerialPrinter(path string, baud int, checkStatus bool) *serialPrinter {
	return &serialPrinter{path: path, baud: baud, checkStatus: checkStatus}
}

// open returns the port, opening it if needed. InitialStatusBits stays nil:
// setting DTR/RTS fails on CDC-ACM devices and pseudo-terminals.
func (p *serialPrinter) open() (serial.Port, error) {
	if p.closed {
		return nil, fmt.Errorf("printer: %s: closed", p.path)
	}
	if p.port != nil {
		return p.port, nil
	}
	port, err := serial.Open(p.path, &serial.Mode{BaudRate: p.baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		return nil, fmt.Errorf("printer: open %s: %v: %w", p.path, err, ErrOffline)
	}
	p.port = port
	return port, nil
}

// drop closes the port after a failure; the next call reopens it.
func (p *serialPrinter) drop(port serial.Port) {
	port.Close()
	if p.port == port {
		p.port = nil
	}
}

func (p *serialPrinter) Print(ctx context.Context, job []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	port, err := p.open()
	if err != nil {
		return err
	}
	return printJob(ctx, &session{l: &serialLink{p: p, port: port}}, job, p.checkStatus)
}

func (p *serialPrinter) Status(ctx context.Context) (State, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.checkStatus {
		return StateOK, ErrStatusUnsupported
	}
	port, err := p.open()
	if err != nil {
		return StateOffline, err
	}
	return statusOf(ctx, &serialLink{p: p, port: port}, true)
}

func (p *serialPrinter) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if p.port == nil {
		return nil
	}
	err := p.port.Close()
	p.port = nil
	return err
}

// serialLink is the link over one open port.
type serialLink struct {
	p    *serialPrinter
	port serial.Port
}

// lineTime is how long n bytes take on the wire at the port's speed
// (10 bits a byte: start, 8 data, stop).
func (l *serialLink) lineTime(n int) time.Duration {
	return time.Duration(n) * 10 * time.Second / time.Duration(l.p.baud)
}

func (l *serialLink) write(ctx context.Context, b []byte) error {
	// Twice the wire time: the kernel buffer may still hold an earlier chunk.
	limit := 2*l.lineTime(len(b)) + writeMargin
	return watchedWrite(ctx, l.port, b, limit, func() { l.p.drop(l.port) })
}

func (l *serialLink) read(b []byte, deadline time.Time) (int, error) {
	wait := max(time.Until(deadline), 0)
	if err := l.port.SetReadTimeout(wait); err != nil {
		l.p.drop(l.port)
		return 0, fmt.Errorf("printer: %s: %v: %w", l.p.path, err, ErrOffline)
	}
	n, err := l.port.Read(b) // (0, nil) on time-out
	if err != nil {
		l.p.drop(l.port)
		return n, fmt.Errorf("printer: read %s: %v: %w", l.p.path, err, ErrOffline)
	}
	return n, nil
}

func (l *serialLink) discardInput() { _ = l.port.ResetInputBuffer() }

// drain waits for tcdrain, under a watchdog sized to the whole job: after the
// last write the kernel may still hold kilobytes for the wire.
func (l *serialLink) drain(ctx context.Context, n int) error {
	limit := l.lineTime(n) + writeMargin
	done := make(chan error, 1)
	port := l.port
	go func() { done <- port.Drain() }()
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case err := <-done:
		if err != nil {
			l.p.drop(port)
			return fmt.Errorf("printer: drain %s: %v: %w", l.p.path, err, ErrOffline)
		}
		return nil
	case <-t.C:
		l.p.drop(port)
		return fmt.Errorf("printer: %s: output not sent within %v: %w", l.p.path, limit.Round(time.Millisecond), ErrOffline)
	case <-ctx.Done():
		l.p.drop(port)
		return ctx.Err()
	}
}
