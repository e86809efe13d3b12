package printer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"
)

// Network printer timing. Epson's UB-E02/E04 interfaces accept three
// connections but print from one, and drop a connection idle for 5 minutes:
// one short connection per job (or status check) keeps them free.
const (
	dialTimeout  = 3 * time.Second
	tcpKeepAlive = 30 * time.Second
	// tcpWriteBase plus one second per tcpWriteRate bytes is the deadline
	// of a job's write phase: the printer takes data as fast as it prints.
	tcpWriteBase = 5 * time.Second
	tcpWriteRate = 8 << 10
)

// tcpPrinter drives a network printer on its raw port (9100).
type tcpPrinter struct {
	addr        string
	checkStatus bool
	dialer      net.Dialer

	mu sync.Mutex // one connection at a time
}

func newTCPPrinter(addr string, checkStatus bool) *tcpPrinter {
	return &tcpPrinter{
		addr:        addr,
		checkStatus: checkStatus,
		dialer:      net.Dialer{Timeout: dialTimeout, KeepAlive: tcpKeepAlive},
	}
}

func (p *tcpPrinter) dial(ctx context.Context) (net.Conn, error) {
	c, err := p.dialer.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		return nil, fmt.Errorf("printer: connect %s: %v: %w", p.addr, err, ErrOffline)
	}
	return c, nil
}

func (p *tcpPrinter) Print(ctx context.Context, job []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, err := p.dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	l := &tcpLink{addr: p.addr, c: c, jobDeadline: time.Now().Add(tcpWriteBase + time.Duration(len(job)/tcpWriteRate)*time.Second)}
	return printJob(ctx, &session{l: l}, job, p.checkStatus)
}

func (p *tcpPrinter) Status(ctx context.Context) (State, error) {
	if !p.checkStatus {
		return StateOK, ErrStatusUnsupported
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	c, err := p.dial(ctx)
	if err != nil {
		return StateOffline, err
	}
	defer c.Close()
	return statusOf(ctx, &tcpLink{addr: p.addr, c: c}, true)
}

// Close has nothing to release: connections live for one call.
func (p *tcpPrinter) Close() error { return nil }

// tcpLink is the link over one connection; every phase has its own deadline.
type tcpLink struct {
	addr        string
	c           net.Conn
	jobDeadline time.Time // for the job's chunks; zero for a status check
}

func (l *tcpLink) write(ctx context.Context, b []byte) error {
	// A status request gets replyTimeout; a job's chunks share the job's.
	deadline := time.Now().Add(replyTimeout)
	if l.jobDeadline.After(deadline) {
		deadline = l.jobDeadline
	}
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	l.c.SetWriteDeadline(deadline)
	if _, err := l.c.Write(b); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("printer: write %s: %v: %w", l.addr, err, ErrOffline)
	}
	return nil
}

func (l *tcpLink) read(b []byte, deadline time.Time) (int, error) {
	if !time.Now().Before(deadline) {
		deadline = time.Now().Add(time.Millisecond)
	}
	l.c.SetReadDeadline(deadline)
	n, err := l.c.Read(b)
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		return n, fmt.Errorf("printer: read %s: %v: %w", l.addr, err, ErrOffline)
	}
	return n, nil
}

// discardInput has nothing to do: each connection is new.
func (l *tcpLink) discardInput() {}

func (l *tcpLink) drain(context.Context, int) error { return nil }
