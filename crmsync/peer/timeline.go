package peer

import (
	"encoding/json"
	"net/url"
	"sort"
	"strings"
	"time"
)

// The views read records whatever object and field names the sender
// chose: a field is recognised by its folded name (normName), so
// "Channel__c", "channel" and "Canale__c" all give the channel.
var (
	fChannel  = []string{"channel", "canale"}
	fStatus   = []string{"status", "stato"}
	fOutcome  = []string{"outcome", "esito"}
	fNumber   = []string{"number", "numero", "ticketnumber", "numeroticket"}
	fTopic    = []string{"topic", "argomento", "oggetto", "subject"}
	fNotes    = []string{"notes", "note", "description", "descrizione"}
	fService  = []string{"service", "servizio", "servicecode"}
	fServices = []string{"services", "servizi", "requested", "servicesdelivered", "servizierogati"}
	fSummary  = []string{"stepssummary", "passaggi", "summary"}
	fCounter  = []string{"counter", "sportello", "desk"}
	fSteps    = []string{"steps", "passaggi"}
	fAgent    = []string{"agent", "operatore", "clerk"}
	fWhen     = []string{"contactat", "issuedat", "filedat", "requestedat", "arrival", "createdat", "date", "data"}
	fClosedAt = []string{"closedat", "endedat"}
)

var closedStatuses = map[string]bool{"done": true, "no_show": true, "cancelled": true, "canceled": true, "closed": true,
	"chiuso": true, "chiusa": true, "completed": true, "concluso": true, "conclusa": true, "resolved": true, "risolto": true}

var statusLabels = map[string]string{
	"waiting": "In attesa", "called": "Chiamato allo sportello", "serving": "In servizio", "done": "Concluso",
	"no_show": "Non presentato", "cancelled": "Annullato", "open": "Aperto", "closed": "Chiuso",
}

var channelLabels = map[string]string{"totem": "Sportello (totem)", "desk": "Sportello", "web": "Web (SVU)", "phone": "Telefono"}

// Outcomes an agent can record for a phone contact; the open ones keep
// the contact among the open cases.
var phoneOutcomes = []struct {
	Code, Label string
	Open        bool
}{
	{"risolto", "Risolto durante la telefonata", false},
	{"richiamare", "Da richiamare", true},
	{"inoltrato", "Inoltrato all'ufficio competente", true},
	{"appuntamento", "Fissato un appuntamento allo sportello", false},
}

func phoneOutcome(code string) (string, bool, bool) {
	for _, o := range phoneOutcomes {
		if o.Code == code {
			return o.Label, o.Open, true
		}
	}
	return "", false, false
}

// PhoneTopics are the topics the contact form suggests (free text is
// accepted too).
var PhoneTopics = []string{"anagrafe", "stato civile", "tributi", "servizi sociali", "edilizia", "mobilità",
	"segnalazione", "reclamo", "appuntamento", "informazioni", "altro"}

func field(fields map[string]json.RawMessage, names []string) (json.RawMessage, bool) {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, n := range names {
		for _, k := range keys {
			if normName(k) == n {
				return fields[k], true
			}
		}
	}
	return nil, false
}

// text returns a field as text: a string as it is, a number or bool as
// written; "" for null, objects and arrays.
func text(fields map[string]json.RawMessage, names []string) string {
	raw, ok := field(fields, names)
	if !ok {
		return ""
	}
	return rawText(raw)
}

func rawText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	switch v.(type) {
	case nil, map[string]any, []any:
		return ""
	}
	return string(raw)
}

func texts(fields map[string]json.RawMessage, names []string) []string {
	raw, ok := field(fields, names)
	if !ok {
		return nil
	}
	var list []any
	if json.Unmarshal(raw, &list) != nil {
		if s := rawText(raw); s != "" {
			return []string{s}
		}
		return nil
	}
	var out []string
	for _, v := range list {
		if s, ok := v.(string); ok && s != "" {
			out = append(out, s)
		}
	}
	return out
}

