package crmsync

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/comune-rc/sportello/hub"
)

// Mapping names the CRM object and fields a visit is written to, so that
// the same worker fits any CRM by configuration.
type Mapping struct {
	// Object is the sObject (or entity set) of visits.
	Object string
	// ExtIDField is the external-id field holding the visit's id (the
	// hub's ticket id).
	ExtIDField string
	// APIVersion is the REST API version in the URL ("v60.0").
	APIVersion string
	// Fields maps our field names (VisitFieldNames) to CRM field names.
	// Only the fields listed are sent; nil means DefaultFields. The
	// priority category, notes and any personal field are sent only when
	// listed here. A key "ticket.NAME" sends the ticket's JSON field NAME
	// when it is present and not empty (for fields the hub may add later,
	// such as a codice fiscale): never unless configured and present.
	Fields map[string]string
	// SeqField is the CRM number field that carries the version of the
	// state sent: the outbox sequence of the visit's latest change, which
	// only grows, across restarts, re-deliveries, reconciliation re-sends
	// and dead-letter replays. The keyed upsert has no version guard of
	// its own, so the CRM must refuse an upsert whose value is lower than
	// the stored one (the reference peer does; on Salesforce a validation
	// rule does, see docs/crmsync.md): a slow or orphaned call carrying an
	// older state then can never overwrite a newer one. Empty means
	// DefaultSeqField; "-" sends no version (a CRM without the field:
	// the guard is then lost).
	SeqField string
}

// DefaultSeqField is the version field of DefaultMapping.
const DefaultSeqField = "Sync_Seq__c"

// NoSeqField as Mapping.SeqField sends no version.
const NoSeqField = "-"

// DefaultMapping is the reference CzRM's custom object.
func DefaultMapping() Mapping {
	return Mapping{Object: "Sportello_Visit__c", ExtIDField: "Visit_Ext_Id__c", APIVersion: "v60.0", Fields: DefaultFields(),
		SeqField: DefaultSeqField}
}

// DefaultFields is the mapping used when Mapping.Fields is nil: the
// visit's facts, without the priority category or notes. The fiscal code
// is sent (only visits that came with one carry it: a booking, a case
// from the contact centre), because it is what puts the visit on the
// citizen's timeline in the CzRM; once delivered the hub keeps only its
// keyed hash, and the field is then left as the CzRM has it. The name is
// opt-in ("citizen_name").
func DefaultFields() map[string]string {
	return map[string]string{
		"number":             "Ticket_Number__c",
		"service":            "Service__c",
		"status":             "Status__c",
		"channel":            "Channel__c",
		"day":                "Visit_Day__c",
		"issued_at":          "Issued_At__c",
		"called_at":          "Called_At__c",
		"closed_at":          "Closed_At__c",
		"counter":            "Counter__c",
		"services_delivered": "Services_Delivered__c",
		"outcome":            "Outcome__c",
		"steps":              "Steps_Summary__c",

		// The satisfaction survey's answer (hub.Rating).
		"satisfaction":        "Satisfaction__c",
		"satisfaction_reason": "Satisfaction_Reason__c",
		"fiscal_code":         "Codice_Fiscale__c",
		"case_id":             "Case_Id__c",
	}
}

