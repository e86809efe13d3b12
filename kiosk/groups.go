package kiosk

import "github.com/comune-rc/sportello/hub"

// Group is a set of services as a citizen thinks of them ("I need a
// document", "it's about water"), not as the office is organised.
type Group struct {
	ID          string
	Name        hub.Text
	Description hub.Text
	Services    []hub.Service
}

// groupDefs are the groups in the order the totem shows them.
var groupDefs = []Group{
	{ID: "documenti",
		Name:        hub.Text{IT: "Documenti e certificati", EN: "Documents and certificates"},
		Description: hub.Text{IT: "Certificati, carta d'identità, tessera elettorale, consegna di documenti.", EN: "Certificates, identity card, voter card, handing in documents."}},
	{ID: "famiglia",
		Name:        hub.Text{IT: "Residenza e famiglia", EN: "Residence and family"},
		Description: hub.Text{IT: "Cambio di residenza o indirizzo, nascite, matrimoni, decessi.", EN: "Change of residence or address, births, marriages, deaths."}},
	{ID: "tasse",
		Name:        hub.Text{IT: "Tasse e pagamenti", EN: "Taxes and payments"},
		Description: hub.Text{IT: "TARI, IMU: avvisi, pagamenti, rate e rimborsi.", EN: "Waste and property tax: notices, payments, instalments, refunds."}},
	{ID: "acqua",
		Name:        hub.Text{IT: "Acqua", EN: "Water"},
		Description: hub.Text{IT: "Contratti, volture, bollette e contatore dell'acqua.", EN: "Water contracts, transfers, bills and meter."}},
	{ID: "informazioni",
		Name:        hub.Text{IT: "Informazioni", EN: "Information"},
		Description: hub.Text{IT: "Domande su uffici, orari, documenti e pratiche.", EN: "Questions about offices, hours, documents and procedures."}},
	{ID: "segnalazioni",
		Name:        hub.Text{IT: "Segnalazioni e reclami", EN: "Reports and complaints"},
		Description: hub.Text{IT: "Un problema in città o un reclamo: parlane con un operatore.", EN: "A problem in town or a complaint: talk to a clerk."}},
	{ID: "consulenze",
		Name:        hub.Text{IT: "Consulenze e colloqui", EN: "Advice and meetings"},
		Description: hub.Text{IT: "Colloqui in stanza: servizi sociali, consulenza tributaria, imprese.", EN: "Meetings in a room: social services, tax advice, businesses."}},
}

// serviceGroup places the built-in services; services of other sites fall
// back by category (and room services go to the consultations).
var serviceGroup = map[string]string{
	"certificati":           "documenti",
	"cie":                   "documenti",
	"elettorale":            "documenti",
	"protocollo":            "documenti",
	"residenza":             "famiglia",
	"stato_civile":          "famiglia",
	"tributi":               "tasse",
	"idrico":                "acqua",
	"informazioni":          "informazioni",
	"segnalazioni":          "segnalazioni",
	"servizi_sociali":       "consulenze",
	"consulenza_tributaria": "consulenze",
	"suap":                  "consulenze",
}

// GroupOf returns the group id of a service.
func GroupOf(sv hub.Service) string {
	if g, ok := serviceGroup[sv.ID]; ok {
		return g
	}
	switch {
	case sv.Room:
		return "consulenze"
	case sv.Category == hub.Segnalazione:
		return "segnalazioni"
	case sv.Category == hub.Informativo:
		return "informazioni"
	}
	return "documenti"
}

// Groups returns the site's services grouped, in group order then
// catalogue order; groups without services are left out.
func Groups(site *hub.Site) []Group {
	by := map[string][]hub.Service{}
	for _, sv := range site.Services {
		if sv.Inactive {
			continue // switched off on the admin page: no new tickets
		}
		g := GroupOf(sv)
		by[g] = append(by[g], sv)
	}
	var out []Group
	for _, g := range groupDefs {
		if len(by[g.ID]) == 0 {
			continue
		}
		g.Services = by[g.ID]
		out = append(out, g)
	}
	return out
}

// choice is one button of a list the totem offers.
type choice struct {
	Value string
	Label hub.Text
	Hint  hub.Text
}

// priorityChoices are the categories of hub.Priorities except "none",
// which is the big "No" button of the step.
var priorityChoices = []choice{
	{Value: string(hub.PriorityDisability),
		Label: hub.Text{IT: "Disabilità (L. 104/1992)", EN: "Disability (Law 104/1992)"},
		Hint:  hub.Text{IT: "Persona con disabilità o suo accompagnatore.", EN: "A person with a disability or their companion."}},
	{Value: string(hub.PriorityPregnancy),
		Label: hub.Text{IT: "Gravidanza", EN: "Pregnancy"},
		Hint:  hub.Text{IT: "Donna in stato di gravidanza.", EN: "A pregnant woman."}},
	{Value: string(hub.PriorityElderly),
		Label: hub.Text{IT: "Persona anziana", EN: "Older person"},
		Hint:  hub.Text{IT: "Persona anziana o con difficoltà a restare in attesa.", EN: "An older person, or someone who cannot wait long."}},
	{Value: string(hub.PriorityOther),
		Label: hub.Text{IT: "Altro motivo", EN: "Other reason"},
		Hint:  hub.Text{IT: "Ad esempio un genitore con un bambino piccolo.", EN: "For example a parent with a small child."}},
}

// reportKinds are the two kinds of report.
var reportKinds = []choice{
	{Value: "segnalazione",
		Label: hub.Text{IT: "Segnalazione", EN: "Report a problem"},
		Hint:  hub.Text{IT: "Un problema in città: una buca, un lampione spento, rifiuti.", EN: "A problem in town: a pothole, a broken street light, waste."}},
	{Value: "reclamo",
		Label: hub.Text{IT: "Reclamo", EN: "Complaint"},
		Hint:  hub.Text{IT: "Non sei soddisfatto di un servizio del Comune.", EN: "You are not satisfied with a service of the Comune."}},
}

// topicLabels name hub.ReportTopics.
var topicLabels = map[string]hub.Text{
	"strade":        {IT: "Strade e marciapiedi", EN: "Roads and pavements"},
	"illuminazione": {IT: "Illuminazione pubblica", EN: "Street lighting"},
	"rifiuti":       {IT: "Rifiuti e pulizia", EN: "Waste and cleaning"},
	"verde":         {IT: "Verde pubblico e parchi", EN: "Parks and green areas"},
	"acqua":         {IT: "Acqua e fognature", EN: "Water and sewers"},
	"servizi":       {IT: "Un servizio del Comune", EN: "A service of the Comune"},
	"personale":     {IT: "Comportamento del personale", EN: "Staff behaviour"},
	"altro":         {IT: "Altro", EN: "Other"},
}

func reportTopics() []choice {
	out := make([]choice, 0, len(hub.ReportTopics))
	for _, t := range hub.ReportTopics {
		l, ok := topicLabels[t]
		if !ok {
			l = hub.Text{IT: t, EN: t}
		}
		out = append(out, choice{Value: t, Label: l})
	}
	return out
}