func timeField(fields map[string]json.RawMessage, names []string) (time.Time, bool) {
	for _, n := range names {
		if s := text(fields, []string{n}); s != "" {
			if t, err := time.Parse(time.RFC3339, s); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

// stepView is one passage of a visit at a counter.
type stepView struct {
	Service, Counter, Outcome, EndedBy, When string
}

// entry is one line of a citizen's timeline, or of the open cases.
type entry struct {
	When, Datetime, Updated string
	at                      time.Time
	Kind                    string // what it is, in Italian
	Channel                 string
	ChannelLabel            string
	Title                   string
	Number                  string
	Status                  string
	StatusLabel             string
	Open                    bool
	Services                []string
	Outcomes                []string
	Steps                   []stepView
	Notes                   string
	Summary                 string
	Counter                 string
	Agent                   string
	CaseID                  string
	CaseURL                 string
	Object                  string
	Version                 uint64
}

func uniq(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if x != "" && !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func (p *Peer) fmtTime(t time.Time) string {
	return t.In(p.loc).Format("02/01/2006 15:04")
}

func caseURL(id string) string { return "/czrm/casi/" + url.PathEscape(id) }

func (p *Peer) recordEntry(r *Record) entry {
	f := r.Fields
	e := entry{Object: r.Object, CaseID: r.ExternalID, CaseURL: caseURL(r.ExternalID), Version: r.Version,
		Updated: p.fmtTime(r.UpdatedAt)}
	e.at = r.CreatedAt
	if t, ok := timeField(f, fWhen); ok {
		e.at = t
	}
	e.When, e.Datetime = p.fmtTime(e.at), e.at.In(p.loc).Format(time.RFC3339)
	e.Channel = strings.ToLower(text(f, fChannel))
	e.ChannelLabel = channelLabels[e.Channel]
	if e.ChannelLabel == "" {
		e.ChannelLabel = e.Channel
	}
	switch e.Channel {
	case "phone":
		e.Kind = "Contatto telefonico"
	case "web":
		e.Kind = "Richiesta web"
	case "totem", "desk":
		e.Kind = "Visita allo sportello"
	default:
		e.Kind = r.Object
	}
	e.Number = text(f, fNumber)
	e.Status = strings.ToLower(text(f, fStatus))
	e.StatusLabel = statusLabels[e.Status]
	if e.StatusLabel == "" {
		e.StatusLabel = e.Status
	}
	e.Open = e.Status != "" && !closedStatuses[e.Status]
	services := []string{text(f, fService)}
	for _, n := range fServices {
		for _, v := range texts(f, []string{n}) {
			// Multi-select picklists arrive as "a;b".
			services = append(services, strings.Split(v, ";")...)
		}
	}
	outcomes := texts(f, fOutcome)
	if raw, ok := field(f, fSteps); ok {
		var steps []map[string]json.RawMessage
		if json.Unmarshal(raw, &steps) == nil {
			for _, s := range steps {
				sv := stepView{Service: text(s, fService), Counter: text(s, fCounter),
					Outcome: text(s, fOutcome), EndedBy: text(s, []string{"endedby"})}
				if t, ok := timeField(s, []string{"calledat", "startedat"}); ok {
					sv.When = p.fmtTime(t)
				}
				services = append(services, sv.Service)
				outcomes = append(outcomes, sv.Outcome)
				e.Steps = append(e.Steps, sv)
			}
		}
	}
	e.Services, e.Outcomes = uniq(services), uniq(outcomes)
	if e.Channel == "phone" {
		if label, _, ok := phoneOutcome(text(f, fOutcome)); ok {
			e.Outcomes = []string{label}
		}
	}
	e.Title = text(f, fTopic)
	if e.Title == "" {
		e.Title = strings.Join(e.Services, ", ")
	}
	e.Notes = text(f, fNotes)
	e.Agent = text(f, fAgent)
	e.Counter = text(f, fCounter)
	if len(e.Steps) == 0 {
		e.Summary = text(f, fSummary)
	}
	return e
}

func (p *Peer) requestEntry(r *ServiceRequest) entry {
	kind := "Segnalazione"
	if v := r.Attributes["kind"]; len(v) > 0 && v[0] == "reclamo" {
		kind = "Reclamo"
	}
	ch := ""
	if v := r.Attributes["channel"]; len(v) > 0 {
		ch = v[0]
	}
	label := channelLabels[ch]
	if label == "" {
		label = "Open311"
	}
	e := entry{Kind: kind, Channel: ch, ChannelLabel: label, Title: r.ServiceName, Status: r.Status,
		StatusLabel: statusLabels[r.Status], Open: r.Status == "open", Notes: r.Description,
		CaseID: r.ServiceRequestID, CaseURL: caseURL(r.ServiceRequestID), Object: "ServiceRequest",
		Number: r.ServiceRequestID, Version: r.Version, at: r.RequestedAt, Updated: p.fmtTime(r.UpdatedAt)}
	if r.StatusNotes != "" {
		e.Outcomes = []string{r.StatusNotes}
	}
	e.When, e.Datetime = p.fmtTime(r.RequestedAt), r.RequestedAt.In(p.loc).Format(time.RFC3339)
	return e
}

func sortEntries(es []entry) {
	sort.SliceStable(es, func(i, j int) bool { return es[i].at.After(es[j].at) })
}
