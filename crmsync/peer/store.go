package peer

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrNotFound is returned by the Go API when a record or request is not held.
var ErrNotFound = errors.New("peer: not found")

// The buckets of czrm.db, all created at open.
var (
	bMeta       = []byte("meta")        // schema, hmac_key, counters
	bRecords    = []byte("records")     // seq → Record
	bRecordKeys = []byte("record_keys") // object \x00 field \x00 value → seq
	bRequests   = []byte("requests")    // seq → ServiceRequest
	bRequestIDs = []byte("request_ids") // service_request_id → seq
	bExtIndex   = []byte("ext_index")   // external id \x00 kind seq → ""
	bCitizens   = []byte("citizens")    // handle → codice fiscale
	bCFIndex    = []byte("cf_index")    // handle kind seq → ""
	bTokens     = []byte("tokens")      // sha256(token) → tokenRecord

	allBuckets = [][]byte{bMeta, bRecords, bRecordKeys, bRequests, bRequestIDs, bExtIndex, bCitizens, bCFIndex, bTokens}
)

// Index entry kinds: an upserted record or an Open311 service request.
const (
	kindRecord  byte = 'r'
	kindRequest byte = 's'
)

// Record is one upserted sObject record.
type Record struct {
	// ID is the peer's own 18-character record id (Salesforce style).
	ID         string `json:"id"`
	Object     string `json:"object"`
	ExtIDField string `json:"ext_id_field"`
	ExternalID string `json:"external_id"`
	// Fields are the record's fields, each as canonical JSON (objects with
	// sorted keys), merged over every upsert.
	Fields map[string]json.RawMessage `json:"fields"`
	// Version starts at 1 and grows only when an upsert changes a field.
	Version uint64 `json:"version"`
	// Applies counts the upserts applied, identical repeats included.
	Applies   uint64    `json:"applies"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"` // last change
	AppliedAt time.Time `json:"applied_at"` // last upsert, even identical
	CreatedBy string    `json:"created_by"` // client id, or agent:USER
	UpdatedBy string    `json:"updated_by"`
}

// ServiceRequest is an Open311 service request as the peer holds it.
// Personal fields (email, names, phone, device and account ids, the
// codice fiscale attribute) are never part of an Open311 answer.
type ServiceRequest struct {
	ServiceRequestID  string              `json:"service_request_id"`
	Status            string              `json:"status"` // open or closed
	StatusNotes       string              `json:"status_notes,omitempty"`
	ServiceCode       string              `json:"service_code"`
	ServiceName       string              `json:"service_name"`
	Description       string              `json:"description,omitempty"`
	AgencyResponsible string              `json:"agency_responsible,omitempty"`
	ServiceNotice     string              `json:"service_notice,omitempty"`
	RequestedAt       time.Time           `json:"requested_datetime"`
	UpdatedAt         time.Time           `json:"updated_datetime"`
	ExpectedAt        *time.Time          `json:"expected_datetime,omitempty"`
	Address           string              `json:"address,omitempty"`
	AddressID         string              `json:"address_id,omitempty"`
	Zipcode           string              `json:"zipcode,omitempty"`
	Lat               *float64            `json:"lat,omitempty"`
	Long              *float64            `json:"long,omitempty"`
	MediaURL          string              `json:"media_url,omitempty"`
	Attributes        map[string][]string `json:"attributes,omitempty"`
	ExternalID        string              `json:"external_id,omitempty"`
	Email             string              `json:"email,omitempty"`
	FirstName         string              `json:"first_name,omitempty"`
	LastName          string              `json:"last_name,omitempty"`
	Phone             string              `json:"phone,omitempty"`
	DeviceID          string              `json:"device_id,omitempty"`
	AccountID         string              `json:"account_id,omitempty"`
	FiledBy           string              `json:"filed_by,omitempty"` // client id
	ClosedBy          string              `json:"closed_by,omitempty"`
	Version           uint64              `json:"version"`
}

type tokenRecord struct {
	Client    string    `json:"client"`
	ExpiresAt time.Time `json:"expires_at"`
}

