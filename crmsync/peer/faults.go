package peer

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Kind is a kind of call the fault switches and the counters tell apart.
type Kind string

const (
	// KindToken is POST /services/oauth2/token.
	KindToken Kind = "token"
	// KindUpsert is the sObject API under /services/data/ (PATCH upsert
	// and GET by external id).
	KindUpsert Kind = "upsert"
	// KindOpen311 is everything under /open311/v2/.
	KindOpen311 Kind = "open311"
	// KindRecords is GET /api/v1/records.
	KindRecords Kind = "records"
	// KindAll, as a fault target, hits every kind above; a fault set on a
	// kind itself wins over the one on KindAll. As a Stats argument it
	// sums every kind.
	KindAll Kind = "all"
)

// Kinds lists the call kinds (KindAll excluded).
var Kinds = []Kind{KindToken, KindUpsert, KindOpen311, KindRecords}

func (k Kind) valid() bool {
	return k == KindAll || k == KindToken || k == KindUpsert || k == KindOpen311 || k == KindRecords
}

// Mode is what a fault does to a call.
type Mode string

const (
	// ModeError answers Fault.Status (default 500) in the kind's error
	// shape; nothing is applied.
	ModeError Mode = "error"
	// ModeThrottle answers 429 with Retry-After: Fault.RetryAfter seconds
	// (default 1); nothing is applied.
	ModeThrottle Mode = "throttle"
	// ModeHang reads the request and never answers: it waits until the
	// client gives up, the peer closes, or Fault.Delay (default 30 s)
	// passes, then drops the connection. Nothing is applied.
	ModeHang Mode = "hang"
	// ModeDrop performs the call (the write is applied and counted), then
	// hijacks the TCP connection and closes it (with RST) without sending
	// a byte of the answer: the client sees a connection error.
	ModeDrop Mode = "drop"
	// ModeSlow waits Fault.Delay, then performs and answers the call
	// normally (applied even when the client has given up meanwhile).
	ModeSlow Mode = "slow"
)

// Fault is one fault switch.
type Fault struct {
	Mode Mode `json:"mode"`
	// Count is how many of the next calls it hits; 0 means every call
	// until cleared.
	Count int `json:"count,omitempty"`
	// Status is the HTTP status of ModeError (400…599, default 500).
	Status int `json:"status,omitempty"`
	// RetryAfter is the Retry-After of ModeThrottle in seconds (default 1).
	RetryAfter int `json:"retry_after_s,omitempty"`
	// Delay is the wait of ModeSlow and the upper bound of ModeHang.
	Delay time.Duration `json:"-"`
}

const defaultHang = 30 * time.Second

func (f *Fault) normalize() error {
	switch f.Mode {
	case ModeError:
		if f.Status == 0 {
			f.Status = http.StatusInternalServerError
		}
		if f.Status < 400 || f.Status > 599 {
			return fmt.Errorf("peer: fault status %d is not 400…599", f.Status)
		}
	case ModeThrottle:
		if f.RetryAfter <= 0 {
			f.RetryAfter = 1
		}
	case ModeHang:
		if f.Delay <= 0 {
			f.Delay = defaultHang
		}
	case ModeSlow:
		if f.Delay <= 0 {
			return fmt.Errorf("peer: a slow fault needs a positive delay")
		}
	case ModeDrop:
	default:
		return fmt.Errorf("peer: unknown fault mode %q (error, throttle, hang, drop, slow)", f.Mode)
	}
	if f.Count < 0 {
		return fmt.Errorf("peer: fault count %d is negative", f.Count)
	}
	if f.Delay > 10*time.Minute {
		return fmt.Errorf("peer: fault delay %s is over 10 minutes", f.Delay)
	}
	return nil
}

// Stats counts the calls of one kind since the peer started (or the last
// ResetStats).
type Stats struct {
	// Calls is every call received, faulted ones included.
	Calls uint64 `json:"calls"`
	// Faulted is the calls a fault answered or dropped before applying.
	Faulted uint64 `json:"faulted"`
	// Applied is the calls performed: tokens issued, upserts applied
	// (identical repeats included), service requests created, reads
	// served. A drop-mode call counts here: it was performed.
	Applied uint64 `json:"applied"`
	// Created, Updated and Unchanged split the applied upserts (and, for
	// Open311, Created counts the requests created).
	Created   uint64 `json:"created"`
	Updated   uint64 `json:"updated"`
	Unchanged uint64 `json:"unchanged"`
	// Duplicates counts Open311 requests created with an external id
	// that another request already had: each is a duplicate case a
	// careless retry made.
	Duplicates uint64 `json:"duplicates"`
	// Dropped counts the connections closed by ModeDrop or ModeHang.
	Dropped uint64 `json:"dropped"`
	// Stale counts the upserts the version guard refused (409
	// STALE_VERSION): older states that arrived after newer ones.
	Stale uint64 `json:"stale"`
}

func (s *Stats) add(o Stats) {
	s.Calls += o.Calls
	s.Faulted += o.Faulted
	s.Applied += o.Applied
	s.Created += o.Created
	s.Updated += o.Updated
	s.Unchanged += o.Unchanged
	s.Duplicates += o.Duplicates
	s.Dropped += o.Dropped
	s.Stale += o.Stale
}

// Faults is the fault controller of a Peer: switches per call kind and
// the call counters. It is safe for concurrent use.
type Faults struct {
	mu      sync.Mutex
	set     map[Kind]*Fault
	stats   map[Kind]*Stats
	closing chan struct{}
	once    sync.Once
}

