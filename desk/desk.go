// Package desk holds the staff pages of Sportello: the login form, the
// clerk's desk terminal (/desk, for counters and consultation rooms), the
// supervisor console (/supervisor) and the admin pages (/admin). The pages
// are server-rendered html/template with small plain scripts (assets
// desk-common.js, desk.js, supervisor.js, admin.js) that call the JSON API
// of hub/httpapi with the session cookie and its CSRF token, and refresh on
// the live feed.
package desk

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/comune-rc/sportello/assets"
	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/httpapi"
	"github.com/comune-rc/sportello/kpi"
	"github.com/labstack/echo/v4"
)

// Config is what the pages need.
type Config struct {
	Engine   *hub.Engine
	Accounts *hub.Accounts
	// MaxWait is the hard bound on anyone's wait (the policy's MaxWait):
	// the supervisor console warns from 80 % of it. Default: the engine's
	// FairPolicy bound, else 60 min.
	MaxWait time.Duration
	// Secure sets the Secure flag of the cookies (HTTPS deployments).
	Secure bool
	// Refresh is how often the pages poll the API besides the live feed
	// (waits grow without events). Default 15 s.
	Refresh time.Duration
	// Reports is where the /reports pages read their figures (the hub's
	// store); without it they answer 503.
	Reports kpi.Source
	// History, when set, gives the desk the CzRM history of the citizen
	// at the counter (GET /desk/history).
	History HistoryFunc
}

type pages struct {
	cfg      Config
	secret   []byte // signs the login form's CSRF token
	staffing staffingCache
}

// Mount returns the function that registers the pages on the hub's router
// (httpapi.Config.Mount): GET/POST /login, POST /logout, GET /desk,
// GET /supervisor, GET /admin, GET /desk/clock (the hub's time, for
// the scripts that count waits) and GET /api/v1/staffing (the
// supervisor console's staffing advice).
func Mount(cfg Config) func(*echo.Echo) {
	if cfg.Refresh <= 0 {
		cfg.Refresh = 15 * time.Second
	}
	p := &pages{cfg: cfg, secret: make([]byte, 32)}
	if _, err := rand.Read(p.secret); err != nil {
		panic(err)
	}
	return func(e *echo.Echo) {
		e.GET("/login", p.loginForm)
		e.POST("/login", p.login)
		e.POST("/logout", p.logout)
		e.GET("/desk", p.desk)
		e.GET("/supervisor", p.supervisor)
		e.GET("/admin", p.admin)
		e.GET("/desk/clock", p.clock)
		p.mountReports(e)
		e.GET("/desk/history", p.history)
		e.GET("/api/v1/staffing", p.staffingJSON)
	}
}

// maxWait is the hard bound the console warns about.
func (p *pages) maxWait() time.Duration {
	if p.cfg.MaxWait > 0 {
		return p.cfg.MaxWait
	}
	if fp, ok := p.cfg.Engine.Policy().(*hub.FairPolicy); ok && fp.MaxWait() > 0 {
		return fp.MaxWait()
	}
	return 60 * time.Minute
}

//go:embed templates/*.html
var templateFS embed.FS

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"asset": assets.URL,
	"tr":    trHTML,
	"minutes": func(d time.Duration) int {
		return int(d / time.Minute)
	},
	"inc": func(i int) int { return i + 1 },
	// The staffing panel's share in percent and counter lists.
	"percent": func(f float64) int { return int(f*100 + 0.5) },
	"join":    func(ids []string) string { return strings.Join(ids, " ") },
	"dec1":    func(x float64) string { return strings.Replace(strconv.FormatFloat(x, 'f', 1, 64), ".", ",", 1) },
	// The reports' figures, formatted as the PDF formats them.
	"minutesOf": kpi.Minutes,
	"percentOf": kpi.Percent,
	"scoreOf":   kpi.Score,
	"targetMin": func(d time.Duration) int { return int(d / time.Minute) },
	"figTable": func(id, it, en string, rows []kpi.Row, target bool) figTable {
		return figTable{ID: id, IT: it, EN: en, Rows: rows, Target: target}
	},
	"panelSubmit": func(class, id, it, en string) panelSubmit {
		return panelSubmit{Class: class, ID: id, IT: it, EN: en}
	},
}).ParseFS(templateFS, "templates/*.html"))