type store struct {
	db      *bolt.DB
	hmacKey []byte
}

// migrations bring the file to the current schema; each runs once, in
// order, in its own transaction. Index i moves the schema from i to i+1.
var migrations = []func(tx *bolt.Tx) error{
	// 0 → 1: the first schema (the buckets are created at open).
	func(*bolt.Tx) error { return nil },
}

func openStore(dir string) (*store, error) {
	if dir == "" {
		return nil, errors.New("peer: Config.Data (the directory of czrm.db) is required")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("peer: data directory: %w", err)
	}
	path := filepath.Join(dir, "czrm.db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("peer: open %s: %w", path, err)
	}
	s := &store{db: db}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bMeta)
		if k := meta.Get([]byte("hmac_key")); k != nil {
			s.hmacKey = append([]byte(nil), k...)
		} else {
			s.hmacKey = make([]byte, 32)
			if _, err := rand.Read(s.hmacKey); err != nil {
				return err
			}
			if err := meta.Put([]byte("hmac_key"), s.hmacKey); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = s.migrate()
	}
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("peer: prepare %s: %w", path, err)
	}
	return s, nil
}

func (s *store) migrate() error {
	for {
		var done bool
		err := s.db.Update(func(tx *bolt.Tx) error {
			meta := tx.Bucket(bMeta)
			v := uint64(0)
			if b := meta.Get([]byte("schema")); len(b) == 8 {
				v = binary.BigEndian.Uint64(b)
			}
			if v > uint64(len(migrations)) {
				return fmt.Errorf("schema %d is newer than this program (%d)", v, len(migrations))
			}
			if v == uint64(len(migrations)) {
				done = true
				return nil
			}
			if err := migrations[v](tx); err != nil {
				return fmt.Errorf("migration %d: %w", v+1, err)
			}
			return meta.Put([]byte("schema"), u64(v+1))
		})
		if err != nil || done {
			return err
		}
	}
}

func (s *store) close() error { return s.db.Close() }

func u64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

func recordKey(object, field, value string) []byte {
	return []byte(object + "\x00" + field + "\x00" + value)
}

func extKey(ext string, kind byte, seq uint64) []byte {
	k := make([]byte, 0, len(ext)+10)
	k = append(k, ext...)
	k = append(k, 0, kind)
	return append(k, u64(seq)...)
}

// handle is the opaque, stable name of a citizen in the views' URLs: an
// HMAC of the codice fiscale under the store's own key, so the code never
// appears in a URL, a log line or a browser history.
func (s *store) handle(cf string) string {
	m := hmac.New(sha256.New, s.hmacKey)
	m.Write([]byte(cf))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

func cfKey(handle string, kind byte, seq uint64) []byte {
	k := make([]byte, 0, len(handle)+9)
	k = append(k, handle...)
	k = append(k, kind)
	return append(k, u64(seq)...)
}

// normName folds a field name for recognition: lower case, no "__c"
// suffix, no underscores ("Codice_Fiscale__c" → "codicefiscale").
func normName(name string) string {
	n := strings.ToLower(name)
	n = strings.TrimSuffix(n, "__c")
	return strings.ReplaceAll(n, "_", "")
}

var cfFieldNames = map[string]bool{"codicefiscale": true, "fiscalcode": true, "cf": true, "taxcode": true}

// recordCF returns the valid codice fiscale a record carries, if any.
func recordCF(fields map[string]json.RawMessage) string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if !cfFieldNames[normName(k)] {
			continue
		}
		var s string
		if json.Unmarshal(fields[k], &s) != nil {
			continue
		}
		if cf, err := ParseFiscalCode(s); err == nil {
			return cf
		}
	}
	return ""
}

func requestCF(r *ServiceRequest) string {
	for _, name := range []string{"codice_fiscale", "fiscal_code"} {
		for _, v := range r.Attributes[name] {
			if cf, err := ParseFiscalCode(v); err == nil {
				return cf
			}
		}
	}
	return ""
}

