package peer

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

//go:embed templates/*.html static/czrm.css
var viewFS embed.FS

type templates struct {
	pages map[string]*template.Template
	css   []byte
}

var pageNames = []string{"index", "login", "search", "citizen", "case", "cases", "message"}

func parseTemplates() (*templates, error) {
	t := &templates{pages: map[string]*template.Template{}}
	for _, name := range pageNames {
		tp, err := template.New("layout.html").ParseFS(viewFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("peer: template %s: %w", name, err)
		}
		t.pages[name] = tp
	}
	css, err := viewFS.ReadFile("static/czrm.css")
	if err != nil {
		return nil, err
	}
	t.css = css
	return t, nil
}

// page is what every view template gets.
type page struct {
	Title  string
	User   string
	CSRF   string
	Error  string
	Notice string
	Data   any
}

func viewHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

func (p *Peer) render(w http.ResponseWriter, status int, name string, pg page) {
	var buf bytes.Buffer
	if err := p.tmpl.pages[name].Execute(&buf, pg); err != nil {
		p.log.Error("czrm view failed", "page", name, "err", err)
		http.Error(w, "errore interno", http.StatusInternalServerError)
		return
	}
	viewHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (p *Peer) message(w http.ResponseWriter, status int, sess *session, title, msg string) {
	pg := page{Title: title, Error: msg}
	if sess != nil {
		pg.User, pg.CSRF = sess.user, sess.csrf
	}
	p.render(w, status, "message", pg)
}

const (
	sessionCookie = "czrm_session"
	loginCookie   = "czrm_login"
)

func (p *Peer) viewRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /czrm/static/czrm.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "max-age=300")
		_, _ = w.Write(p.tmpl.css)
	})
	mux.HandleFunc("GET /czrm", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/czrm/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /czrm/login", p.handleLoginPage)
	mux.HandleFunc("POST /czrm/login", p.handleLogin)
	mux.HandleFunc("POST /czrm/logout", p.staffPost(p.handleLogout))
	mux.HandleFunc("GET /czrm/{$}", p.staff(p.handleSearchPage))
	mux.HandleFunc("POST /czrm/cerca", p.staffPost(p.handleSearch))
	mux.HandleFunc("GET /czrm/cittadini/{handle}", p.staff(p.handleCitizen))
	mux.HandleFunc("POST /czrm/contatti", p.staffPost(p.handleLogContact))
	mux.HandleFunc("GET /czrm/casi", p.staff(p.handleCases))
	mux.HandleFunc("GET /czrm/casi/{id}", p.staff(p.handleCase))
	mux.HandleFunc("POST /czrm/casi/{id}/chiudi", p.staffPost(p.handleCloseCase))
}

func (p *Peer) handleIndex(w http.ResponseWriter, r *http.Request) {
	p.render(w, http.StatusOK, "index", page{Title: "CzRM di riferimento", Data: map[string]any{
		"Base": baseURL(r), "Demo": p.cfg.Demo, "Admin": p.cfg.AdminSecret != ""}})
}

// ---- login ----------------------------------------------------------------

func secure(r *http.Request) bool { return r.TLS != nil }

func (p *Peer) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil && p.sessions.get(c.Value, p.now()) != nil {
		http.Redirect(w, r, "/czrm/", http.StatusSeeOther)
		return
	}
	p.loginForm(w, r, http.StatusOK, "", "")
}

// loginForm renders the login page with a fresh login CSRF token, kept in
// a cookie (double submit: no session exists yet).
func (p *Peer) loginForm(w http.ResponseWriter, r *http.Request, status int, user, msg string) {
	tok := randomToken()
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: tok, Path: "/czrm/login", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: secure(r), MaxAge: 3600})
	p.render(w, status, "login", page{Title: "Accesso operatori", CSRF: tok, Error: msg, Data: map[string]string{"Username": user}})
}

