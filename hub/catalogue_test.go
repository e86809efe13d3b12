package hub_test

import (
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/boltstore"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

func boolp(b bool) *bool { return &b }

var passaporti = hub.ServiceChange{ID: "passaporti", Prefix: "PS", Name: hub.Text{IT: "Passaporti"}, Category: hub.Dispositivo,
	TargetWait: 12 * time.Minute, ServiceTime: 9 * time.Minute}

func TestCatalogueSurvivesRestart(t *testing.T) {
	var policySites []*hub.Site
	e := newEnv(t, func(c *hub.Config) {
		c.PolicyFor = func(s *hub.Site) hub.Policy {
			policySites = append(policySites, s)
			return hub.FairPolicyFor(s, hub.FairPolicyConfig{})
		}
	})
	fileServices, fileCounters := len(hub.BuiltinSite().Services), len(hub.BuiltinSite().Counters)
	old := e.eng.Site()

	sv, created, err := e.eng.SaveService(ctx, "admin", passaporti)
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, "Passaporti", sv.Name.EN, "English falls back to Italian")
	require.Len(t, old.Services, fileServices, "the site a reader holds is never changed")
	// A file service edited: the stored catalogue overrides the file.
	_, created, err = e.eng.SaveService(ctx, "admin", hub.ServiceChange{ID: "certificati", Name: hub.Text{IT: "Certificati", EN: "Certificates"}, TargetWait: 7 * time.Minute})
	require.NoError(t, err)
	require.False(t, created)
	c, created, err := e.eng.SaveCounter(ctx, "admin", hub.CounterChange{ID: "19", Kind: hub.KindCounter, Name: hub.Text{IT: "Sportello 19"}, Services: []string{"passaporti", "certificati"}})
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, hub.CounterClosed, c.State)
	_, _, err = e.eng.SaveCounter(ctx, "admin", hub.CounterChange{ID: "2", Services: []string{"passaporti"}})
	require.NoError(t, err)
	last := policySites[len(policySites)-1]
	sc, _ := last.Service("certificati")
	require.Equal(t, 7*time.Minute, sc.TargetWait, "the policy is rebuilt with the edited target")

	check := func() {
		t.Helper()
		s := e.eng.Site()
		require.Len(t, s.Services, fileServices+1)
		require.Equal(t, "passaporti", s.Services[fileServices].ID, "new services come after the file's")
		p, ok := s.Service("passaporti")
		require.True(t, ok)
		require.Equal(t, 12*time.Minute, p.TargetWait)
		require.Equal(t, 9*time.Minute, p.ServiceTime)
		cf, _ := s.Service("certificati")
		require.Equal(t, hub.Text{IT: "Certificati", EN: "Certificates"}, cf.Name)
		require.Equal(t, 7*time.Minute, cf.TargetWait)
		require.Equal(t, "A", cf.Prefix, "what the edit did not give is kept")
		require.Len(t, s.Counters, fileCounters+1)
		def, ok := s.Counter("19")
		require.True(t, ok)
		require.Equal(t, []string{"passaporti", "certificati"}, def.Services)
		def2, _ := s.Counter("2")
		require.Equal(t, []string{"passaporti"}, def2.Services)
		require.Equal(t, "Sportello 2", def2.Name.IT, "the name is kept")
		cv, err := e.eng.Counter("2")
		require.NoError(t, err)
		require.Equal(t, []string{"passaporti"}, cv.Counter.Services, "the live profile follows")
	}
	check()
	e.restart()
	check()
	last = policySites[len(policySites)-1]
	require.Same(t, e.eng.Site(), last, "the policy is built from the merged site at start")

	// The new counter serves the new service.
	tk := e.issue("passaporti", hub.PriorityNone)
	require.Equal(t, "PS001", tk.Number)
	e.open1("19", "clerk19")
	got, err := e.eng.CallNext(ctx, "19", "clerk19")
	require.NoError(t, err)
	require.Equal(t, tk.ID, got.ID)

	// A site file that no longer fits the saved catalogue stops the start
	// with a message that says so, rather than serving a broken office.
	e.close()
	bad := hub.BuiltinSite()
	bad.Services[1].Prefix = "PS"
	e.cfg.Site = bad
	st, err := boltstore.Open(filepath.Join(e.dir, "sportello.db"), boltstore.Options{NoSync: true, Logger: quiet})
	require.NoError(t, err)
	defer st.Close()
	cfg := e.cfg
	cfg.Store = st
	_, err = hub.New(cfg)
	require.ErrorContains(t, err, "admin pages")
	require.ErrorContains(t, err, "prefix")
}