// panelSubmit is the submit button of one of the desk's action forms
// (template "panel-buttons").
type panelSubmit struct{ Class, ID, IT, EN string }

// figTable is one figures table of the reports page.
type figTable struct {
	ID, IT, EN string
	Rows       []kpi.Row
	Target     bool
}

// trHTML renders a text Italian first, English second (smaller, marked
// lang="en" for screen readers).
func trHTML(v any) template.HTML {
	var t hub.Text
	switch x := v.(type) {
	case hub.Text:
		t = x
	case *hub.Text:
		if x == nil {
			return ""
		}
		t = *x
	case string:
		t = hub.Text{IT: x}
	default:
		panic("desk: not a text")
	}
	out := `<span class="it">` + template.HTMLEscapeString(t.IT) + `</span>`
	if t.EN != "" && t.EN != t.IT {
		out += ` <span class="en" lang="en">` + template.HTMLEscapeString(t.EN) + `</span>`
	}
	return template.HTML(out)
}

var roleNames = map[hub.Role]hub.Text{
	hub.RoleClerk:      {IT: "Operatore", EN: "Clerk"},
	hub.RoleSupervisor: {IT: "Supervisore", EN: "Supervisor"},
	hub.RoleAdmin:      {IT: "Amministratore", EN: "Administrator"},
}

// render writes a staff page with the headers every page has.
func render(c echo.Context, status int, name string, data any) error {
	return httpapi.RenderPage(c, status, templates, name, data, httpapi.PagePolicy{DataImages: true})
}

// ---- Sessions and the login form ---------------------------------------

// loginCookie carries the random half of the login form's CSRF token; the
// form echoes its signature in the hidden field login_csrf.
const loginCookie = "sportello_login"

const loginFormTTL = time.Hour

// home is where a role lands after login.
func home(r hub.Role) string {
	switch {
	case r.AtLeast(hub.RoleAdmin):
		return "/admin"
	case r.AtLeast(hub.RoleSupervisor):
		return "/supervisor"
	}
	return "/desk"
}

// safeNext keeps only local paths: "/desk?x=1" yes, "//evil", "https://…",
// "/\evil" or anything with control characters no.
func safeNext(next string) string {
	if next == "" || len(next) > 512 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return ""
	}
	if strings.ContainsAny(next, "\\\r\n\t\x00") {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return ""
	}
	if u.Path == "/login" || u.Path == "/logout" {
		return ""
	}
	return next
}

func (p *pages) sign(v string) string {
	m := hmac.New(sha256.New, p.secret)
	m.Write([]byte("sportello-login\x00" + v))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// loginToken returns the login form's CSRF token, setting (or renewing)
// its cookie.
func (p *pages) loginToken(c echo.Context) string {
	v := ""
	if ck, err := c.Cookie(loginCookie); err == nil && len(ck.Value) == 32 && isHex(ck.Value) {
		v = ck.Value
	} else {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			panic(err)
		}
		v = hex.EncodeToString(b)
	}
	c.SetCookie(&http.Cookie{Name: loginCookie, Value: v, Path: "/login", HttpOnly: true, Secure: p.cfg.Secure,
		SameSite: http.SameSiteStrictMode, MaxAge: int(loginFormTTL / time.Second)})
	return p.sign(v)
}

