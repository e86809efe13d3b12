package hub_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/boltstore"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

func TestAccounts(t *testing.T) {
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "s.db"), boltstore.Options{NoSync: true, Logger: quiet})
	require.NoError(t, err)
	defer st.Close()
	clk := newClock()
	acc := hub.NewAccounts(hub.AccountsConfig{Store: st, Clock: clk.Now, BcryptCost: bcrypt.MinCost, SessionTTL: time.Hour, MaxFailures: 3, LockFor: 10 * time.Minute})
	require.NoError(t, acc.SetUser("anna", hub.RoleSupervisor, "segreta123"))
	u, err := st.User("anna")
	require.NoError(t, err)
	require.NotContains(t, string(u.PasswordHash), "segreta123")

	tok, ses, err := acc.Login("anna", "segreta123")
	require.NoError(t, err)
	require.Equal(t, hub.RoleSupervisor, ses.Role)
	p, err := acc.Authenticate(tok)
	require.NoError(t, err)
	require.Equal(t, hub.Principal{ID: "anna", Role: hub.RoleSupervisor}, p)
	require.True(t, p.Role.AtLeast(hub.RoleClerk))
	require.False(t, p.Role.AtLeast(hub.RoleAdmin))

	clk.Advance(61 * time.Minute)
	_, err = acc.Authenticate(tok)
	require.Equal(t, "session_expired", hub.ErrorCode(err))

	for i := 0; i < 3; i++ {
		_, _, err = acc.Login("anna", "wrong")
		require.Equal(t, "invalid_credentials", hub.ErrorCode(err))
	}
	_, _, err = acc.Login("anna", "segreta123")
	require.Equal(t, "account_locked", hub.ErrorCode(err))
	clk.Advance(11 * time.Minute)
	tok2, _, err := acc.Login("anna", "segreta123")
	require.NoError(t, err, "the lock ends")

	devTok, err := acc.EnrollDevice("totem-2", hub.DeviceTotem, "")
	require.NoError(t, err)
	p, err = acc.Authenticate(devTok)
	require.NoError(t, err)
	require.Equal(t, hub.DeviceTotem, p.Device)
	_, err = acc.Authenticate("dev-nope")
	require.Equal(t, "invalid_token", hub.ErrorCode(err))
	require.Error(t, acc.SetUser("x", "boss", "password1"))

	require.NoError(t, acc.Logout(tok2))
	recs, err := acc.Logins(0)
	require.NoError(t, err)
	var actions []string
	for _, r := range recs {
		require.Equal(t, "anna", r.Username)
		require.False(t, r.At.IsZero())
		actions = append(actions, r.Action)
	}
	// Newest first: the logout, the login after the lock, the attempt while
	// locked, three failures, the first login.
	require.Equal(t, []string{"logout", "login", "locked", "login_failed", "login_failed", "login_failed", "login"}, actions)
}