func TestCatalogueRefusesBadInputAndChangesNothing(t *testing.T) {
	e := newEnv(t)
	_, _, err := e.eng.SaveService(ctx, "admin", passaporti)
	require.NoError(t, err)
	seq, site := e.eng.LastSeq(), e.eng.Site()
	for _, tc := range []struct {
		name string
		ch   hub.ServiceChange
		code string
	}{
		{"bad id", hub.ServiceChange{ID: "pass porti", Prefix: "Q", Name: hub.Text{IT: "X"}, Category: hub.Informativo, TargetWait: time.Minute, ServiceTime: time.Minute}, "invalid_id"},
		{"new without prefix", hub.ServiceChange{ID: "nuovo", Name: hub.Text{IT: "X"}, Category: hub.Informativo, TargetWait: time.Minute, ServiceTime: time.Minute}, "missing_field"},
		{"new without category", hub.ServiceChange{ID: "nuovo", Prefix: "Q", Name: hub.Text{IT: "X"}, TargetWait: time.Minute, ServiceTime: time.Minute}, "missing_field"},
		{"lowercase prefix", hub.ServiceChange{ID: "passaporti", Prefix: "ps"}, "invalid_prefix"},
		{"prefix of another", hub.ServiceChange{ID: "passaporti", Prefix: "A"}, "prefix_taken"},
		{"bad category", hub.ServiceChange{ID: "passaporti", Category: "urgente"}, "invalid_category"},
		{"target too long", hub.ServiceChange{ID: "passaporti", TargetWait: 9 * time.Hour}, "invalid_target_wait"},
		{"negative time", hub.ServiceChange{ID: "passaporti", ServiceTime: -time.Minute}, "invalid_service_time"},
		{"two-line name", hub.ServiceChange{ID: "passaporti", Name: hub.Text{IT: "a\nb"}}, "invalid_name"},
		{"room flag while desks serve it", hub.ServiceChange{ID: "certificati", Room: boolp(true)}, "service_in_use"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := e.eng.SaveService(ctx, "admin", tc.ch)
			require.Equal(t, tc.code, code(err), "%v", err)
			require.Equal(t, seq, e.eng.LastSeq())
			require.Same(t, site, e.eng.Site())
		})
	}
	for _, tc := range []struct {
		name string
		ch   hub.CounterChange
		code string
	}{
		{"bad id", hub.CounterChange{ID: "", Kind: hub.KindCounter, Name: hub.Text{IT: "X"}, Services: []string{"certificati"}}, "invalid_id"},
		{"new without kind", hub.CounterChange{ID: "19", Name: hub.Text{IT: "X"}, Services: []string{"certificati"}}, "missing_field"},
		{"new without services", hub.CounterChange{ID: "19", Kind: hub.KindCounter, Name: hub.Text{IT: "X"}}, "missing_field"},
		{"unknown kind", hub.CounterChange{ID: "19", Kind: "desk", Name: hub.Text{IT: "X"}, Services: []string{"certificati"}}, "invalid_kind"},
		{"room service at a desk", hub.CounterChange{ID: "19", Kind: hub.KindCounter, Name: hub.Text{IT: "X"}, Services: []string{"suap"}}, "invalid_services"},
		{"unknown service", hub.CounterChange{ID: "1", Services: []string{"astronauti"}}, "service_not_found"},
		{"twice", hub.CounterChange{ID: "1", Services: []string{"cie", "cie"}}, "invalid_services"},
		{"empty profile", hub.CounterChange{ID: "1", Services: []string{}}, "invalid_services"},
		{"kind change", hub.CounterChange{ID: "R1", Kind: hub.KindCounter}, "kind_fixed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := e.eng.SaveCounter(ctx, "admin", tc.ch)
			require.Equal(t, tc.code, code(err), "%v", err)
			require.Equal(t, seq, e.eng.LastSeq())
			require.Same(t, site, e.eng.Site())
		})
	}
	e.restart()
	require.Equal(t, seq, e.eng.LastSeq())
	_, ok := e.eng.Site().Counter("19")
	require.False(t, ok)
}