func str(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func timeVal(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return t.Format(time.RFC3339)
}

// omitValue is what a field getter returns to leave the CRM's value as it
// is: the fiscal code and name of a visit after the hub reduced them to a
// hash (the CRM has them; a null would erase them there).
type omitValue struct{}

func isOmit(v any) bool { _, ok := v.(omitValue); return ok }

// reduced reports whether the visit's personal data were reduced to a
// hash after delivery.
func reduced(t *hub.Ticket) bool {
	return t.Citizen != nil && t.Citizen.FiscalCode == "" && t.Citizen.Name == ""
}

func fiscalCode(t *hub.Ticket) any {
	switch {
	case t.Citizen == nil:
		return nil
	case reduced(t):
		return omitValue{}
	}
	return str(t.Citizen.FiscalCode)
}

func citizenName(t *hub.Ticket) any {
	switch {
	case t.Citizen == nil:
		return nil
	case reduced(t):
		return omitValue{}
	}
	return str(t.Citizen.Name)
}

func list(s []string) any {
	if len(s) == 0 {
		return nil
	}
	return strings.Join(s, ";") // the multi-select picklist format
}

// rating reads a field of the visit's rating, null while there is none.
func rating(t *hub.Ticket, f func(r *hub.Rating) any) any {
	if t.Rating == nil {
		return nil
	}
	return f(t.Rating)
}

// visitFields are the fields a visit can be mapped to. Those marked
// optIn are never in DefaultFields.
var visitFields = map[string]struct {
	get   func(t *hub.Ticket) any
	optIn bool
}{
	"number":             {get: func(t *hub.Ticket) any { return str(t.Number) }},
	"service":            {get: func(t *hub.Ticket) any { return str(t.Service) }},
	"status":             {get: func(t *hub.Ticket) any { return str(string(t.Status)) }},
	"channel":            {get: func(t *hub.Ticket) any { return str(string(t.Channel)) }},
	"day":                {get: func(t *hub.Ticket) any { return str(t.Day) }},
	"issued_at":          {get: func(t *hub.Ticket) any { return timeVal(&t.IssuedAt) }},
	"called_at":          {get: func(t *hub.Ticket) any { return timeVal(t.CalledAt) }},
	"closed_at":          {get: func(t *hub.Ticket) any { return timeVal(t.ClosedAt) }},
	"counter":            {get: func(t *hub.Ticket) any { return str(t.Counter) }},
	"services_delivered": {get: func(t *hub.Ticket) any { return list(t.Delivered) }},
	"outcome":            {get: func(t *hub.Ticket) any { return str(t.Outcome) }},
	"steps":              {get: func(t *hub.Ticket) any { return str(StepsSummary(t)) }},
	"steps_count":        {get: func(t *hub.Ticket) any { return len(t.Steps) }},
	"recalls":            {get: func(t *hub.Ticket) any { return t.Recalls }},
	"requested":          {get: func(t *hub.Ticket) any { return list(t.Requested) }},
	"appointment":        {get: func(t *hub.Ticket) any { return str(t.Appointment) }},
	"slot":               {get: func(t *hub.Ticket) any { return timeVal(t.Slot) }},
	"case_id":            {get: func(t *hub.Ticket) any { return str(t.CaseID) }},
	"fiscal_code":        {get: fiscalCode},
	"citizen_name":       {get: citizenName, optIn: true},
	"priority":           {get: func(t *hub.Ticket) any { return str(string(t.Prio)) }, optIn: true},
	"notes":              {get: func(t *hub.Ticket) any { return str(t.Notes) }, optIn: true},

	// The survey's answer: score and reason by default, the free-text
	// comment only when configured.
	"satisfaction":         {get: func(t *hub.Ticket) any { return rating(t, func(r *hub.Rating) any { return r.Score }) }},
	"satisfaction_reason":  {get: func(t *hub.Ticket) any { return rating(t, func(r *hub.Rating) any { return str(r.Reason) }) }},
	"satisfaction_comment": {get: func(t *hub.Ticket) any { return rating(t, func(r *hub.Rating) any { return str(r.Comment) }) }, optIn: true},

	"clerk": {get: func(t *hub.Ticket) any {
		if n := len(t.Steps); n > 0 {
			return str(t.Steps[n-1].ClerkID)
		}
		return nil
	}, optIn: true},
}

// VisitFieldNames lists the names Mapping.Fields accepts (besides
// "ticket.NAME"), sorted.
func VisitFieldNames() []string {
	out := make([]string, 0, len(visitFields))
	for k := range visitFields {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (m Mapping) withDefaults() Mapping {
	d := DefaultMapping()
	if m.Object == "" {
		m.Object = d.Object
	}
	if m.ExtIDField == "" {
		m.ExtIDField = d.ExtIDField
	}
	if m.APIVersion == "" {
		m.APIVersion = d.APIVersion
	}
	if m.Fields == nil {
		m.Fields = d.Fields
	}
	if m.SeqField == "" {
		m.SeqField = d.SeqField
	}
	return m
}

// VersionField returns the CRM field of the version, "" when none is sent.
func (m Mapping) VersionField() string {
	m = m.withDefaults()
	if m.SeqField == NoSeqField {
		return ""
	}
	return m.SeqField
}

// Validate checks the mapping: known field names, no CRM field twice, and
// neither Id nor the external-id field in the body.
func (m Mapping) Validate() error {
	m = m.withDefaults()
	seen := map[string]string{}
	if v := m.VersionField(); v != "" {
		if strings.EqualFold(v, "Id") || strings.EqualFold(v, m.ExtIDField) {
			return fmt.Errorf("crmsync: mapping: the version field %q must not be Id or the external-id field", v)
		}
		seen[strings.ToLower(v)] = "the version (SeqField)"
	}
	for ours, theirs := range m.Fields {
		if _, ok := visitFields[ours]; !ok && !(strings.HasPrefix(ours, "ticket.") && len(ours) > len("ticket.")) {
			return fmt.Errorf("crmsync: mapping: unknown visit field %q (known: %s, or ticket.NAME)", ours, strings.Join(VisitFieldNames(), ", "))
		}
		if theirs == "" {
			return fmt.Errorf("crmsync: mapping: visit field %q has no CRM field name", ours)
		}
		if strings.EqualFold(theirs, "Id") || strings.EqualFold(theirs, m.ExtIDField) {
			return fmt.Errorf("crmsync: mapping: %q must not be in the upsert body (it is in the URL)", theirs)
		}
		if o, dup := seen[strings.ToLower(theirs)]; dup {
			return fmt.Errorf("crmsync: mapping: CRM field %q is mapped from both %q and %q", theirs, o, ours)
		}
		seen[strings.ToLower(theirs)] = ours
	}
	return nil
}

// VisitFields maps a visit to the CRM fields of m: the full current state
// (absent values as null, so a field that was cleared is cleared in the
// CRM too), without the version (UpsertFields adds it).
func (m Mapping) VisitFields(t *hub.Ticket) map[string]any {
	m = m.withDefaults()
	out := make(map[string]any, len(m.Fields))
	var raw map[string]json.RawMessage
	for ours, theirs := range m.Fields {
		if f, ok := visitFields[ours]; ok {
			if v := f.get(t); !isOmit(v) {
				out[theirs] = v
			}
			continue
		}
		name := strings.TrimPrefix(ours, "ticket.")
		if name == "citizen" && reduced(t) {
			continue
		}
		if raw == nil {
			b, _ := json.Marshal(t)
			_ = json.Unmarshal(b, &raw)
		}
		v, ok := raw[name]
		if !ok {
			continue
		}
		switch s := string(bytes.TrimSpace(v)); s {
		case "null", `""`, "[]", "{}", "false", "0":
			continue
		}
		var x any
		if json.Unmarshal(v, &x) == nil {
			out[theirs] = x
		}
	}
	return out
}

// UpsertFields is the body of the upsert of a visit's state whose
// version is seq: VisitFields plus the version field (when the mapping
// has one and seq is known).
func (m Mapping) UpsertFields(t *hub.Ticket, seq uint64) map[string]any {
	out := m.VisitFields(t)
	if v := m.VersionField(); v != "" && seq > 0 {
		out[v] = seq
	}
	return out
}

// StepsSummary is a one-line account of a visit's passages at the
// counters, e.g. "1 certificati @4 called 09:02:10 started 09:03:00 ended
// 09:12:30 finished outcome=ok".
func StepsSummary(t *hub.Ticket) string {
	parts := make([]string, 0, len(t.Steps))
	hm := func(x time.Time) string { return x.Format("15:04:05") }
	for i, s := range t.Steps {
		var b strings.Builder
		b.WriteString(strconv.Itoa(i + 1))
		b.WriteString(" " + s.Service + " @" + s.Counter + " called " + hm(s.CalledAt))
		if s.Recalls > 0 {
			b.WriteString(" recalls=" + strconv.Itoa(s.Recalls))
		}
		if s.StartedAt != nil {
			b.WriteString(" started " + hm(*s.StartedAt))
		}
		if s.EndedAt != nil {
			b.WriteString(" ended " + hm(*s.EndedAt))
		}
		if s.EndedBy != "" {
			b.WriteString(" " + s.EndedBy)
		}
		if s.TransferTo != "" {
			b.WriteString(" to=" + s.TransferTo)
		}
		if s.Outcome != "" {
			b.WriteString(" outcome=" + s.Outcome)
		}
		if len(s.Delivered) > 0 {
			b.WriteString(" delivered=" + strings.Join(s.Delivered, ","))
		}
		parts = append(parts, b.String())
	}
	return strings.Join(parts, "; ")
}

// normalize turns a value into what JSON decoding gives back (numbers as
// json.Number), so that ours and the CRM's compare equal when they are.
func normalize(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if dec.Decode(&out) != nil {
		return v
	}
	return out
}

// diffFields returns the CRM field names whose value in have differs from
// want (fields in have that we do not map are ignored: CRM-side data).
func diffFields(want, have map[string]any) []string {
	var out []string
	for k, w := range want {
		h, ok := have[k]
		if !ok {
			if w == nil {
				continue // never set, and null on our side
			}
			out = append(out, k)
			continue
		}
		if !reflect.DeepEqual(normalize(w), normalize(h)) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
