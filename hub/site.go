package hub

import "time"

// Category is how the Comune classifies a service: a question, a formal act,
// or a report/complaint. It drives grouping on the totem and CzRM objects.
type Category string

const (
	Informativo  Category = "informativo"
	Dispositivo  Category = "dispositivo"
	Segnalazione Category = "segnalazione"
)

// Valid reports whether c is one of the three categories of the brief.
func (c Category) Valid() bool {
	return c == Informativo || c == Dispositivo || c == Segnalazione
}

// Text is a string in Italian (always present) and English (falls back to
// Italian when missing).
type Text struct {
	IT string `json:"it" yaml:"it"`
	EN string `json:"en" yaml:"en"`
}

// In returns the text in lang ("it" or "en"), falling back to Italian.
func (t Text) In(lang string) string {
	if lang == "en" && t.EN != "" {
		return t.EN
	}
	return t.IT
}

// Service is one line of the catalogue a citizen can take a ticket for.
type Service struct {
	ID          string   `json:"id"`
	Prefix      string   `json:"prefix"`
	Name        Text     `json:"name"`
	Description Text     `json:"description"`
	Category    Category `json:"category"`
	// TargetWait is the service-level target: a ticket should be called
	// within it.
	TargetWait time.Duration `json:"-"`
	// ServiceTime is the typical length of one service, the seed of the
	// waiting-time estimate before the office has history of its own.
	ServiceTime time.Duration `json:"-"`
	// Room marks advisory services delivered in consultation rooms.
	Room bool `json:"room"`
	// Inactive services are kept (their waiting tickets are still served)
	// but take no new tickets or bookings; an admin switches them off
	// instead of deleting them, so past visits keep their service.
	Inactive bool `json:"inactive,omitempty"`
	// NoPriority services refuse priority categories: the ticket is
	// issued in arrival order only (a service by appointment, say).
	NoPriority bool `json:"no_priority,omitempty"`
}

// CounterKind tells a front-office counter from a consultation room.
type CounterKind string

const (
	KindCounter CounterKind = "counter"
	KindRoom    CounterKind = "room"
)

// CounterDef is the static description of a counter or room: which services
// its skill profile allows. The live state is in Counter.
type CounterDef struct {
	ID       string      `json:"id"`
	Kind     CounterKind `json:"kind"`
	Name     Text        `json:"name"`
	Services []string    `json:"services"`
}

// TotemDef is a self-service totem at the entrance.
type TotemDef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// DisplayDef is a waiting-room screen; empty filters mean "everything".
type DisplayDef struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Counters []string `json:"counters,omitempty"`
	Services []string `json:"services,omitempty"`
}

// Site is the whole static description of one office: the catalogue, the
// counters and rooms, and the devices. It is validated once at start and is
// read-only afterwards.
type Site struct {
	ID       string       `json:"id"`
	Name     Text         `json:"name"`
	Comune   string       `json:"comune"`
	Timezone string       `json:"timezone"`
	Seats    int          `json:"seats"`
	Services []Service    `json:"services"`
	Counters []CounterDef `json:"counters"`
	Totems   []TotemDef   `json:"totems"`
	Displays []DisplayDef `json:"displays"`
	// Breaks is the desks' break rota, when the office has one.
	Breaks *BreakPlan `json:"breaks,omitempty"`
}

// Service returns the service with id, or false.
func (s *Site) Service(id string) (Service, bool) {
	for _, sv := range s.Services {
		if sv.ID == id {
			return sv, true
		}
	}
	return Service{}, false
}

// Counter returns the counter or room with id, or false.
func (s *Site) Counter(id string) (CounterDef, bool) {
	for _, c := range s.Counters {
		if c.ID == id {
			return c, true
		}
	}
	return CounterDef{}, false
}

// Location is the site's time zone; days and ticket numbers reset at its
// midnight (Europe/Rome for the built-in site).
func (s *Site) Location() *time.Location {
	loc, err := time.LoadLocation(s.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}
