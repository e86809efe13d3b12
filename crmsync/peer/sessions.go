package peer

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"sync"
	"time"
)

// session is a staff user logged in to the views. Sessions live in
// memory: a restart of the peer logs everyone out.
type session struct {
	user    string
	csrf    string
	expires time.Time
}

type sessions struct {
	mu sync.Mutex
	m  map[string]*session // sha256(cookie) → session
}

func newSessions() *sessions { return &sessions{m: map[string]*session{}} }

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("peer: no randomness: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func sessionKey(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

func (s *sessions) create(user string, now time.Time, ttl time.Duration) (string, *session) {
	tok := randomToken()
	sess := &session{user: user, csrf: randomToken(), expires: now.Add(ttl)}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.m {
		if !now.Before(v.expires) {
			delete(s.m, k)
		}
	}
	s.m[sessionKey(tok)] = sess
	return tok, sess
}

func (s *sessions) get(tok string, now time.Time) *session {
	if tok == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.m[sessionKey(tok)]
	if !ok {
		return nil
	}
	if !now.Before(sess.expires) {
		delete(s.m, sessionKey(tok))
		return nil
	}
	c := *sess
	return &c
}

func (s *sessions) delete(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, sessionKey(tok))
}