func newFaults() *Faults {
	f := &Faults{set: map[Kind]*Fault{}, stats: map[Kind]*Stats{}, closing: make(chan struct{})}
	for _, k := range Kinds {
		f.stats[k] = &Stats{}
	}
	return f
}

// Set switches a fault on for kind (replacing the one it had).
func (f *Faults) Set(kind Kind, fault Fault) error {
	if !kind.valid() {
		return fmt.Errorf("peer: unknown call kind %q", kind)
	}
	if err := fault.normalize(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.set[kind] = &fault
	return nil
}

// Clear switches off the fault of kind (KindAll: the one set on KindAll,
// not those set on single kinds).
func (f *Faults) Clear(kind Kind) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.set, kind)
}

// ClearAll switches every fault off.
func (f *Faults) ClearAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.set = map[Kind]*Fault{}
}

// Active returns the faults switched on, with their remaining counts.
func (f *Faults) Active() map[Kind]Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[Kind]Fault, len(f.set))
	for k, v := range f.set {
		out[k] = *v
	}
	return out
}

// Stats returns the counters of kind; KindAll sums them.
func (f *Faults) Stats(kind Kind) Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	if kind == KindAll {
		var s Stats
		for _, v := range f.stats {
			s.add(*v)
		}
		return s
	}
	if s, ok := f.stats[kind]; ok {
		return *s
	}
	return Stats{}
}

// AllStats returns the counters of every kind.
func (f *Faults) AllStats() map[Kind]Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[Kind]Stats, len(f.stats))
	for k, v := range f.stats {
		out[k] = *v
	}
	return out
}

// ResetStats sets every counter back to zero.
func (f *Faults) ResetStats() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range Kinds {
		f.stats[k] = &Stats{}
	}
}

func (f *Faults) count(kind Kind, fn func(*Stats)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f.stats[kind])
}

// take counts a call and returns the fault that hits it, if any.
func (f *Faults) take(kind Kind) (Fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stats[kind].Calls++
	for _, k := range []Kind{kind, KindAll} {
		ft, ok := f.set[k]
		if !ok {
			continue
		}
		out := *ft
		if ft.Count > 0 {
			ft.Count--
			if ft.Count == 0 {
				delete(f.set, k)
			}
		}
		return out, true
	}
	return Fault{}, false
}

// release ends every hang and slow wait (the peer is closing).
func (f *Faults) release() { f.once.Do(func() { close(f.closing) }) }

// guard wraps the handler of a call kind with the counters and faults.
func (p *Peer) guard(kind Kind, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f := p.faults
		ft, hit := f.take(kind)
		if !hit {
			h(w, r)
			return
		}
		switch ft.Mode {
		case ModeError:
			f.count(kind, func(s *Stats) { s.Faulted++ })
			writeFault(w, kind, ft.Status, "injected fault")
		case ModeThrottle:
			f.count(kind, func(s *Stats) { s.Faulted++ })
			w.Header().Set("Retry-After", strconv.Itoa(ft.RetryAfter))
			writeFault(w, kind, http.StatusTooManyRequests, "rate limit exceeded (injected fault)")
		case ModeHang:
			f.count(kind, func(s *Stats) { s.Faulted++ })
			// Read the whole request: the server then watches the
			// connection and cancels the context when the client leaves.
			_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxBody))
			t := time.NewTimer(ft.Delay)
			defer t.Stop()
			select {
			case <-r.Context().Done():
			case <-t.C:
			case <-f.closing:
			}
			f.count(kind, func(s *Stats) { s.Dropped++ })
			dropConnection(w)
		case ModeSlow:
			t := time.NewTimer(ft.Delay)
			defer t.Stop()
			select {
			case <-t.C:
			case <-f.closing:
			}
			h(w, r)
		case ModeDrop:
			buf := &discardWriter{header: http.Header{}}
			h(buf, r)
			f.count(kind, func(s *Stats) { s.Dropped++ })
			dropConnection(w)
		}
	}
}

// dropConnection closes the client's connection without an answer: a
// hijack and a close with SO_LINGER 0 (so the client gets a reset), or,
// where hijacking is impossible (HTTP/2), an aborted handler.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// discardWriter takes the answer of a call whose connection is dropped.
type discardWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (d *discardWriter) Header() http.Header { return d.header }
func (d *discardWriter) WriteHeader(code int) {
	if d.status == 0 {
		d.status = code
	}
}
func (d *discardWriter) Write(b []byte) (int, error) {
	if d.status == 0 {
		d.status = http.StatusOK
	}
	return d.body.Write(b)
}

// writeFault answers an injected error in the shape of the call kind.
func writeFault(w http.ResponseWriter, kind Kind, status int, msg string) {
	switch kind {
	case KindToken:
		code := "server_error"
		if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
			code = "temporarily_unavailable"
		}
		writeJSON(w, status, map[string]string{"error": code, "error_description": msg})
	case KindUpsert:
		code := "SERVER_ERROR"
		if status == http.StatusTooManyRequests {
			code = "REQUEST_LIMIT_EXCEEDED"
		}
		writeJSON(w, status, []sfError{{ErrorCode: code, Message: msg}})
	case KindOpen311:
		if status >= 500 || status == http.StatusBadRequest {
			msg = "General Service Error (" + msg + ")"
		}
		writeJSON(w, status, []o311Error{{Code: status, Description: msg}})
	default:
		writeProblem(w, status, "injected_fault", msg)
	}
}
