package boltstore_test

import (
	"encoding/binary"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/boltstore"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func open(t *testing.T, path string, o boltstore.Options) *boltstore.Store {
	t.Helper()
	o.Logger = quiet
	s, err := boltstore.Open(path, o)
	require.NoError(t, err)
	return s
}

func events(from, to uint64) []hub.Event {
	var out []hub.Event
	for i := from; i <= to; i++ {
		out = append(out, hub.Event{Seq: i, Type: hub.EventTicketIssued, At: time.Unix(int64(i), 0).UTC(), Data: hub.EventData{Number: "A001"}})
	}
	return out
}

func TestCommitAndLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s := open(t, path, boltstore.Options{})
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	yesterdayOpen := &hub.Ticket{ID: "x-20261130-A009", Day: "2026-11-30", Number: "A009", Status: hub.StatusWaiting}
	yesterdayDone := &hub.Ticket{ID: "x-20261130-A008", Day: "2026-11-30", Number: "A008", Status: hub.StatusDone}
	today := &hub.Ticket{ID: "x-20261201-A001", Day: "2026-12-01", Number: "A001", Status: hub.StatusDone, IssuedAt: now}
	require.NoError(t, s.Commit(&hub.Batch{
		Events:  events(1, 3),
		Tickets: []*hub.Ticket{yesterdayOpen, yesterdayDone, today},
		Numbers: map[string]int{"2026-11-30/A": 9, "2026-12-01/A": 1},
		Idem:    []hub.IdemRecord{{Key: "totem-1\x00k", TicketID: today.ID, At: time.Now()}},
		Outbox:  []hub.OutboxRecord{{TicketID: today.ID, EventSeq: 3, Type: hub.EventTicketIssued, Ticket: today}},
	}))
	require.NoError(t, s.Close())
	s = open(t, path, boltstore.Options{})
	defer s.Close()
	st, err := s.Load("2026-12-01")
	require.NoError(t, err)
	require.Equal(t, uint64(3), st.LastSeq)
	ids := map[string]bool{}
	for _, tk := range st.Tickets {
		ids[tk.ID] = true
	}
	require.Equal(t, map[string]bool{today.ID: true, yesterdayOpen.ID: true}, ids, "today's tickets and every open one")
	require.Equal(t, map[string]int{"2026-12-01/A": 1}, st.Numbers)
	require.Len(t, st.Idem, 1)
	seqs, recs, err := s.Outbox(0, 10)
	require.NoError(t, err)
	require.Equal(t, []uint64{1}, seqs)
	require.Equal(t, today.ID, recs[0].TicketID)
	got, err := s.Ticket(yesterdayDone.ID)
	require.NoError(t, err)
	require.Equal(t, "A008", got.Number)
	_, err = s.Ticket("nope")
	require.ErrorIs(t, err, hub.ErrTicketNotFound)
}

func TestNumbersNeverGoDown(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "s.db"), boltstore.Options{NoSync: true})
	defer s.Close()
	require.NoError(t, s.Commit(&hub.Batch{Numbers: map[string]int{"2026-12-01/A": 5}}))
	require.NoError(t, s.Commit(&hub.Batch{Numbers: map[string]int{"2026-12-01/A": 3}}))
	st, err := s.Load("2026-12-01")
	require.NoError(t, err)
	require.Equal(t, 5, st.Numbers["2026-12-01/A"])
}

func TestEventsSinceAndPruning(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s := open(t, path, boltstore.Options{NoSync: true})
	require.NoError(t, s.Commit(&hub.Batch{Events: events(1, 50)}))
	evs, ok, err := s.EventsSince(10, 5)
	require.NoError(t, err)
	require.True(t, ok)
	require.Len(t, evs, 5)
	require.Equal(t, uint64(11), evs[0].Seq)
	evs, ok, err = s.EventsSince(50, 0)
	require.NoError(t, err)
	require.True(t, ok)
	require.Empty(t, evs)
	require.NoError(t, s.Close())

	// Reopened keeping 20 events: a client at 10 is too old for replay.
	s = open(t, path, boltstore.Options{NoSync: true, KeepEvents: 20})
	defer s.Close()
	_, ok, err = s.EventsSince(10, 0)
	require.NoError(t, err)
	require.False(t, ok)
	evs, ok, err = s.EventsSince(30, 0)
	require.NoError(t, err)
	require.True(t, ok)
	require.Len(t, evs, 20)
	st, err := s.Load("2026-12-01")
	require.NoError(t, err)
	require.Equal(t, uint64(50), st.LastSeq, "pruning keeps the seq going")
}

func TestSchemaVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s := open(t, path, boltstore.Options{NoSync: true})
	var v uint64
	require.NoError(t, s.DB().View(func(tx *bolt.Tx) error {
		v = binary.BigEndian.Uint64(tx.Bucket([]byte("meta")).Get([]byte("schema_version")))
		return nil
	}))
	require.Equal(t, uint64(boltstore.SchemaVersion), v)
	// A store from a newer program is refused, not silently used.
	require.NoError(t, s.DB().Update(func(tx *bolt.Tx) error {
		b := make([]byte, 8)
		binary.BigEndian.PutUint64(b, 99)
		return tx.Bucket([]byte("meta")).Put([]byte("schema_version"), b)
	}))
	require.NoError(t, s.Close())
	_, err := boltstore.Open(path, boltstore.Options{Logger: quiet})
	require.ErrorContains(t, err, "newer than this program")
}

func TestSecondOpenFailsClearly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s := open(t, path, boltstore.Options{NoSync: true})
	defer s.Close()
	_, err := boltstore.Open(path, boltstore.Options{Timeout: 100 * time.Millisecond, Logger: quiet})
	require.ErrorContains(t, err, "in use by another process")
}

func TestAuthRecords(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "s.db"), boltstore.Options{NoSync: true})
	defer s.Close()
	_, err := s.User("nobody")
	require.ErrorIs(t, err, hub.ErrNotFound)
	require.NoError(t, s.PutDevice(&hub.Device{ID: "totem-1", Kind: hub.DeviceTotem, TokenHash: "old"}))
	require.NoError(t, s.PutDevice(&hub.Device{ID: "totem-1", Kind: hub.DeviceTotem, TokenHash: "new"}))
	_, err = s.DeviceByToken("old")
	require.ErrorIs(t, err, hub.ErrNotFound, "re-enrolment revokes the old token")
	d, err := s.DeviceByToken("new")
	require.NoError(t, err)
	require.Equal(t, "totem-1", d.ID)
}

// A store written before the admin catalogue (schema 1) is migrated in
// place; the catalogue then round-trips with its services' durations, and
// an admin's account batch writes the user and ends only their sessions.
func TestCatalogueMigrationAndAccountBatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s := open(t, path, boltstore.Options{NoSync: true})
	require.NoError(t, s.DB().Update(func(tx *bolt.Tx) error {
		for _, b := range []string{"catalogue", "kpi_days"} {
			if err := tx.DeleteBucket([]byte(b)); err != nil {
				return err
			}
		}
		b := make([]byte, 8)
		binary.BigEndian.PutUint64(b, 1)
		return tx.Bucket([]byte("meta")).Put([]byte("schema_version"), b)
	}))
	require.NoError(t, s.Close())
	s = open(t, path, boltstore.Options{NoSync: true})
	defer s.Close()
	require.Equal(t, 3, boltstore.SchemaVersion)
	require.NoError(t, s.DB().View(func(tx *bolt.Tx) error {
		require.Equal(t, uint64(3), binary.BigEndian.Uint64(tx.Bucket([]byte("meta")).Get([]byte("schema_version"))))
		require.NotNil(t, tx.Bucket([]byte("catalogue")))
		require.NotNil(t, tx.Bucket([]byte("kpi_days")))
		return nil
	}))
	st, err := s.Load("2026-12-01")
	require.NoError(t, err)
	require.Nil(t, st.Catalogue, "nothing saved yet")

	cat := &hub.Catalogue{
		Services: []hub.Service{{ID: "passaporti", Prefix: "PS", Name: hub.Text{IT: "Passaporti", EN: "Passports"}, Category: hub.Dispositivo,
			TargetWait: 90 * time.Second, ServiceTime: 9 * time.Minute, Inactive: true, NoPriority: true}},
		Counters: []hub.CounterDef{{ID: "19", Kind: hub.KindCounter, Name: hub.Text{IT: "Sportello 19", EN: "Desk 19"}, Services: []string{"passaporti"}}},
	}
	for _, ss := range []*hub.Session{{TokenHash: "a1", Username: "anna"}, {TokenHash: "a2", Username: "anna"}, {TokenHash: "b1", Username: "bruno"}} {
		require.NoError(t, s.PutSession(ss))
	}
	require.NoError(t, s.Commit(&hub.Batch{
		Events:        events(1, 1),
		Catalogue:     cat,
		Users:         []*hub.User{{Username: "anna", Role: hub.RoleSupervisor, Disabled: true}},
		Devices:       []*hub.Device{{ID: "totem-1", Kind: hub.DeviceTotem, TokenHash: "t1"}},
		EndSessionsOf: []string{"anna"},
	}))
	st, err = s.Load("2026-12-01")
	require.NoError(t, err)
	require.Equal(t, cat, st.Catalogue)
	u, err := s.User("anna")
	require.NoError(t, err)
	require.True(t, u.Disabled)
	for _, h := range []string{"a1", "a2"} {
		_, err := s.Session(h)
		require.ErrorIs(t, err, hub.ErrNotFound, "anna's sessions end with the change")
	}
	_, err = s.Session("b1")
	require.NoError(t, err, "bruno's session stays")
	left, err := s.Sessions("bruno")
	require.NoError(t, err)
	require.Len(t, left, 1)
	d, err := s.DeviceByToken("t1")
	require.NoError(t, err)
	require.Equal(t, "totem-1", d.ID)
}