func (s *store) indexCF(tx *bolt.Tx, cf string, kind byte, seq uint64) error {
	if cf == "" {
		return nil
	}
	h := s.handle(cf)
	if err := tx.Bucket(bCitizens).Put([]byte(h), []byte(cf)); err != nil {
		return err
	}
	return tx.Bucket(bCFIndex).Put(cfKey(h, kind, seq), nil)
}

func (s *store) unindexCF(tx *bolt.Tx, cf string, kind byte, seq uint64) error {
	if cf == "" {
		return nil
	}
	return tx.Bucket(bCFIndex).Delete(cfKey(s.handle(cf), kind, seq))
}

// upsertResult says what an upsert did.
type upsertResult struct {
	Record  Record
	Created bool
	Changed bool
}

var errUpdateOnly = errors.New("no record to update")

// staleError is an upsert refused by the version guard: the record holds
// a higher version than the one offered.
type staleError struct {
	Field           string
	Stored, Offered uint64
}

func (e *staleError) Error() string {
	return fmt.Sprintf("%s %d is lower than the stored %d", e.Field, e.Offered, e.Stored)
}

// guard is the version check of an upsert: the body's Field holds
// Offered, and the upsert is refused if the record's is higher.
type guard struct {
	Field   string
	Offered uint64
}

// storedVersion reads a record's version field (0 when absent or not a
// non-negative integer).
func storedVersion(fields map[string]json.RawMessage, field string) uint64 {
	v, err := parseVersion(fields[field])
	if err != nil {
		return 0
	}
	return v
}

// parseVersion reads a version value: a JSON non-negative integer.
func parseVersion(raw json.RawMessage) (uint64, error) {
	var n json.Number
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&n); err != nil {
		return 0, errors.New("not a number")
	}
	return strconv.ParseUint(n.String(), 10, 64)
}

// upsert merges body over the record (object, field, value), creating it
// unless updateOnly. The version grows only if some field changed. With a
// guard, an existing record whose version field is higher than the one
// offered is left as it is and a *staleError returned; an equal one is
// applied (a re-delivery).
func (s *store) upsert(object, field, value string, body map[string]json.RawMessage, by string, now time.Time, updateOnly bool, g *guard) (upsertResult, error) {
	var res upsertResult
	err := s.db.Update(func(tx *bolt.Tx) error {
		res = upsertResult{}
		keys, recs := tx.Bucket(bRecordKeys), tx.Bucket(bRecords)
		rk := recordKey(object, field, value)
		var rec Record
		var seq uint64
		oldCF := ""
		if sb := keys.Get(rk); sb != nil {
			seq = binary.BigEndian.Uint64(sb)
			if err := json.Unmarshal(recs.Get(sb), &rec); err != nil {
				return fmt.Errorf("record %d: %w", seq, err)
			}
			oldCF = recordCF(rec.Fields)
			if g != nil {
				if have := storedVersion(rec.Fields, g.Field); g.Offered < have {
					return &staleError{Field: g.Field, Stored: have, Offered: g.Offered}
				}
			}
		} else {
			if updateOnly {
				return errUpdateOnly
			}
			var err error
			if seq, err = recs.NextSequence(); err != nil {
				return err
			}
			rec = Record{ID: fmt.Sprintf("a0R%015d", seq), Object: object, ExtIDField: field, ExternalID: value,
				Fields: map[string]json.RawMessage{}, CreatedAt: now, UpdatedAt: now, CreatedBy: by, UpdatedBy: by}
			res.Created = true
			if err := keys.Put(rk, u64(seq)); err != nil {
				return err
			}
			if err := tx.Bucket(bExtIndex).Put(extKey(value, kindRecord, seq), nil); err != nil {
				return err
			}
		}
		for k, v := range body {
			if old, ok := rec.Fields[k]; !ok || !bytes.Equal(old, v) {
				rec.Fields[k] = v
				res.Changed = true
			}
		}
		if res.Created {
			res.Changed = true
			rec.Version = 1
		} else if res.Changed {
			rec.Version++
			rec.UpdatedAt = now
			rec.UpdatedBy = by
		}
		rec.Applies++
		rec.AppliedAt = now
		if newCF := recordCF(rec.Fields); newCF != oldCF {
			if err := s.unindexCF(tx, oldCF, kindRecord, seq); err != nil {
				return err
			}
			if err := s.indexCF(tx, newCF, kindRecord, seq); err != nil {
				return err
			}
		}
		b, err := json.Marshal(&rec)
		if err != nil {
			return err
		}
		res.Record = rec
		return recs.Put(u64(seq), b)
	})
	return res, err
}

