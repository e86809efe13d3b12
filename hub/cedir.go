package hub

import (
	"strconv"
	"time"
)

// BuiltinSite returns the Sportello Unico per il Cittadino of the Comune di
// Reggio Calabria at CEDIR, Sala Piramide: the site served when no site file
// is given. Each call builds a fresh value, so callers may change it freely.
//
// The skill profiles follow the load of the office: the heavy services
// (certificati, cie, residenza, tributi) are on five or more desks, every
// other desk service on at least two, and desks 1-3 are generalists that
// absorb peaks.
func BuiltinSite() *Site {
	return &Site{
		ID: "cedir",
		Name: Text{
			IT: "Sportello Unico per il Cittadino — CEDIR, Sala Piramide",
			EN: "Citizen One-Stop Shop — CEDIR, Sala Piramide",
		},
		Comune:   "Comune di Reggio Calabria",
		Timezone: "Europe/Rome",
		Seats:    38,
		Services: cedirServices(),
		Counters: cedirCounters(),
		Totems: []TotemDef{
			{ID: "totem-1", Name: "Totem 1 — ingresso principale"},
			{ID: "totem-2", Name: "Totem 2 — ingresso principale"},
			{ID: "totem-3", Name: "Totem 3 — sala d'attesa"},
		},
		Displays: []DisplayDef{
			{ID: "1", Name: "Schermo 1 — sala d'attesa"},
			{ID: "2", Name: "Schermo 2 — ingresso"},
			{ID: "3", Name: "Schermo 3 — sportelli 1-9",
				Counters: []string{"1", "2", "3", "4", "5", "6", "7", "8", "9"}},
			{ID: "4", Name: "Schermo 4 — stanze",
				Counters: []string{"R1", "R2", "R3", "R4", "R5"}},
		},
	}
}

func cedirServices() []Service {
	const m = time.Minute
	return []Service{
		{
			ID: "certificati", Prefix: "A", Category: Dispositivo,
			Name: Text{IT: "Certificati anagrafici", EN: "Registry certificates"},
			Description: Text{
				IT: "Certificati di residenza, stato di famiglia, nascita e cittadinanza.",
				EN: "Certificates of residence, family status, birth and citizenship.",
			},
			TargetWait: 15 * m, ServiceTime: 5 * m,
		},
		{
			ID: "cie", Prefix: "C", Category: Dispositivo,
			Name: Text{IT: "Carta d'identità elettronica", EN: "Electronic identity card"},
			Description: Text{
				IT: "Richiesta o rinnovo della carta d'identità. Porti una fototessera.",
				EN: "Apply for or renew your identity card. Bring a passport photo.",
			},
			TargetWait: 25 * m, ServiceTime: 15 * m,
		},
		{
			ID: "residenza", Prefix: "R", Category: Dispositivo,
			Name: Text{IT: "Residenza e cambio di indirizzo", EN: "Residence and change of address"},
			Description: Text{
				IT: "Trasferire la residenza a Reggio Calabria o cambiare indirizzo in città.",
				EN: "Move your residence to Reggio Calabria or change address in town.",
			},
			TargetWait: 20 * m, ServiceTime: 15 * m,
		},
		{
			ID: "stato_civile", Prefix: "N", Category: Dispositivo,
			Name: Text{IT: "Stato civile", EN: "Civil status"},
			Description: Text{
				IT: "Nascite, matrimoni, unioni civili e decessi: atti e dichiarazioni.",
				EN: "Births, marriages, civil unions and deaths: records and declarations.",
			},
			TargetWait: 20 * m, ServiceTime: 12 * m,
		},
		{
			ID: "tributi", Prefix: "T", Category: Dispositivo,
			Name: Text{IT: "Tributi: TARI e IMU", EN: "Local taxes: TARI and IMU"},
			Description: Text{
				IT: "Tassa sui rifiuti e IMU: avvisi, pagamenti, rateizzazioni e rimborsi.",
				EN: "Waste tax and property tax: notices, payments, instalments and refunds.",
			},
			TargetWait: 20 * m, ServiceTime: 12 * m,
		},
		{
			ID: "idrico", Prefix: "H", Category: Dispositivo,
			Name: Text{IT: "Servizio idrico", EN: "Water service"},
			Description: Text{
				IT: "Contratti e volture dell'acqua, bollette e lettura del contatore.",
				EN: "Water contracts and transfers, bills and meter readings.",
			},
			TargetWait: 20 * m, ServiceTime: 10 * m,
		},
		{
			ID: "elettorale", Prefix: "E", Category: Dispositivo,
			Name: Text{IT: "Tessera elettorale", EN: "Voter card"},
			Description: Text{
				IT: "Nuova tessera elettorale o duplicato se è piena, persa o rovinata.",
				EN: "New voter card, or a copy if yours is full, lost or damaged.",
			},
			TargetWait: 15 * m, ServiceTime: 5 * m,
		},
		{
			ID: "protocollo", Prefix: "P", Category: Dispositivo,
			Name: Text{IT: "Protocollo: consegna documenti", EN: "Registry office: hand in documents"},
			Description: Text{
				IT: "Consegnare domande, lettere e documenti indirizzati al Comune.",
				EN: "Hand in applications, letters and documents addressed to the Comune.",
			},
			TargetWait: 15 * m, ServiceTime: 6 * m,
		},
		{
			ID: "informazioni", Prefix: "I", Category: Informativo,
			Name: Text{IT: "Informazioni", EN: "Information"},
			Description: Text{
				IT: "Domande su uffici, orari, documenti da portare e pratiche del Comune.",
				EN: "Questions about offices, opening hours, documents to bring and procedures.",
			},
			TargetWait: 10 * m, ServiceTime: 4 * m,
		},
		{
			ID: "segnalazioni", Prefix: "S", Category: Segnalazione,
			Name: Text{IT: "Segnalazioni e reclami", EN: "Reports and complaints"},
			Description: Text{
				IT: "Segnalare un problema in città (strade, luci, rifiuti) o fare un reclamo.",
				EN: "Report a problem in town (roads, lights, waste) or make a complaint.",
			},
			TargetWait: 15 * m, ServiceTime: 6 * m,
		},
		{
			ID: "servizi_sociali", Prefix: "W", Category: Dispositivo, Room: true,
			Name: Text{IT: "Servizi sociali", EN: "Social services"},
			Description: Text{
				IT: "Colloquio con l'assistente sociale per aiuti, contributi e assistenza.",
				EN: "Meet a social worker about support, benefits and care.",
			},
			TargetWait: 30 * m, ServiceTime: 30 * m,
		},
		{
			ID: "consulenza_tributaria", Prefix: "F", Category: Informativo, Room: true,
			Name: Text{IT: "Consulenza tributaria", EN: "Tax advice"},
			Description: Text{
				IT: "Un esperto spiega avvisi di pagamento e accertamenti e come fare ricorso.",
				EN: "An expert helps you understand tax notices, assessments and appeals.",
			},
			TargetWait: 30 * m, ServiceTime: 25 * m,
		},
		{
			ID: "suap", Prefix: "U", Category: Informativo, Room: true,
			Name: Text{IT: "Sportello imprese (SUAP)", EN: "Business desk (SUAP)"},
			Description: Text{
				IT: "Consulenza per aprire o modificare un'attività: negozi, artigiani, locali.",
				EN: "Advice on opening or changing a business: shops, craftsmen, restaurants.",
			},
			TargetWait: 30 * m, ServiceTime: 30 * m,
		},
	}
}

