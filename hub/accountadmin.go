package hub

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Event types of the admin's account changes. They reach the audit trail
// like every other change; on the public feed they carry no data.
const (
	EventUserCreated    = "user.created"
	EventUserUpdated    = "user.updated"
	EventDeviceEnrolled = "device.enrolled"
)

// UserChange is what an admin sets on a user. A new user needs a role and
// a password; on an existing one an empty Role or Password and a nil
// Disabled keep what the user has.
type UserChange struct {
	Username string
	Role     Role
	Password string
	Disabled *bool
}

// SaveUser creates a user or changes one (admin): role, password (which
// also lifts a lockout), disabled. The user, the end of all their open
// sessions and the audit event are committed in one transaction, so a
// changed role or a reset password never lives on in an old session.
// acc must keep its accounts in the engine's store.
func (e *Engine) SaveUser(ctx context.Context, acc *Accounts, by string, ch UserChange) (*User, error) {
	if err := ValidUsername(ch.Username); err != nil {
		return nil, err
	}
	if ch.Role != "" && !ch.Role.Valid() {
		return nil, FieldError("invalid_role", "role", "unknown role %q: use clerk, supervisor or admin", clip(string(ch.Role)))
	}
	if ch.Password != "" {
		if err := ValidPassword(ch.Password); err != nil {
			return nil, err
		}
	}
	if err := e.sameStore(acc); err != nil {
		return nil, err
	}
	// Login rewrites users (failure counts) under this lock: holding it
	// keeps a concurrent login from writing back the old password.
	acc.mu.Lock()
	defer acc.mu.Unlock()
	old, err := acc.cfg.Store.User(ch.Username)
	exists := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	if !exists {
		if ch.Role == "" {
			return nil, FieldError("invalid_role", "role", "a new user needs a role: clerk, supervisor or admin")
		}
		if ch.Password == "" {
			return nil, FieldError("invalid_password", "password", "a new user needs a password of %d-%d characters", MinPassword, MaxPassword)
		}
		old = &User{Username: ch.Username}
	}
	u := *old
	var what []string
	if ch.Role != "" && ch.Role != old.Role {
		u.Role = ch.Role
		what = append(what, "role "+string(ch.Role))
	}
	if ch.Password != "" {
		h, err := acc.HashPassword(ch.Password)
		if err != nil {
			return nil, err
		}
		u.PasswordHash, u.Failures, u.LockedUntil = h, 0, time.Time{}
		what = append(what, "password set")
	}
	if ch.Disabled != nil && *ch.Disabled != old.Disabled {
		u.Disabled = *ch.Disabled
		what = append(what, map[bool]string{true: "disabled", false: "enabled"}[u.Disabled])
	}
	if err := lastAdminCheck(acc, old, &u, exists); err != nil {
		return nil, err
	}
	open, err := acc.cfg.Store.Sessions(ch.Username)
	if err != nil {
		return nil, err
	}
	if len(what) == 0 {
		what = append(what, "unchanged")
	}
	if len(open) > 0 {
		what = append(what, fmt.Sprintf("%d open sessions ended", len(open)))
	}
	typ := EventUserUpdated
	if !exists {
		typ = EventUserCreated
	}
	_, err = e.do(ctx, by, func(tx *txn) (any, error) {
		uc := u
		tx.batch.Users = append(tx.batch.Users, &uc)
		tx.batch.EndSessionsOf = append(tx.batch.EndSessionsOf, u.Username)
		tx.emit(typ, EventData{User: u.Username, Reason: strings.Join(what, "; ")})
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// lastAdminCheck keeps at least one enabled admin: without one nobody can
// manage users any more without editing the store.
func lastAdminCheck(acc *Accounts, old, u *User, exists bool) error {
	wasAdmin := exists && old.Role == RoleAdmin && !old.Disabled
	isAdmin := u.Role == RoleAdmin && !u.Disabled
	if !wasAdmin || isAdmin {
		return nil
	}
	us, err := acc.cfg.Store.Users()
	if err != nil {
		return err
	}
	for _, o := range us {
		if o.Username != u.Username && o.Role == RoleAdmin && !o.Disabled {
			return nil
		}
	}
	return &Error{Kind: KindConflict, Code: "last_admin", Field: "username", Message: fmt.Sprintf("%s is the last enabled administrator: make another one first", u.Username)}
}

// EnrollDevice enrols a totem or display (admin) with a new token, which
// it returns: the device and the audit event are committed together, and
// the device's older token stops working. The device must be in the site.
func (e *Engine) EnrollDevice(ctx context.Context, acc *Accounts, by, id string, kind DeviceKind) (string, error) {
	if err := e.sameStore(acc); err != nil {
		return "", err
	}
	token := "dev-" + randomHex(24)
	_, err := e.do(ctx, by, func(tx *txn) (any, error) {
		tx.batch.Devices = append(tx.batch.Devices, &Device{ID: id, Kind: kind, TokenHash: TokenHash(token)})
		tx.emit(EventDeviceEnrolled, EventData{Device: id, Reason: string(kind) + "; new token, the old one revoked"})
		return nil, nil
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// sameStore refuses account changes the engine cannot commit: the
// accounts must live in the store the engine's batches go to.
func (e *Engine) sameStore(acc *Accounts) error {
	if acc == nil || any(acc.cfg.Store) != any(e.store) {
		return &Error{Kind: KindInternal, Code: "internal", Message: "the accounts are not kept in the engine's store"}
	}
	return nil
}