func (s *store) record(object, field, value string) (*Record, error) {
	var rec *Record
	err := s.db.View(func(tx *bolt.Tx) error {
		sb := tx.Bucket(bRecordKeys).Get(recordKey(object, field, value))
		if sb == nil {
			return ErrNotFound
		}
		rec = new(Record)
		return json.Unmarshal(tx.Bucket(bRecords).Get(sb), rec)
	})
	return rec, err
}

// byExternalID returns every record and request held under ext.
func (s *store) byExternalID(ext string) ([]Record, []ServiceRequest, error) {
	var recs []Record
	var reqs []ServiceRequest
	err := s.db.View(func(tx *bolt.Tx) error {
		prefix := append([]byte(ext), 0)
		c := tx.Bucket(bExtIndex).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			rest := k[len(prefix):]
			if len(rest) != 9 {
				continue
			}
			seq := rest[1:]
			switch rest[0] {
			case kindRecord:
				var r Record
				if err := json.Unmarshal(tx.Bucket(bRecords).Get(seq), &r); err != nil {
					return err
				}
				recs = append(recs, r)
			case kindRequest:
				var r ServiceRequest
				if err := json.Unmarshal(tx.Bucket(bRequests).Get(seq), &r); err != nil {
					return err
				}
				reqs = append(reqs, r)
			}
		}
		return nil
	})
	return recs, reqs, err
}

// createRequest stores a new service request, numbering it
// PREFIX-YEAR-NNNNNN. dup reports whether its external id was already held
// by another request (Open311 has no idempotency: both are kept).
func (s *store) createRequest(r *ServiceRequest, prefix, year string, finish func(*ServiceRequest)) (dup bool, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		dup = false
		meta, reqs := tx.Bucket(bMeta), tx.Bucket(bRequests)
		ck := []byte("counter/requests/" + year)
		n := uint64(0)
		if b := meta.Get(ck); len(b) == 8 {
			n = binary.BigEndian.Uint64(b)
		}
		n++
		if err := meta.Put(ck, u64(n)); err != nil {
			return err
		}
		seq, err := reqs.NextSequence()
		if err != nil {
			return err
		}
		r.ServiceRequestID = fmt.Sprintf("%s-%s-%06d", prefix, year, n)
		r.Version = 1
		if finish != nil {
			finish(r)
		}
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if err := reqs.Put(u64(seq), b); err != nil {
			return err
		}
		if err := tx.Bucket(bRequestIDs).Put([]byte(r.ServiceRequestID), u64(seq)); err != nil {
			return err
		}
		if r.ExternalID != "" {
			prefix := append([]byte(r.ExternalID), 0, kindRequest)
			c := tx.Bucket(bExtIndex).Cursor()
			if k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) {
				dup = true
			}
			if err := tx.Bucket(bExtIndex).Put(extKey(r.ExternalID, kindRequest, seq), nil); err != nil {
				return err
			}
		}
		return s.indexCF(tx, requestCF(r), kindRequest, seq)
	})
	return dup, err
}

func (s *store) request(id string) (*ServiceRequest, error) {
	var r *ServiceRequest
	err := s.db.View(func(tx *bolt.Tx) error {
		sb := tx.Bucket(bRequestIDs).Get([]byte(id))
		if sb == nil {
			return ErrNotFound
		}
		r = new(ServiceRequest)
		return json.Unmarshal(tx.Bucket(bRequests).Get(sb), r)
	})
	return r, err
}

var errAlreadyClosed = errors.New("the request is already closed")