// sameOrigin refuses requests a browser marks as cross-site, and those
// whose Origin is another site.
func sameOrigin(r *http.Request) bool {
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return false
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return false
		}
	}
	return true
}

func (p *Peer) handleLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		p.message(w, http.StatusBadRequest, nil, "Richiesta non valida", "Il modulo non è leggibile.")
		return
	}
	c, err := r.Cookie(loginCookie)
	if err != nil || c.Value == "" || !equalSecret(c.Value, r.PostForm.Get("csrf")) || !sameOrigin(r) {
		p.message(w, http.StatusForbidden, nil, "Richiesta rifiutata",
			"Il modulo è scaduto o non proviene da questa pagina (controllo CSRF). Ricaricare la pagina di accesso e riprovare.")
		return
	}
	user, pw := strings.TrimSpace(r.PostForm.Get("username")), r.PostForm.Get("password")
	want, ok := p.cfg.Agents[user]
	if !ok {
		want = "\x00no such user"
	}
	if !equalSecret(pw, want) || !ok {
		p.loginForm(w, r, http.StatusUnauthorized, user, "Nome utente o password non validi.")
		return
	}
	tok, _ := p.sessions.create(user, p.now(), p.cfg.SessionTTL)
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: "/czrm/login", MaxAge: -1})
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: tok, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: secure(r)})
	p.log.Info("czrm agent login", "user", user)
	http.Redirect(w, r, "/czrm/", http.StatusSeeOther)
}

func (p *Peer) handleLogout(w http.ResponseWriter, r *http.Request, sess *session) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		p.sessions.delete(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1})
	http.Redirect(w, r, "/czrm/login", http.StatusSeeOther)
}

type staffHandler func(w http.ResponseWriter, r *http.Request, sess *session)

func (p *Peer) session(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	return p.sessions.get(c.Value, p.now())
}

// staff lets only logged-in agents through (others go to the login page).
func (p *Peer) staff(h staffHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess := p.session(r)
		if sess == nil {
			http.Redirect(w, r, "/czrm/login", http.StatusSeeOther)
			return
		}
		h(w, r, sess)
	}
}

// staffPost is staff for form posts, which must also carry the session's
// CSRF token and come from this site.
func (p *Peer) staffPost(h staffHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess := p.session(r)
		if sess == nil {
			http.Redirect(w, r, "/czrm/login", http.StatusSeeOther)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			p.message(w, http.StatusBadRequest, sess, "Richiesta non valida", "Il modulo non è leggibile o è troppo grande.")
			return
		}
		if !equalSecret(r.PostForm.Get("csrf"), sess.csrf) || !sameOrigin(r) {
			p.message(w, http.StatusForbidden, sess, "Richiesta rifiutata",
				"Il modulo non proviene da questa sessione (controllo CSRF). Tornare alla pagina e riprovare.")
			return
		}
		h(w, r, sess)
	}
}

// ---- search -----------------------------------------------------------------

func (p *Peer) openCount() int {
	n := 0
	_ = p.store.eachRequest(func(r *ServiceRequest) bool {
		if r.Status == "open" {
			n++
		}
		return true
	})
	_ = p.store.eachRecord(func(r *Record) bool {
		if p.recordEntry(r).Open {
			n++
		}
		return true
	})
	return n
}

func (p *Peer) handleSearchPage(w http.ResponseWriter, r *http.Request, sess *session) {
	p.render(w, http.StatusOK, "search", page{Title: "Cerca un cittadino o un caso", User: sess.user, CSRF: sess.csrf,
		Data: map[string]any{"Open": p.openCount()}})
}

