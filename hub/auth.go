package hub

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// Role is what a person may do. Roles are ordered: an admin may do what a
// supervisor may, a supervisor what a clerk may.
type Role string

const (
	RoleClerk      Role = "clerk"
	RoleSupervisor Role = "supervisor"
	RoleAdmin      Role = "admin"
)

func (r Role) level() int {
	switch r {
	case RoleClerk:
		return 1
	case RoleSupervisor:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// AtLeast reports whether r includes min.
func (r Role) AtLeast(min Role) bool { return r.level() >= min.level() && r.level() > 0 }

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r.level() > 0 }

// DeviceKind tells totems from displays.
type DeviceKind string

const (
	DeviceTotem   DeviceKind = "totem"
	DeviceDisplay DeviceKind = "display"
)

// User is a person who logs in.
type User struct {
	Username     string    `json:"username"`
	Role         Role      `json:"role"`
	PasswordHash []byte    `json:"password_hash"`
	Failures     int       `json:"failures"`
	LockedUntil  time.Time `json:"locked_until"`
	// Disabled users cannot log in; an admin disables instead of deleting
	// so that the audit trail keeps naming someone who exists.
	Disabled bool `json:"disabled,omitempty"`
}

// Session is a login: the bearer token (stored only as its hash) with its
// expiry.
type Session struct {
	TokenHash string    `json:"token_hash"`
	Username  string    `json:"username"`
	Role      Role      `json:"role"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Device is an enrolled totem or display.
type Device struct {
	ID        string     `json:"id"`
	Kind      DeviceKind `json:"kind"`
	TokenHash string     `json:"token_hash"`
}

// Principal is who is making a request.
type Principal struct {
	// ID is the username, or the device id for devices.
	ID     string
	Role   Role       // empty for devices
	Device DeviceKind // empty for people
}

// IsDevice reports whether the principal is a device.
func (p Principal) IsDevice() bool { return p.Device != "" }

// AuthStore keeps users, sessions and devices.
type AuthStore interface {
	PutUser(u *User) error
	User(username string) (*User, error) // ErrNotFound when missing
	Users() ([]*User, error)
	PutSession(s *Session) error
	Session(tokenHash string) (*Session, error)
	DeleteSession(tokenHash string) error
	// Sessions lists a user's open sessions (the admin is told how many
	// a change ends).
	Sessions(username string) ([]*Session, error)
	PutDevice(d *Device) error
	DeviceByToken(tokenHash string) (*Device, error)
	// AppendLogin and Logins keep the login audit: who logged in, failed
	// to, or logged out, and when.
	AppendLogin(r LoginRecord) error
	Logins(limit int) ([]LoginRecord, error)
}

// LoginRecord is one line of the login audit.
type LoginRecord struct {
	At       time.Time `json:"at"`
	Username string    `json:"username"`
	Action   string    `json:"action"` // login, login_failed, locked, disabled, logout
	Detail   string    `json:"detail,omitempty"`
}

// ErrNotFound is what AuthStore returns for a missing record.
var ErrNotFound = errors.New("not found")

// AccountsConfig tunes Accounts.
type AccountsConfig struct {
	Store      AuthStore
	Clock      func() time.Time
	SessionTTL time.Duration // default 12 h
	BcryptCost int           // default bcrypt.DefaultCost
	// MaxFailures locks an account for LockFor after that many wrong
	// passwords in a row (default 5 and 15 min).
	MaxFailures int
	LockFor     time.Duration
}

// Accounts authenticates people and devices.
type Accounts struct {
	cfg AccountsConfig
	mu  sync.Mutex // serialises failure counting per process
}

// NewAccounts returns the account service with defaults filled in.
func NewAccounts(cfg AccountsConfig) *Accounts {
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.BcryptCost == 0 {
		cfg.BcryptCost = bcrypt.DefaultCost
	}
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = 5
	}
	if cfg.LockFor <= 0 {
		cfg.LockFor = 15 * time.Minute
	}
	return &Accounts{cfg: cfg}
}

// HashPassword returns the bcrypt hash of a password.
func (a *Accounts) HashPassword(password string) ([]byte, error) {
	return bcrypt.GenerateFromPassword(passwordBytes(password), a.cfg.BcryptCost)
}

// passwordBytes is what bcrypt sees of a password. bcrypt reads at most 72
// bytes, and passwords are counted in characters (72 accented letters are
// up to 144 bytes), so a longer one is first reduced to its SHA-256 in
// base64 (44 bytes): every character counts, and the passwords of up to
// 72 bytes hash as they always did.
func passwordBytes(password string) []byte {
	if len(password) <= 72 {
		return []byte(password)
	}
	sum := sha256.Sum256([]byte(password))
	return []byte(base64.StdEncoding.EncodeToString(sum[:]))
}

// Password and username lengths, in characters.
const (
	MinPassword = 8
	MaxPassword = 72
	MaxUsername = 64
)

// ValidUsername checks a username: 1-64 characters on one line, without
// spaces around it.
func ValidUsername(username string) error {
	n := utf8.RuneCountInString(username)
	switch {
	case !utf8.ValidString(username) || n == 0 || n > MaxUsername:
		return FieldError("invalid_username", "username", "a username is 1-%d characters", MaxUsername)
	case strings.ContainsFunc(username, unicode.IsControl) || strings.TrimSpace(username) != username:
		return FieldError("invalid_username", "username", "a username has no control characters and no spaces around it")
	}
	return nil
}

// ValidPassword checks a password: 8-72 characters (not bytes).
func ValidPassword(password string) error {
	if n := utf8.RuneCountInString(password); !utf8.ValidString(password) || n < MinPassword || n > MaxPassword {
		return FieldError("invalid_password", "password", "a password is %d-%d characters", MinPassword, MaxPassword)
	}
	return nil
}

// EnsureUser creates the user with the given password hash if missing.
func (a *Accounts) EnsureUser(username string, role Role, hash []byte) error {
	if _, err := a.cfg.Store.User(username); err == nil {
		return nil
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	return a.cfg.Store.PutUser(&User{Username: username, Role: role, PasswordHash: hash})
}

// SetUser creates or replaces a user with a password.
func (a *Accounts) SetUser(username string, role Role, password string) error {
	if !role.Valid() {
		return FieldError("invalid_role", "role", "unknown role %q", role)
	}
	if err := ValidUsername(username); err != nil {
		return err
	}
	h, err := a.HashPassword(password)
	if err != nil {
		return err
	}
	return a.cfg.Store.PutUser(&User{Username: username, Role: role, PasswordHash: h})
}

// EnrollDevice registers a device with a token (given, or generated and
// returned).
func (a *Accounts) EnrollDevice(id string, kind DeviceKind, token string) (string, error) {
	if token == "" {
		token = "dev-" + randomHex(24)
	}
	return token, a.cfg.Store.PutDevice(&Device{ID: id, Kind: kind, TokenHash: TokenHash(token)})
}

// Login checks a password and opens a session. Wrong credentials, unknown
// users and locked accounts all answer invalid_credentials, so a stranger
// learns nothing from the answer; lockout is reported separately only to
// a correct password.
func (a *Accounts) Login(username, password string) (token string, s *Session, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.cfg.Clock()
	u, err := a.cfg.Store.User(username)
	if errors.Is(err, ErrNotFound) {
		// Spend the same time as a real check.
		_ = bcrypt.CompareHashAndPassword(dummyHash, passwordBytes(password))
		a.record(now, username, "login_failed", "unknown user")
		return "", nil, ErrInvalidCredentials
	}
	if err != nil {
		return "", nil, err
	}
	if now.Before(u.LockedUntil) {
		a.record(now, username, "locked", "attempt while locked")
		return "", nil, Errorf(KindUnauthorized, "account_locked", "too many failed attempts: try again after %s", u.LockedUntil.Format("15:04"))
	}
	if bcrypt.CompareHashAndPassword(u.PasswordHash, passwordBytes(password)) != nil {
		u.Failures++
		if u.Failures >= a.cfg.MaxFailures {
			u.LockedUntil = now.Add(a.cfg.LockFor)
			u.Failures = 0
		}
		if err := a.cfg.Store.PutUser(u); err != nil {
			return "", nil, err
		}
		detail := "wrong password"
		if !u.LockedUntil.IsZero() && now.Before(u.LockedUntil) {
			detail = "wrong password; account locked"
		}
		a.record(now, username, "login_failed", detail)
		return "", nil, ErrInvalidCredentials
	}
	if u.Disabled {
		// Told only to someone who knows the password, like a lockout.
		a.record(now, username, "disabled", "attempt on a disabled account")
		return "", nil, Errorf(KindUnauthorized, "account_disabled", "this account is disabled: ask an administrator")
	}
	if u.Failures != 0 {
		u.Failures = 0
		if err := a.cfg.Store.PutUser(u); err != nil {
			return "", nil, err
		}
	}
	token = "ses-" + randomHex(32)
	s = &Session{TokenHash: TokenHash(token), Username: u.Username, Role: u.Role, ExpiresAt: now.Add(a.cfg.SessionTTL)}
	if err := a.cfg.Store.PutSession(s); err != nil {
		return "", nil, err
	}
	a.record(now, u.Username, "login", string(u.Role))
	return token, s, nil
}

// record appends to the login audit; a failure to write it is not a
// reason to refuse a login, so it is only logged by the store.
func (a *Accounts) record(at time.Time, username, action, detail string) {
	if r := []rune(username); len(r) > MaxUsername {
		username = string(r[:MaxUsername])
	}
	_ = a.cfg.Store.AppendLogin(LoginRecord{At: at, Username: username, Action: action, Detail: detail})
}

// User reads one user; a missing one is user_not_found.
func (a *Accounts) User(username string) (*User, error) {
	u, err := a.cfg.Store.User(username)
	if errors.Is(err, ErrNotFound) {
		return nil, &Error{Kind: KindNotFound, Code: "user_not_found", Field: "username", Message: fmt.Sprintf("no user %q", clip(username))}
	}
	return u, err
}

// Users lists the users.
func (a *Accounts) Users() ([]*User, error) { return a.cfg.Store.Users() }

// Logins returns the latest login audit records, newest first.
func (a *Accounts) Logins(limit int) ([]LoginRecord, error) { return a.cfg.Store.Logins(limit) }

// Logout ends a session.
func (a *Accounts) Logout(token string) error {
	h := TokenHash(token)
	if s, err := a.cfg.Store.Session(h); err == nil {
		a.record(a.cfg.Clock(), s.Username, "logout", "")
	}
	return a.cfg.Store.DeleteSession(h)
}

// Authenticate resolves a bearer token (a session or a device token).
func (a *Accounts) Authenticate(token string) (Principal, error) {
	if token == "" {
		return Principal{}, ErrUnauthorized
	}
	h := TokenHash(token)
	if strings.HasPrefix(token, "ses-") {
		s, err := a.cfg.Store.Session(h)
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				return Principal{}, Errorf(KindUnauthorized, "invalid_token", "the session is unknown or has ended")
			}
			return Principal{}, err
		}
		if !a.cfg.Clock().Before(s.ExpiresAt) {
			_ = a.cfg.Store.DeleteSession(h)
			return Principal{}, Errorf(KindUnauthorized, "session_expired", "the session has expired: log in again")
		}
		return Principal{ID: s.Username, Role: s.Role}, nil
	}
	d, err := a.cfg.Store.DeviceByToken(h)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return Principal{}, Errorf(KindUnauthorized, "invalid_token", "the token is unknown")
		}
		return Principal{}, err
	}
	return Principal{ID: d.ID, Device: d.Kind}, nil
}

// TokenHash is how tokens are stored: a stolen store holds no usable token.
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("sportello"), bcrypt.MinCost)
