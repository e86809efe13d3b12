package boltstore

import (
	"encoding/json"

	"github.com/comune-rc/sportello/hub"
	bolt "go.etcd.io/bbolt"
)

func (s *Store) get(bucket []byte, key string, v any) error {
	return s.db.View(func(tx *bolt.Tx) error {
		data := tx.Bucket(bucket).Get([]byte(key))
		if data == nil {
			return hub.ErrNotFound
		}
		return json.Unmarshal(data, v)
	})
}

func (s *Store) putOne(bucket []byte, key string, v any) error {
	return s.db.Update(func(tx *bolt.Tx) error { return put(tx.Bucket(bucket), []byte(key), v) })
}

// PutUser implements hub.AuthStore.
func (s *Store) PutUser(u *hub.User) error { return s.putOne(bucketUsers, u.Username, u) }

// User implements hub.AuthStore.
func (s *Store) User(username string) (*hub.User, error) {
	var u hub.User
	if err := s.get(bucketUsers, username, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// Users implements hub.AuthStore.
func (s *Store) Users() ([]*hub.User, error) {
	var out []*hub.User
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketUsers).ForEach(func(_, v []byte) error {
			var u hub.User
			if err := json.Unmarshal(v, &u); err != nil {
				return err
			}
			out = append(out, &u)
			return nil
		})
	})
	return out, err
}

// PutSession implements hub.AuthStore.
func (s *Store) PutSession(ss *hub.Session) error { return s.putOne(bucketSessions, ss.TokenHash, ss) }

// Session implements hub.AuthStore.
func (s *Store) Session(tokenHash string) (*hub.Session, error) {
	var ss hub.Session
	if err := s.get(bucketSessions, tokenHash, &ss); err != nil {
		return nil, err
	}
	return &ss, nil
}

// DeleteSession implements hub.AuthStore.
func (s *Store) DeleteSession(tokenHash string) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketSessions).Delete([]byte(tokenHash)) })
}

// PutDevice implements hub.AuthStore. Devices are keyed by token hash; a
// device re-enrolled with a new token loses its old one.
func (s *Store) PutDevice(d *hub.Device) error {
	return s.db.Update(func(tx *bolt.Tx) error { return putDevice(tx, d) })
}

func putDevice(tx *bolt.Tx, d *hub.Device) error {
	b := tx.Bucket(bucketDevices)
	var stale [][]byte
	if err := b.ForEach(func(k, v []byte) error {
		var old hub.Device
		if json.Unmarshal(v, &old) == nil && old.ID == d.ID && old.Kind == d.Kind && string(k) != d.TokenHash {
			stale = append(stale, append([]byte(nil), k...))
		}
		return nil
	}); err != nil {
		return err
	}
	for _, k := range stale {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return put(b, []byte(d.TokenHash), d)
}

// commitAccounts writes an admin's account changes of a batch: users,
// devices, and the end of the changed users' sessions, in the batch's
// transaction (with the audit events).
func commitAccounts(tx *bolt.Tx, batch *hub.Batch) error {
	ub := tx.Bucket(bucketUsers)
	for _, u := range batch.Users {
		if err := put(ub, []byte(u.Username), u); err != nil {
			return err
		}
	}
	for _, d := range batch.Devices {
		if err := putDevice(tx, d); err != nil {
			return err
		}
	}
	if len(batch.EndSessionsOf) == 0 {
		return nil
	}
	end := map[string]bool{}
	for _, u := range batch.EndSessionsOf {
		end[u] = true
	}
	sb := tx.Bucket(bucketSessions)
	var gone [][]byte
	if err := sb.ForEach(func(k, v []byte) error {
		var ss hub.Session
		if json.Unmarshal(v, &ss) != nil || end[ss.Username] {
			gone = append(gone, append([]byte(nil), k...))
		}
		return nil
	}); err != nil {
		return err
	}
	for _, k := range gone {
		if err := sb.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// Sessions implements hub.AuthStore: the open sessions of a user.
func (s *Store) Sessions(username string) ([]*hub.Session, error) {
	var out []*hub.Session
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSessions).ForEach(func(_, v []byte) error {
			var ss hub.Session
			if err := json.Unmarshal(v, &ss); err != nil {
				return err
			}
			if ss.Username == username {
				out = append(out, &ss)
			}
			return nil
		})
	})
	return out, err
}

// DeviceByToken implements hub.AuthStore.
func (s *Store) DeviceByToken(tokenHash string) (*hub.Device, error) {
	var d hub.Device
	if err := s.get(bucketDevices, tokenHash, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// AppendLogin implements hub.AuthStore.
func (s *Store) AppendLogin(r hub.LoginRecord) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLogins)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		return put(b, itob(seq), r)
	})
}

// Logins implements hub.AuthStore: newest first.
func (s *Store) Logins(limit int) ([]hub.LoginRecord, error) {
	var out []hub.LoginRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketLogins).Cursor()
		for k, v := c.Last(); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Prev() {
			var r hub.LoginRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}