// cedirProfiles are the skill profiles of desks 1-18 in order.
var cedirProfiles = [18][]string{
	{"informazioni", "certificati", "segnalazioni", "protocollo"},
	{"informazioni", "certificati", "elettorale", "protocollo"},
	{"certificati", "residenza", "cie", "stato_civile"},
	{"certificati", "elettorale"},
	{"certificati", "stato_civile"},
	{"cie", "certificati"},
	{"cie", "residenza"},
	{"cie", "residenza"},
	{"cie", "stato_civile"},
	{"residenza", "certificati"},
	{"residenza", "stato_civile"},
	{"tributi", "idrico"},
	{"tributi", "idrico"},
	{"tributi", "segnalazioni"},
	{"tributi", "informazioni"},
	{"idrico", "segnalazioni"},
	{"idrico", "tributi", "protocollo"},
	{"informazioni", "segnalazioni", "protocollo"},
}

// cedirRooms are the profiles of consultation rooms R1-R5 in order.
var cedirRooms = [5][]string{
	{"servizi_sociali"},
	{"servizi_sociali"},
	{"consulenza_tributaria"},
	{"consulenza_tributaria", "suap"},
	{"suap", "servizi_sociali"},
}

func cedirCounters() []CounterDef {
	var cs []CounterDef
	for i, p := range cedirProfiles {
		n := strconv.Itoa(i + 1)
		cs = append(cs, CounterDef{
			ID: n, Kind: KindCounter,
			Name:     Text{IT: "Sportello " + n, EN: "Desk " + n},
			Services: append([]string(nil), p...),
		})
	}
	for i, p := range cedirRooms {
		n := strconv.Itoa(i + 1)
		cs = append(cs, CounterDef{
			ID: "R" + n, Kind: KindRoom,
			Name:     Text{IT: "Stanza " + n, EN: "Room " + n},
			Services: append([]string(nil), p...),
		})
	}
	return cs
}
