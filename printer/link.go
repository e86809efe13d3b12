package printer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Timing of a conversation with a printer.
const (
	// replyTimeout is how long one DLE EOT request waits for its byte.
	replyTimeout = 500 * time.Millisecond
	// chunkSize is the most bytes handed to the device in one write, so that
	// XOFF is honoured between chunks and a stall is seen early.
	chunkSize = 256
	// writeMargin is added to the time a write needs at the line's speed
	// before the watchdog calls the printer offline.
	writeMargin = 2 * time.Second
	// xoffLimit is how long a printer may hold XOFF before it counts as
	// offline.
	xoffLimit = 5 * time.Second
)

// link is a two-way byte path to a printer for one job or one status check.
// The transports implement it; the session on top speaks the protocol.
type link interface {
	// write hands all of p to the device, or fails with an error wrapping
	// ErrOffline when the device does not take it in time (the transport's
	// watchdog has then closed the device).
	write(ctx context.Context, p []byte) error
	// read returns what the printer sent, waiting at most until deadline:
	// (0, nil) when nothing came. A deadline already past only takes what
	// is already there.
	read(p []byte, deadline time.Time) (int, error)
	// discardInput drops input not read yet, where the device allows it, so
	// a stale reply is not taken for the next one.
	discardInput()
	// drain waits until the n bytes written have left the machine (serial
	// lines buffer kilobytes in the kernel); a no-op elsewhere.
	drain(ctx context.Context, n int) error
}

// session is one conversation over a link: it sorts the printer's output,
// tracks XON/XOFF and matches status replies to requests.
type session struct {
	l link
	// xoffWait overrides xoffLimit when not zero.
	xoffWait time.Duration
	sorter   Sorter
	xoff     bool
	replies  []Reply // sorted but not yet consumed
	buf      [128]byte
}

// pump reads once, waiting at most until deadline, and sorts what came.
func (s *session) pump(deadline time.Time) error {
	n, err := s.l.read(s.buf[:], deadline)
	if n > 0 {
		s.replies = s.sorter.Feed(s.replies, s.buf[:n])
		// XON/XOFF take effect whatever else is waiting.
		kept := s.replies[:0]
		for _, r := range s.replies {
			switch r.Kind {
			case ReplyXON:
				s.xoff = false
			case ReplyXOFF:
				s.xoff = true
			default:
				kept = append(kept, r)
			}
		}
		s.replies = kept
	}
	return err
}

// query sends DLE EOT n and returns the reply byte.
func (s *session) query(ctx context.Context, n byte) (byte, error) {
	s.l.discardInput()
	s.replies, s.sorter = s.replies[:0], Sorter{}
	if err := s.l.write(ctx, StatusRequest(n)); err != nil {
		return 0, err
	}
	deadline := time.Now().Add(replyTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	for {
		for i, r := range s.replies {
			if r.Kind == ReplyStatus {
				s.replies = append(s.replies[:0], s.replies[i+1:]...)
				return r.B[0], nil
			}
		}
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if !time.Now().Before(deadline) {
			return 0, fmt.Errorf("printer: no reply to DLE EOT %d within %v: %w", n, replyTimeout, ErrOffline)
		}
		if err := s.pump(deadline); err != nil {
			return 0, err
		}
	}
}

// status asks DLE EOT 1, 2 and 4, and 3 when the printer is offline or in
// error, and maps the replies to a state. A request without an answer makes
// the printer offline.
func (s *session) status(ctx context.Context) (State, error) {
	var r Replies
	var err error
	if r.Printer, err = s.query(ctx, StatusPrinter); err != nil {
		return StateOffline, err
	}
	if r.Offline, err = s.query(ctx, StatusOffline); err != nil {
		return StateOffline, err
	}
	if r.Paper, err = s.query(ctx, StatusPaper); err != nil {
		return StateOffline, err
	}
	if r.needsErrorQuery() {
		// Only detail: an unanswered DLE EOT 3 changes nothing.
		if b, err := s.query(ctx, StatusError); err == nil {
			r.Error = b
		} else if ctx.Err() != nil {
			return StateOffline, ctx.Err()
		}
	}
	return r.State(), nil
}

// send writes job in chunks, pausing while the printer holds XOFF.
func (s *session) send(ctx context.Context, job []byte) error {
	for len(job) > 0 {
		if err := s.pump(time.Time{}); err != nil {
			return err
		}
		if s.xoff {
			wait := xoffLimit
			if s.xoffWait > 0 {
				wait = s.xoffWait
			}
			limit := time.Now().Add(wait)
			for s.xoff {
				if !time.Now().Before(limit) {
					return fmt.Errorf("printer: XOFF held for more than %v: %w", wait, ErrOffline)
				}
				if err := ctx.Err(); err != nil {
					return err
				}
				if err := s.pump(minTime(limit, time.Now().Add(100*time.Millisecond))); err != nil {
					return err
				}
			}
		}
		n := min(chunkSize, len(job))
		if err := s.l.write(ctx, job[:n]); err != nil {
			return err
		}
		job = job[n:]
	}
	return nil
}

// printJob is Print over a link: the status first (a ticket is not sent to
// a printer that cannot print it), then the job, then the status again,
// which also proves the printer took everything before the link closes.
// Without status support (checkStatus false, or the device cannot answer)
// the job is only sent.
func printJob(ctx context.Context, s *session, job []byte, checkStatus bool) error {
	if checkStatus {
		st, err := s.status(ctx)
		switch {
		case errors.Is(err, ErrStatusUnsupported):
			checkStatus = false
		case err != nil:
			return fmt.Errorf("printer: status before printing: %w", err)
		case !st.CanPrint():
			return &NotReadyError{State: st}
		}
	}
	if err := s.send(ctx, job); err != nil {
		return fmt.Errorf("printer: sending the ticket: %w", err)
	}
	if err := s.l.drain(ctx, len(job)); err != nil {
		return fmt.Errorf("printer: sending the ticket: %w", err)
	}
	if !checkStatus {
		return nil
	}
	st, err := s.status(ctx)
	if err != nil {
		return fmt.Errorf("printer: status after printing: %w", err)
	}
	if !st.CanPrint() {
		return &NotReadyError{State: st, After: true}
	}
	return nil
}

// statusOf is Status over a link.
func statusOf(ctx context.Context, l link, checkStatus bool) (State, error) {
	if !checkStatus {
		return StateOK, ErrStatusUnsupported
	}
	s := &session{l: l}
	st, err := s.status(ctx)
	if errors.Is(err, ErrStatusUnsupported) {
		return StateOK, err
	}
	return st, err
}

// watchedWrite writes p to w from another goroutine and waits at most limit
// (or until ctx ends). go.bug.st/serial has no write timeout and a blocked
// device write cannot be interrupted, so on time-out abort closes the device
// and the goroutine is left to finish when the device fails the write.
func watchedWrite(ctx context.Context, w io.Writer, p []byte, limit time.Duration, abort func()) error {
	size := len(p)
	done := make(chan error, 1)
	go func() {
		for len(p) > 0 {
			n, err := w.Write(p)
			if err != nil {
				done <- err
				return
			}
			if n == 0 {
				done <- io.ErrShortWrite
				return
			}
			p = p[n:]
		}
		done <- nil
	}()
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case err := <-done:
		if err != nil {
			abort()
			return fmt.Errorf("printer: write: %v: %w", err, ErrOffline)
		}
		return nil
	case <-t.C:
		abort()
		return fmt.Errorf("printer: write of %d bytes not done within %v: %w", size, limit.Round(time.Millisecond), ErrOffline)
	case <-ctx.Done():
		abort()
		return ctx.Err()
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