func TestInactiveServiceAndNoPriority(t *testing.T) {
	e := newEnv(t)
	waiting := e.issue("cie", hub.PriorityNone)
	slot := e.clock.Now().Add(2 * time.Hour)
	appt, err := e.eng.Book(ctx, hub.BookRequest{Service: "cie", Slot: slot, By: "clerk01"})
	require.NoError(t, err)
	_, _, err = e.eng.SaveService(ctx, "admin", hub.ServiceChange{ID: "cie", Active: boolp(false)})
	require.NoError(t, err)
	_, _, err = e.eng.Issue(ctx, hub.IssueRequest{Service: "cie", By: "totem-1"})
	require.Equal(t, "service_inactive", code(err))
	_, err = e.eng.Book(ctx, hub.BookRequest{Service: "cie", Slot: slot, By: "clerk01"})
	require.Equal(t, "service_inactive", code(err))
	// The booked citizen still checks in; the waiting one is still called.
	in, created, err := e.eng.Issue(ctx, hub.IssueRequest{Appointment: appt.Code, By: "totem-1"})
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, "cie", in.Service)
	e.open1("9", "clerk09")
	got, err := e.eng.CallNext(ctx, "9", "clerk09")
	require.NoError(t, err)
	require.Equal(t, waiting.ID, got.ID)

	_, _, err = e.eng.SaveService(ctx, "admin", hub.ServiceChange{ID: "certificati", Priority: boolp(false)})
	require.NoError(t, err)
	_, _, err = e.eng.Issue(ctx, hub.IssueRequest{Service: "certificati", Priority: hub.PriorityElderly, By: "totem-1"})
	require.Equal(t, "priority_not_offered", code(err))
	_, err = e.eng.Book(ctx, hub.BookRequest{Service: "certificati", Slot: slot, Priority: hub.PriorityDisability, By: "clerk01"})
	require.Equal(t, "priority_not_offered", code(err))
	_, err = e.eng.Book(ctx, hub.BookRequest{Service: "certificati", Slot: slot, By: "clerk01"})
	require.NoError(t, err)
	e.issue("certificati", hub.PriorityNone)
	e.restart()
	sv, _ := e.eng.Site().Service("certificati")
	require.True(t, sv.NoPriority)
	cie, _ := e.eng.Site().Service("cie")
	require.True(t, cie.Inactive)
}

// Readers hold the site while the admin saves: with -race this proves the
// site is replaced, never written in place.
func TestCatalogueReadersDuringSaves(t *testing.T) {
	e := newEnv(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				s := e.eng.Site()
				for _, c := range s.Counters {
					_ = len(c.Services)
				}
				_, _ = s.Service("passaporti")
				_ = e.eng.Counters()
				_, _ = e.eng.Snapshot()
			}
		}()
	}
	_, _, err := e.eng.SaveService(ctx, "admin", passaporti)
	require.NoError(t, err)
	for i := range 20 {
		_, _, err := e.eng.SaveService(ctx, "admin", hub.ServiceChange{ID: "passaporti", TargetWait: time.Duration(i+1) * time.Minute})
		require.NoError(t, err)
		_, _, err = e.eng.SaveCounter(ctx, "admin", hub.CounterChange{ID: "3", Services: [][]string{{"passaporti"}, {"certificati", "passaporti"}}[i%2]})
		require.NoError(t, err)
	}
	close(stop)
	wg.Wait()
}