func (p *pages) loginTokenOK(c echo.Context) bool {
	ck, err := c.Cookie(loginCookie)
	if err != nil || len(ck.Value) != 32 || !isHex(ck.Value) {
		return false
	}
	return hmac.Equal([]byte(c.FormValue("login_csrf")), []byte(p.sign(ck.Value)))
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

func (p *pages) setSession(c echo.Context, token string, expires time.Time) {
	c.SetCookie(&http.Cookie{Name: httpapi.SessionCookie, Value: token, Path: "/", HttpOnly: true, Secure: p.cfg.Secure,
		SameSite: http.SameSiteStrictMode, Expires: expires})
}

func (p *pages) clearCookie(c echo.Context, name, path string) {
	c.SetCookie(&http.Cookie{Name: name, Value: "", Path: path, HttpOnly: true, Secure: p.cfg.Secure,
		SameSite: http.SameSiteStrictMode, MaxAge: -1, Expires: time.Unix(0, 0)})
}

type loginData struct {
	Site      *hub.Site
	Next      string
	Username  string
	LoginCSRF string
	// CSRF is the session's token when the browser still sends a session
	// cookie: the API middleware checks it on every form post.
	CSRF    string
	Error   *hub.Text
	Info    *hub.Text
	Current *hub.Principal
}

var (
	msgExpired  = hub.Text{IT: "La sessione è scaduta o è stata chiusa: accedi di nuovo.", EN: "Your session has expired or was ended: please log in again."}
	msgLogout   = hub.Text{IT: "Sei uscito da Sportello.", EN: "You have logged out of Sportello."}
	msgWrong    = hub.Text{IT: "Nome utente o password errati.", EN: "Wrong username or password."}
	msgMissing  = hub.Text{IT: "Inserisci nome utente e password.", EN: "Enter your username and password."}
	msgInternal = hub.Text{IT: "Accesso non riuscito per un errore del sistema: riprova tra poco.", EN: "Login failed because of a system error: try again shortly."}
)

var clockRE = regexp.MustCompile(`\d{1,2}:\d{2}`)

func lockedText(err error) hub.Text {
	var ae *hub.Error
	at := ""
	if errors.As(err, &ae) {
		at = clockRE.FindString(ae.Message)
	}
	if at == "" {
		return hub.Text{IT: "Account bloccato dopo troppi tentativi falliti: riprova più tardi o rivolgiti all'amministratore.",
			EN: "Account locked after too many failed attempts: try again later or ask the administrator."}
	}
	return hub.Text{IT: "Account bloccato dopo troppi tentativi falliti: riprova dopo le " + at + " o rivolgiti all'amministratore.",
		EN: "Account locked after too many failed attempts: try again after " + at + " or ask the administrator."}
}

func (p *pages) renderLogin(c echo.Context, status int, d loginData) error {
	d.Site = p.cfg.Engine.Site()
	d.LoginCSRF = p.loginToken(c)
	if pr, ok := httpapi.PrincipalOf(c); ok && !pr.IsDevice() {
		d.Current = &pr
		d.CSRF = httpapi.CSRFToken(c)
	} else if _, err := c.Cookie(httpapi.SessionCookie); err == nil {
		// A session that ended: forget it, so the form needs no token
		// of a dead session.
		p.clearCookie(c, httpapi.SessionCookie, "/")
	}
	return render(c, status, "login.html", d)
}

func (p *pages) loginForm(c echo.Context) error {
	d := loginData{Next: safeNext(c.QueryParam("next"))}
	switch c.QueryParam("reason") {
	case "expired":
		d.Info = &msgExpired
	case "logout":
		d.Info = &msgLogout
	}
	return p.renderLogin(c, http.StatusOK, d)
}

func (p *pages) login(c echo.Context) error {
	if !p.loginTokenOK(c) {
		return p.forbiddenCSRF(c)
	}
	username := strings.TrimSpace(c.FormValue("username"))
	password := c.FormValue("password")
	next := safeNext(c.FormValue("next"))
	d := loginData{Next: next, Username: username}
	if len(username) > 64 {
		d.Username = ""
	}
	if username == "" || password == "" {
		d.Error = &msgMissing
		return p.renderLogin(c, http.StatusBadRequest, d)
	}
	token, ses, err := p.cfg.Accounts.Login(username, password)
	if err != nil {
		switch hub.ErrorCode(err) {
		case "account_locked":
			t := lockedText(err)
			d.Error = &t
			return p.renderLogin(c, http.StatusUnauthorized, d)
		case hub.ErrInvalidCredentials.Code:
			d.Error = &msgWrong
			return p.renderLogin(c, http.StatusUnauthorized, d)
		}
		d.Error = &msgInternal
		return p.renderLogin(c, http.StatusInternalServerError, d)
	}
	// A new login replaces the session this browser had.
	if ck, err := c.Cookie(httpapi.SessionCookie); err == nil && ck.Value != "" {
		_ = p.cfg.Accounts.Logout(ck.Value)
	}
	p.setSession(c, token, ses.ExpiresAt)
	p.clearCookie(c, loginCookie, "/login")
	if next == "" {
		next = home(ses.Role)
	}
	return c.Redirect(http.StatusSeeOther, next)
}

// logout ends the session. The API middleware already refuses a
// cookie-authenticated post without the session's CSRF token; the check
// is repeated here so that the page never depends on that alone.
func (p *pages) logout(c echo.Context) error {
	if ck, err := c.Cookie(httpapi.SessionCookie); err == nil && ck.Value != "" {
		given := c.Request().Header.Get(httpapi.CSRFHeader)
		if given == "" {
			given = c.FormValue("csrf")
		}
		if subtle.ConstantTimeCompare([]byte(given), []byte(httpapi.CSRFFor(ck.Value))) != 1 {
			return p.forbiddenCSRF(c)
		}
		_ = p.cfg.Accounts.Logout(ck.Value)
	}
	p.clearCookie(c, httpapi.SessionCookie, "/")
	return c.Redirect(http.StatusSeeOther, "/login?reason=logout")
}

// ---- Page access ---------------------------------------------------------

type forbiddenData struct {
	Site  *hub.Site
	Title hub.Text
	Body  hub.Text
	User  *hub.Principal
	Home  string
	CSRF  string
}

func (p *pages) forbiddenCSRF(c echo.Context) error {
	return render(c, http.StatusForbidden, "forbidden.html", forbiddenData{Site: p.cfg.Engine.Site(),
		Title: hub.Text{IT: "Modulo non valido", EN: "Invalid form"},
		Body: hub.Text{IT: "Il modulo è scaduto o non viene da Sportello. Ricarica la pagina e riprova.",
			EN: "The form has expired or did not come from Sportello. Reload the page and try again."},
		Home: "/login"})
}

// gate admits people with at least role min to a page: without a valid
// session it sends them to the login form (and back here afterwards),
// with too low a role it answers a 403 page.
func (p *pages) gate(c echo.Context, min hub.Role) (hub.Principal, bool, error) {
	pr, ok := httpapi.PrincipalOf(c)
	if !ok || pr.IsDevice() {
		q := url.Values{"next": {c.Request().URL.RequestURI()}}
		if ck, err := c.Cookie(httpapi.SessionCookie); err == nil && ck.Value != "" {
			q.Set("reason", "expired")
		}
		return pr, false, c.Redirect(http.StatusSeeOther, "/login?"+q.Encode())
	}
	if !pr.Role.AtLeast(min) {
		return pr, false, render(c, http.StatusForbidden, "forbidden.html", forbiddenData{Site: p.cfg.Engine.Site(),
			Title: hub.Text{IT: "Accesso non consentito", EN: "Access denied"},
			Body: hub.Text{IT: "Il tuo ruolo (" + roleNames[pr.Role].IT + ") non può aprire questa pagina: serve il ruolo " + roleNames[min].IT + ".",
				EN: "Your role (" + roleNames[pr.Role].EN + ") may not open this page: it needs the " + roleNames[min].EN + " role."},
			User: &pr, Home: home(pr.Role), CSRF: httpapi.CSRFToken(c)})
	}
	return pr, true, nil
}

// ---- Small JSON helpers of the scripts -----------------------------------

// staff admits clerks and up (no device) to the scripts' JSON routes.
func staff(c echo.Context) error {
	_, err := httpapi.Admit(c, "", "", hub.RoleClerk)
	return err
}

// clock serves GET /desk/clock: the hub's time, so that the pages count
// waits with the hub's clock rather than the PC's.
func (p *pages) clock(c echo.Context) error {
	if err := staff(c); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]time.Time{"now": p.cfg.Engine.Now()})
}
