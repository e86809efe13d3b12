package hub

import "sync"

// Feed fans committed events out to live-feed clients. Each client has its
// own buffered channel; a client whose buffer is full is dropped (its
// channel closed) rather than allowed to slow the others or the writer.
// Clients reconnect with since= and replay what they missed.
type Feed struct {
	mu     sync.Mutex
	subs   map[*Subscription]struct{}
	closed bool
}

// Subscription is one client's stream of events.
type Subscription struct {
	C    chan Event
	feed *Feed
	once sync.Once
	// Dropped is set when the feed dropped the client for being slow.
	dropped bool
}

// NewFeed returns an empty feed.
func NewFeed() *Feed { return &Feed{subs: map[*Subscription]struct{}{}} }

// Subscribe adds a client with a buffer of n events.
func (f *Feed) Subscribe(n int) *Subscription {
	if n <= 0 {
		n = 256
	}
	s := &Subscription{C: make(chan Event, n), feed: f}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		close(s.C)
		return s
	}
	f.subs[s] = struct{}{}
	return s
}

// Close removes the client.
func (s *Subscription) Close() {
	s.feed.mu.Lock()
	defer s.feed.mu.Unlock()
	s.closeLocked()
}

func (s *Subscription) closeLocked() {
	s.once.Do(func() {
		delete(s.feed.subs, s)
		close(s.C)
	})
}

// Dropped reports whether the feed dropped the client for being slow.
func (s *Subscription) Dropped() bool {
	s.feed.mu.Lock()
	defer s.feed.mu.Unlock()
	return s.dropped
}

// Publish sends events to every client, never blocking. Private events
// (Event.Private) are not sent.
func (f *Feed) Publish(events []Event) {
	if len(events) == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for s := range f.subs {
		for _, ev := range events {
			if ev.Private() {
				continue
			}
			select {
			case s.C <- ev:
			default:
				s.dropped = true
				s.closeLocked()
			}
			if s.dropped {
				break
			}
		}
	}
}

// Len is the number of connected clients.
func (f *Feed) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

// Close drops every client: the hub is stopping.
func (f *Feed) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	for s := range f.subs {
		s.closeLocked()
	}
}
