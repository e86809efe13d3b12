package kiosk

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/httpapi"
	"github.com/labstack/echo/v4"
)

// surveyTexts are the satisfaction survey's strings, shared by the
// tracking page, the counter's feedback screen and the totem.
var surveyTexts = map[string]hub.Text{
	"survey.title":       {IT: "Com'è andata?", EN: "How did it go?"},
	"survey.q":           {IT: "Quanto sei soddisfatto del servizio di oggi?", EN: "How satisfied are you with today's service?"},
	"survey.face.1":      {IT: "Per niente", EN: "Not at all"},
	"survey.face.2":      {IT: "Poco", EN: "A little"},
	"survey.face.3":      {IT: "Abbastanza", EN: "Fairly"},
	"survey.face.4":      {IT: "Molto", EN: "Very"},
	"survey.face.5":      {IT: "Moltissimo", EN: "Extremely"},
	"survey.reason":      {IT: "Che cosa ha contato di più? (facoltativo)", EN: "What mattered most? (optional)"},
	"survey.reason.none": {IT: "— nessuna scelta —", EN: "— no choice —"},
	"survey.comment":     {IT: "Un commento (facoltativo, senza dati personali)", EN: "A comment (optional, no personal data)"},
	"survey.send":        {IT: "Invia la valutazione", EN: "Send your rating"},
	"survey.anon":        {IT: "La risposta è anonima: l'operatore non la vede.", EN: "Your answer is anonymous: the clerk does not see it."},
	"survey.pick":        {IT: "Scegli una delle cinque facce.", EN: "Choose one of the five faces."},
	"survey.thanks":      {IT: "Grazie! La tua valutazione è stata registrata.", EN: "Thank you! Your rating has been recorded."},
	"survey.already":     {IT: "Questa visita è già stata valutata. Grazie!", EN: "This visit has already been rated. Thank you!"},
	"survey.expired":     {IT: "Il tempo per valutare questa visita è scaduto.", EN: "The time to rate this visit is over."},
	"survey.failed":      {IT: "Invio non riuscito: riprova.", EN: "Sending failed: please try again."},
	"survey.scan.title":  {IT: "Valuta la tua visita", EN: "Rate your visit"},
	"survey.notyet":      {IT: "Il servizio non è ancora concluso: potrai valutarlo alla fine.", EN: "Your service has not ended yet: you can rate it at the end."},
	"survey.notserved":   {IT: "Questo biglietto non è stato servito: non c'è nulla da valutare.", EN: "This ticket was not served: there is nothing to rate."},
	"feedback.title":     {IT: "La tua opinione conta", EN: "Your opinion matters"},
	"feedback.rest":      {IT: "Al termine del servizio potrai dirci com'è andata.", EN: "When your service ends, you can tell us how it went."},
	"feedback.visit":     {IT: "Biglietto {n}", EN: "Ticket {n}"},
	"feedback.counter":   {IT: "Sportello {id}", EN: "Desk {id}"},
	"feedback.404.title": {IT: "Sportello sconosciuto", EN: "Unknown desk"},
	"feedback.404.body":  {IT: "In questa sede non esiste uno sportello «{id}». Controlla l'indirizzo.", EN: "There is no desk “{id}” at this office. Check the address."},
	"feedback.403.title": {IT: "Schermo non abilitato", EN: "Screen not enrolled"},
	"feedback.403.body":  {IT: "Questo schermo deve essere abilitato: apri una volta /feedback/{id}?token=TOKEN_DEL_DISPOSITIVO, oppure accedi come operatore.", EN: "This screen must be enrolled: open /feedback/{id}?token=DEVICE_TOKEN once, or log in as staff."},
}

// faceEmoji are the faces of the scores 1…5 (decorative: each face has its
// words beside it).
var faceEmoji = [6]string{"", "😠", "🙁", "😐", "🙂", "😄"}

type face struct {
	Score int
	Emoji string
	Text  string // key of texts
}

// surveyData is what the survey partial needs.
type surveyData struct {
	// Post is the API path the answer goes to; Extra are fields added to
	// the body (the ticket number of a counter's screen).
	Post    string
	Extra   string
	Faces   []face
	Reasons []hub.RatingReason
	Max     int
	Msgs    string
	Rated   bool
}

var surveyMsgs = func() string {
	b, err := json.Marshal(surveyTexts)
	if err != nil {
		panic(err)
	}
	return string(b)
}()

func newSurvey(post string) surveyData {
	d := surveyData{Post: post, Reasons: hub.RatingReasons, Max: hub.MaxRatingComment, Msgs: surveyMsgs, Extra: "{}"}
	for s := 1; s <= 5; s++ {
		d.Faces = append(d.Faces, face{Score: s, Emoji: faceEmoji[s], Text: "survey.face." + string(rune('0'+s))})
	}
	return d
}

type feedbackData struct {
	Site    *hub.Site
	Counter hub.CounterDef
	Survey  surveyData
	CSRF    string
	PollMs  int64
	ResetMs int64
}

// feedback serves GET /feedback/{counter}: the small screen at a counter
// that offers the faces for the visit just finished there, then resets.
// It needs an enrolled device (?token= once, as the displays) or a
// person's session; people without one are sent to the login form.
func (p *pages) feedback(c echo.Context) error {
	site := p.cfg.Engine.Site()
	id := c.Param("id")
	def, ok := site.Counter(id)
	if !ok {
		return errorPage(c, http.StatusNotFound, tr("feedback.404.title"), fill("feedback.404.body", "id", id))
	}
	pr, ok := httpapi.PrincipalOf(c)
	if !ok {
		return c.Redirect(http.StatusSeeOther, "/login?"+url.Values{"next": {c.Request().URL.Path}}.Encode())
	}
	if !pr.IsDevice() && !pr.Role.AtLeast(hub.RoleClerk) {
		return errorPage(c, http.StatusForbidden, tr("feedback.403.title"), fill("feedback.403.body", "id", id))
	}
	return render(c, http.StatusOK, "feedback.html", feedbackData{Site: site, Counter: def, Survey: newSurvey("/api/v1/feedback/" + id),
		CSRF: httpapi.CSRFToken(c), PollMs: 2000, ResetMs: p.cfg.TicketTimeout.Milliseconds() / 3})
}

// trackSurvey is the tracking page's survey: it posts to the link's own
// rating endpoint and starts as "already rated" for a rated visit.
func trackSurvey(token string, t *hub.Ticket) surveyData {
	d := newSurvey("/api/v1/track/" + url.PathEscape(token) + "/rating")
	d.Rated = t.Rating != nil
	return d
}

// trackTokenRE finds a tracking link's token: the QR code of a paper
// ticket carries PUBLIC_URL/t/TOKEN.
var trackTokenRE = regexp.MustCompile(`/t/([a-z2-7]{16,64})(?:[/?#\s]|$)`)

// TrackTokenOf extracts the token of a tracking link scanned at a totem.
func TrackTokenOf(scan string) (string, bool) {
	if len(scan) > 4*MaxScan {
		return "", false
	}
	m := trackTokenRE.FindStringSubmatch(strings.TrimSpace(scan))
	if m == nil {
		return "", false
	}
	return m[1], true
}

// surveyScan is the totem's answer to a scanned ticket: the visit to rate.
type surveyScan struct {
	Token   string     `json:"token"`
	Number  string     `json:"number"`
	Service string     `json:"service"`
	Status  hub.Status `json:"status"`
	Rated   bool       `json:"rated"`
}