// closeRequest closes an open request with the agent's notes.
func (s *store) closeRequest(id, notes, by string, now time.Time) (*ServiceRequest, error) {
	var r *ServiceRequest
	err := s.db.Update(func(tx *bolt.Tx) error {
		sb := tx.Bucket(bRequestIDs).Get([]byte(id))
		if sb == nil {
			return ErrNotFound
		}
		r = new(ServiceRequest)
		if err := json.Unmarshal(tx.Bucket(bRequests).Get(sb), r); err != nil {
			return err
		}
		if r.Status == "closed" {
			return errAlreadyClosed
		}
		r.Status, r.StatusNotes, r.ClosedBy, r.UpdatedAt = "closed", notes, by, now
		r.Version++
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		return tx.Bucket(bRequests).Put(append([]byte(nil), sb...), b)
	})
	return r, err
}

// eachRequest calls fn for every request, oldest first, until fn says stop.
func (s *store) eachRequest(fn func(*ServiceRequest) bool) error {
	return s.db.View(func(tx *bolt.Tx) error {
		return forEach(tx.Bucket(bRequests), func(v []byte) (bool, error) {
			r := new(ServiceRequest)
			if err := json.Unmarshal(v, r); err != nil {
				return false, err
			}
			return fn(r), nil
		})
	})
}

// eachRecord calls fn for every record, oldest first, until fn says stop.
func (s *store) eachRecord(fn func(*Record) bool) error {
	return s.db.View(func(tx *bolt.Tx) error {
		return forEach(tx.Bucket(bRecords), func(v []byte) (bool, error) {
			r := new(Record)
			if err := json.Unmarshal(v, r); err != nil {
				return false, err
			}
			return fn(r), nil
		})
	})
}

func forEach(b *bolt.Bucket, fn func(v []byte) (bool, error)) error {
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		more, err := fn(v)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// citizen returns the codice fiscale behind a handle and everything
// indexed under it.
func (s *store) citizen(handle string) (cf string, recs []Record, reqs []ServiceRequest, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bCitizens).Get([]byte(handle))
		if v == nil {
			return ErrNotFound
		}
		cf = string(v)
		prefix := []byte(handle)
		c := tx.Bucket(bCFIndex).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			rest := k[len(prefix):]
			if len(rest) != 9 {
				continue
			}
			switch rest[0] {
			case kindRecord:
				var r Record
				if err := json.Unmarshal(tx.Bucket(bRecords).Get(rest[1:]), &r); err != nil {
					return err
				}
				recs = append(recs, r)
			case kindRequest:
				var r ServiceRequest
				if err := json.Unmarshal(tx.Bucket(bRequests).Get(rest[1:]), &r); err != nil {
					return err
				}
				reqs = append(reqs, r)
			}
		}
		return nil
	})
	return cf, recs, reqs, err
}

// knownCitizen reports whether anything is held under cf.
func (s *store) knownCitizen(cf string) bool {
	found := false
	_ = s.db.View(func(tx *bolt.Tx) error {
		found = tx.Bucket(bCitizens).Get([]byte(s.handle(cf))) != nil
		return nil
	})
	return found
}

// ---- tokens ----------------------------------------------------------------

func tokenHash(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// putToken stores a token by its hash and prunes the expired ones.
func (s *store) putToken(tok, client string, exp, now time.Time) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bTokens)
		var stale [][]byte
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var t tokenRecord
			if json.Unmarshal(v, &t) != nil || !now.Before(t.ExpiresAt) {
				stale = append(stale, append([]byte(nil), k...))
			}
		}
		for _, k := range stale {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		v, err := json.Marshal(tokenRecord{Client: client, ExpiresAt: exp})
		if err != nil {
			return err
		}
		return b.Put(tokenHash(tok), v)
	})
}

// token returns the client of a token still valid at now.
func (s *store) token(tok string, now time.Time) (string, bool) {
	var t tokenRecord
	found := false
	_ = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bTokens).Get(tokenHash(tok))
		found = v != nil && json.Unmarshal(v, &t) == nil
		return nil
	})
	if !found || !now.Before(t.ExpiresAt) {
		return "", false
	}
	return t.Client, true
}

func (s *store) revokeTokens() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bTokens); err != nil {
			return err
		}
		_, err := tx.CreateBucket(bTokens)
		return err
	})
}