func TestSaveUserEndsSessionsAndIsAudited(t *testing.T) {
	e := newEnv(t)
	acc := hub.NewAccounts(hub.AccountsConfig{Store: e.store, Clock: e.clock.Now, BcryptCost: bcrypt.MinCost})
	_, err := e.eng.SaveUser(ctx, acc, "root", hub.UserChange{Username: "admin", Role: hub.RoleAdmin, Password: "amministra"})
	require.NoError(t, err)
	_, err = e.eng.SaveUser(ctx, acc, "admin", hub.UserChange{Username: "Nicolò", Role: hub.RoleClerk, Password: "àèìòùàèì"})
	require.NoError(t, err, "8 accented letters are 8 characters")
	tok1, _, err := acc.Login("Nicolò", "àèìòùàèì")
	require.NoError(t, err)
	tok2, _, err := acc.Login("Nicolò", "àèìòùàèì")
	require.NoError(t, err)
	other, _, err := acc.Login("admin", "amministra")
	require.NoError(t, err)

	for _, tc := range []struct {
		name   string
		ch     hub.UserChange
		detail string
	}{
		{"role change", hub.UserChange{Username: "Nicolò", Role: hub.RoleSupervisor}, "role supervisor; 2 open sessions ended"},
		{"password reset", hub.UserChange{Username: "Nicolò", Password: "nuova password"}, "password set; 1 open sessions ended"},
		{"disable", hub.UserChange{Username: "Nicolò", Disabled: boolp(true)}, "disabled; 1 open sessions ended"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.eng.SaveUser(ctx, acc, "admin", tc.ch)
			require.NoError(t, err)
			for _, tok := range []string{tok1, tok2} {
				_, err := acc.Authenticate(tok)
				require.Equal(t, "invalid_token", code(err), "the change ended the session")
			}
			_, err = acc.Authenticate(other)
			require.NoError(t, err, "another user's session stays")
			trail, err := e.eng.Audit(0, 0, "admin")
			require.NoError(t, err)
			last := trail[len(trail)-1]
			require.Equal(t, hub.EventUserUpdated, last.Action)
			require.Equal(t, "user Nicolò", last.Target)
			require.Equal(t, tc.detail, last.Detail)
			require.NotEmpty(t, last.At)
			// A fresh session for the next case.
			pw := "nuova password"
			if tc.name == "role change" {
				pw = "àèìòùàèì"
			}
			if tc.name != "disable" {
				tok1, _, err = acc.Login("Nicolò", pw)
				require.NoError(t, err)
				tok2 = tok1
			}
		})
	}
	_, _, err = acc.Login("Nicolò", "nuova password")
	require.Equal(t, "account_disabled", code(err))
	_, _, err = acc.Login("Nicolò", "sbagliata!")
	require.Equal(t, "invalid_credentials", code(err))

	for _, tc := range []struct {
		name string
		ch   hub.UserChange
		code string
	}{
		{"65 characters", hub.UserChange{Username: repeat("ò", 65), Role: hub.RoleClerk, Password: "password1"}, "invalid_username"},
		{"spaces around", hub.UserChange{Username: " anna", Role: hub.RoleClerk, Password: "password1"}, "invalid_username"},
		{"7 characters in 14 bytes", hub.UserChange{Username: "anna", Role: hub.RoleClerk, Password: repeat("è", 7)}, "invalid_password"},
		{"73 characters", hub.UserChange{Username: "anna", Role: hub.RoleClerk, Password: repeat("è", 73)}, "invalid_password"},
		{"new without password", hub.UserChange{Username: "anna", Role: hub.RoleClerk}, "invalid_password"},
		{"new without role", hub.UserChange{Username: "anna", Password: "password1"}, "invalid_role"},
		{"unknown role", hub.UserChange{Username: "anna", Role: "boss", Password: "password1"}, "invalid_role"},
		{"last admin disabled", hub.UserChange{Username: "admin", Disabled: boolp(true)}, "last_admin"},
		{"last admin demoted", hub.UserChange{Username: "admin", Role: hub.RoleClerk}, "last_admin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seq := e.eng.LastSeq()
			_, err := e.eng.SaveUser(ctx, acc, "admin", tc.ch)
			require.Equal(t, tc.code, code(err), "%v", err)
			require.Equal(t, seq, e.eng.LastSeq(), "nothing committed")
			_, err = acc.Authenticate(other)
			require.NoError(t, err, "a refused change ends no session")
		})
	}
	// 72 accented letters (144 bytes): every one of them counts.
	long := repeat("è", 72)
	_, err = e.eng.SaveUser(ctx, acc, "admin", hub.UserChange{Username: repeat("ò", 64), Role: hub.RoleClerk, Password: long})
	require.NoError(t, err)
	_, _, err = acc.Login(repeat("ò", 64), long)
	require.NoError(t, err)
	_, _, err = acc.Login(repeat("ò", 64), repeat("è", 71)+"é")
	require.Equal(t, "invalid_credentials", code(err))

	// Devices: the enrolment and its audit line commit together.
	tok, err := e.eng.EnrollDevice(ctx, acc, "admin", "totem-2", hub.DeviceTotem)
	require.NoError(t, err)
	p, err := acc.Authenticate(tok)
	require.NoError(t, err)
	require.Equal(t, hub.Principal{ID: "totem-2", Device: hub.DeviceTotem}, p)
	trail, err := e.eng.Audit(0, 0, "admin")
	require.NoError(t, err)
	require.Equal(t, hub.EventDeviceEnrolled, trail[len(trail)-1].Action)
	require.Equal(t, "device totem-2", trail[len(trail)-1].Target)

	// Accounts kept elsewhere than the engine's store are refused: their
	// change could not be committed with its audit event.
	st2, err := boltstore.Open(filepath.Join(t.TempDir(), "other.db"), boltstore.Options{NoSync: true, Logger: quiet})
	require.NoError(t, err)
	defer st2.Close()
	elsewhere := hub.NewAccounts(hub.AccountsConfig{Store: st2, BcryptCost: bcrypt.MinCost})
	_, err = e.eng.SaveUser(ctx, elsewhere, "admin", hub.UserChange{Username: "anna", Role: hub.RoleClerk, Password: "password1"})
	require.Equal(t, hub.KindInternal, hub.ErrorKind(err))
	_, err = e.eng.EnrollDevice(ctx, elsewhere, "admin", "totem-2", hub.DeviceTotem)
	require.Equal(t, hub.KindInternal, hub.ErrorKind(err))
}

func repeat(s string, n int) string { return strings.Repeat(s, n) }