// looksLikeFiscalCode tells an attempted codice fiscale (16 letters and
// digits) from a case id.
func looksLikeFiscalCode(q string) bool {
	q = NormalizeFiscalCode(q)
	if len(q) != 16 {
		return false
	}
	for _, c := range q {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// handleSearch: POST /czrm/cerca q=… (a form post, so that the codice
// fiscale never travels in a URL). A valid codice fiscale opens the
// citizen's page; anything else is looked up as a case id (Open311
// service_request_id or external id).
func (p *Peer) handleSearch(w http.ResponseWriter, r *http.Request, sess *session) {
	q := strings.TrimSpace(r.PostForm.Get("q"))
	fail := func(status int, msg string) {
		p.render(w, status, "search", page{Title: "Cerca un cittadino o un caso", User: sess.user, CSRF: sess.csrf,
			Error: msg, Data: map[string]any{"Open": p.openCount(), "Q": q}})
	}
	if q == "" {
		fail(http.StatusUnprocessableEntity, "Inserire un codice fiscale o un numero di pratica.")
		return
	}
	if cf, err := ParseFiscalCode(q); err == nil {
		if p.store.knownCitizen(cf) {
			http.Redirect(w, r, "/czrm/cittadini/"+p.store.handle(cf), http.StatusSeeOther)
			return
		}
		p.renderCitizen(w, http.StatusOK, sess, cf, nil, nil, contactForm{}, "",
			"Nessun contatto registrato per questo codice fiscale. È possibile registrare un contatto telefonico.")
		return
	} else if looksLikeFiscalCode(q) {
		fail(http.StatusUnprocessableEntity, "Codice fiscale non valido: "+err.Error()+".")
		return
	}
	if !cleanText(q, maxExtValue, false) {
		fail(http.StatusUnprocessableEntity, "Il numero di pratica non è valido.")
		return
	}
	if p.caseExists(q) {
		http.Redirect(w, r, caseURL(q), http.StatusSeeOther)
		return
	}
	fail(http.StatusNotFound, "Nessun caso trovato con questo identificativo.")
}

func (p *Peer) caseExists(id string) bool {
	if _, err := p.store.request(id); err == nil {
		return true
	}
	recs, reqs, err := p.store.byExternalID(id)
	return err == nil && len(recs)+len(reqs) > 0
}

// ---- citizen ------------------------------------------------------------------

type contactForm struct {
	Topic, Notes, Outcome string
}

type citizenData struct {
	CF       string
	Handle   string
	Open     []entry
	Timeline []entry
	Form     contactForm
	Topics   []string
	Outcomes any
}

func (p *Peer) renderCitizen(w http.ResponseWriter, status int, sess *session, cf string, recs []Record, reqs []ServiceRequest, form contactForm, errMsg, notice string) {
	var all []entry
	for i := range recs {
		all = append(all, p.recordEntry(&recs[i]))
	}
	for i := range reqs {
		all = append(all, p.requestEntry(&reqs[i]))
	}
	sortEntries(all)
	var open []entry
	for _, e := range all {
		if e.Open {
			open = append(open, e)
		}
	}
	if form.Outcome == "" {
		form.Outcome = "risolto"
	}
	p.render(w, status, "citizen", page{Title: "Scheda del cittadino", User: sess.user, CSRF: sess.csrf, Error: errMsg, Notice: notice,
		Data: citizenData{CF: cf, Handle: p.store.handle(cf), Open: open, Timeline: all, Form: form, Topics: PhoneTopics, Outcomes: phoneOutcomes}})
}

func (p *Peer) handleCitizen(w http.ResponseWriter, r *http.Request, sess *session) {
	cf, recs, reqs, err := p.store.citizen(r.PathValue("handle"))
	if errors.Is(err, ErrNotFound) {
		p.message(w, http.StatusNotFound, sess, "Cittadino non trovato", "Nessuna scheda corrisponde a questo collegamento.")
		return
	}
	if err != nil {
		p.message(w, http.StatusInternalServerError, sess, "Errore", "Non è stato possibile leggere l'archivio.")
		return
	}
	notice := ""
	if r.URL.Query().Get("registrato") == "1" {
		notice = "Contatto telefonico registrato."
	}
	p.renderCitizen(w, http.StatusOK, sess, cf, recs, reqs, contactForm{}, "", notice)
}

// handleLogContact: POST /czrm/contatti cf, topic, notes, outcome → a
// record of object Contatto_Telefonico__c with channel "phone".
func (p *Peer) handleLogContact(w http.ResponseWriter, r *http.Request, sess *session) {
	f := r.PostForm
	cf, err := ParseFiscalCode(f.Get("cf"))
	if err != nil {
		p.message(w, http.StatusUnprocessableEntity, sess, "Contatto non registrato", "Codice fiscale non valido: "+err.Error()+".")
		return
	}
	form := contactForm{Topic: strings.TrimSpace(f.Get("topic")), Notes: strings.TrimSpace(f.Get("notes")), Outcome: f.Get("outcome")}
	label, open, ok := phoneOutcome(form.Outcome)
	var problems []string
	if form.Topic == "" || !cleanText(form.Topic, 200, false) {
		problems = append(problems, "indicare l'argomento (al massimo 200 caratteri)")
	}
	if !cleanText(form.Notes, 2000, true) {
		problems = append(problems, "le note possono avere al massimo 2000 caratteri")
	}
	if !ok {
		problems = append(problems, "scegliere un esito")
	}
	if len(problems) > 0 {
		_, recs, reqs, _ := p.store.citizen(p.store.handle(cf))
		p.renderCitizen(w, http.StatusUnprocessableEntity, sess, cf, recs, reqs, form, "Contatto non registrato: "+strings.Join(problems, "; ")+".", "")
		return
	}
	now := p.now()
	status := "closed"
	if open {
		status = "open"
	}
	id := "TEL-" + now.In(p.loc).Format("20060102") + "-" + randomToken()[:10]
	fields := map[string]any{
		"Codice_Fiscale__c": cf, "Channel__c": "phone", "Topic__c": form.Topic, "Notes__c": form.Notes,
		"Outcome__c": form.Outcome, "Outcome_Label__c": label, "Status__c": status, "Agent__c": sess.user,
		"Contact_At__c": now.In(p.loc).Format(time.RFC3339),
	}
	body := make(map[string]json.RawMessage, len(fields))
	for k, v := range fields {
		b, _ := json.Marshal(v)
		body[k] = b
	}
	if _, err := p.store.upsert(PhoneObject, PhoneExtIDField, id, body, "agent:"+sess.user, now, false, nil); err != nil {
		p.message(w, http.StatusInternalServerError, sess, "Errore", "Non è stato possibile registrare il contatto.")
		return
	}
	http.Redirect(w, r, "/czrm/cittadini/"+p.store.handle(cf)+"?registrato=1", http.StatusSeeOther)
}

// The object and external id field of the phone contacts agents log.
const (
	PhoneObject     = "Contatto_Telefonico__c"
	PhoneExtIDField = "Contact_Ext_Id__c"
)

// ---- cases ---------------------------------------------------------------------

func (p *Peer) handleCases(w http.ResponseWriter, r *http.Request, sess *session) {
	var open []entry
	_ = p.store.eachRequest(func(sr *ServiceRequest) bool {
		if sr.Status == "open" {
			open = append(open, p.requestEntry(sr))
		}
		return true
	})
	_ = p.store.eachRecord(func(rec *Record) bool {
		if e := p.recordEntry(rec); e.Open {
			open = append(open, e)
		}
		return true
	})
	sortEntries(open)
	p.render(w, http.StatusOK, "cases", page{Title: "Casi aperti", User: sess.user, CSRF: sess.csrf, Data: open})
}

type fieldView struct{ Name, Value string }

type recordView struct {
	entry
	Record  *Record
	Fields  []fieldView
	Created string
	Citizen string
}

type requestView struct {
	entry
	Request *ServiceRequest
	Citizen string
	Attrs   []fieldView
}

type caseData struct {
	ID       string
	Requests []requestView
	Records  []recordView
}

func (p *Peer) handleCase(w http.ResponseWriter, r *http.Request, sess *session) {
	p.renderCase(w, http.StatusOK, sess, r.PathValue("id"), "", r.URL.Query().Get("chiuso") == "1")
}

func (p *Peer) renderCase(w http.ResponseWriter, status int, sess *session, id, errMsg string, closed bool) {
	data := caseData{ID: id}
	var reqs []ServiceRequest
	if sr, err := p.store.request(id); err == nil {
		reqs = append(reqs, *sr)
	}
	recs, byExt, err := p.store.byExternalID(id)
	if err != nil {
		p.message(w, http.StatusInternalServerError, sess, "Errore", "Non è stato possibile leggere l'archivio.")
		return
	}
	for _, sr := range byExt {
		if sr.ServiceRequestID != id {
			reqs = append(reqs, sr)
		}
	}
	for i := range reqs {
		sr := &reqs[i]
		rv := requestView{entry: p.requestEntry(sr), Request: sr}
		if cf := requestCF(sr); cf != "" {
			rv.Citizen = p.store.handle(cf)
		}
		codes := make([]string, 0, len(sr.Attributes))
		for k := range sr.Attributes {
			codes = append(codes, k)
		}
		sort.Strings(codes)
		for _, k := range codes {
			rv.Attrs = append(rv.Attrs, fieldView{k, strings.Join(sr.Attributes[k], ", ")})
		}
		data.Requests = append(data.Requests, rv)
	}
	for i := range recs {
		rec := &recs[i]
		rv := recordView{entry: p.recordEntry(rec), Record: rec, Created: p.fmtTime(rec.CreatedAt)}
		if cf := recordCF(rec.Fields); cf != "" {
			rv.Citizen = p.store.handle(cf)
		}
		names := make([]string, 0, len(rec.Fields))
		for k := range rec.Fields {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			v := rawText(rec.Fields[k])
			if v == "" {
				v = string(rec.Fields[k])
			}
			rv.Fields = append(rv.Fields, fieldView{k, v})
		}
		data.Records = append(data.Records, rv)
	}
	if len(data.Requests)+len(data.Records) == 0 {
		p.message(w, http.StatusNotFound, sess, "Caso non trovato", "Nessun caso corrisponde a questo identificativo.")
		return
	}
	notice := ""
	if closed {
		notice = "Richiesta chiusa."
	}
	p.render(w, status, "case", page{Title: "Caso " + id, User: sess.user, CSRF: sess.csrf, Error: errMsg, Notice: notice, Data: data})
}

// handleCloseCase: POST /czrm/casi/{id}/chiudi status_notes=… closes an
// open Open311 request.
func (p *Peer) handleCloseCase(w http.ResponseWriter, r *http.Request, sess *session) {
	id := r.PathValue("id")
	notes := strings.TrimSpace(r.PostForm.Get("status_notes"))
	if notes == "" || !cleanText(notes, 2000, true) {
		p.renderCase(w, http.StatusUnprocessableEntity, sess, id, "Indicare l'esito della richiesta (note di chiusura, al massimo 2000 caratteri).", false)
		return
	}
	_, err := p.store.closeRequest(id, notes, sess.user, p.now())
	switch {
	case errors.Is(err, ErrNotFound):
		p.message(w, http.StatusNotFound, sess, "Richiesta non trovata", "Nessuna richiesta Open311 con questo numero.")
	case errors.Is(err, errAlreadyClosed):
		p.renderCase(w, http.StatusConflict, sess, id, "La richiesta è già chiusa.", false)
	case err != nil:
		p.message(w, http.StatusInternalServerError, sess, "Errore", "Non è stato possibile chiudere la richiesta.")
	default:
		http.Redirect(w, r, caseURL(id)+"?chiuso=1", http.StatusSeeOther)
	}
}
