package printer

import (
	"fmt"
	"strings"
	"time"
)

// Ticket is what a paper (or PDF) ticket shows. It holds no personal data:
// the number, the service and the tracking link are all a citizen needs.
type Ticket struct {
	Comune, Office string
	Number         string
	// Service is the service's Italian name, ServiceEN its English one.
	Service, ServiceEN string
	// IssuedAt is printed as given; the agent passes it in Europe/Rome.
	IssuedAt time.Time
	// Position is 1 for the next ticket to be called; 0 or less omits it.
	Position int
	// EWTMin is the estimated wait in minutes; less than 0 omits it.
	EWTMin int
	// TrackURL is the citizen's tracking page, printed as a QR code.
	TrackURL string
	// Privacy replaces the default privacy line when not empty.
	Privacy string
	// Lang is the language the citizen chose at the totem ("it" or "en"):
	// it comes first, the other follows.
	Lang string
}

// DefaultPrivacy is printed at the foot of every ticket unless
// Ticket.Privacy replaces it.
const DefaultPrivacy = "Nessun dato personale è stampato su questo biglietto / No personal data on this ticket"

// bilingual holds one label in both languages.
type bilingual struct{ it, en string }

func (b bilingual) in(lang string) string {
	if lang == "en" {
		return b.en
	}
	return b.it
}

var (
	labelNumber   = bilingual{"Il suo numero", "Your number"}
	labelIssued   = bilingual{"Emesso il %s alle %s", "Issued on %s at %s"}
	labelPosition = bilingual{"Posizione in coda: %d", "Queue position: %d"}
	labelWait     = bilingual{"Attesa stimata: %d min", "Estimated wait: %d min"}
	labelWaitNone = bilingual{"Attesa stimata: meno di 1 min", "Estimated wait: under 1 min"}
	labelTrack    = bilingual{"Segua il turno dal telefono", "Follow your turn on your phone"}
)

// langs returns the primary and secondary language of a ticket.
func langs(lang string) [2]string {
	if strings.EqualFold(lang, "en") {
		return [2]string{"en", "it"}
	}
	return [2]string{"it", "en"}
}

// Layout returns the ESC/POS job of one ticket for profile p. The same
// ticket and profile always give the same bytes.
func Layout(t Ticket, p Profile) []byte {
	e := NewEncoder(p)
	p = e.p
	ls := langs(t.Lang)
	cols := p.Columns

	// wrapped prints s centred over as many lines as it needs at width w
	// (the character width multiplier in force).
	wrapped := func(s string, w int) {
		for _, l := range wrap(s, cols/w) {
			e.Line(l)
		}
	}

	e.Init().Align(AlignCenter)
	if t.Comune != "" {
		e.Bold(true)
		wrapped(t.Comune, 1)
		e.Bold(false)
	}
	if t.Office != "" {
		wrapped(t.Office, 1)
	}
	e.Line("")
	e.Line(labelNumber.in(ls[0]) + " / " + labelNumber.in(ls[1]))
	e.Size(4, 4).Bold(true)
	wrapped(t.Number, 4)
	e.Bold(false).Size(1, 1)
	e.Line("")

	services := map[string]string{"it": t.Service, "en": t.ServiceEN}
	e.Bold(true)
	first := services[ls[0]]
	if first == "" {
		first = services[ls[1]]
	}
	wrapped(first, 1)
	e.Bold(false)
	if second := services[ls[1]]; second != "" && second != first {
		wrapped(second, 1)
	}
	e.Line("")

	if !t.IssuedAt.IsZero() {
		day, hm := t.IssuedAt.Format("02/01/2006"), t.IssuedAt.Format("15:04")
		for _, l := range ls {
			wrapped(fmt.Sprintf(labelIssued.in(l), day, hm), 1)
		}
	}
	if t.Position > 0 {
		for _, l := range ls {
			wrapped(fmt.Sprintf(labelPosition.in(l), t.Position), 1)
		}
	}
	if t.EWTMin == 0 {
		for _, l := range ls {
			wrapped(labelWaitNone.in(l), 1)
		}
	} else if t.EWTMin > 0 {
		for _, l := range ls {
			wrapped(fmt.Sprintf(labelWait.in(l), t.EWTMin), 1)
		}
	}

	if t.TrackURL != "" {
		e.QR(t.TrackURL)
		for _, l := range ls {
			wrapped(labelTrack.in(l), 1)
		}
	}

	privacy := t.Privacy
	if privacy == "" {
		privacy = DefaultPrivacy
	}
	e.Line("")
	wrapped(privacy, 1)
	e.Cut()
	return e.Bytes()
}

// wrap splits s into lines of at most width characters, at spaces when it
// can, so that centred lines stay centred instead of being broken by the
// printer mid-word.
func wrap(s string, width int) []string {
	if width < 1 {
		width = 1
	}
	var lines []string
	var cur []rune
	for _, word := range strings.Fields(s) {
		w := []rune(word)
		for len(w) > 0 {
			switch {
			case len(cur) == 0 && len(w) <= width:
				cur, w = append(cur, w...), nil
			case len(cur) > 0 && len(cur)+1+len(w) <= width:
				cur = append(append(cur, ' '), w...)
				w = nil
			case len(cur) > 0:
				lines, cur = append(lines, string(cur)), nil
			default: // a word longer than a line
				lines, w = append(lines, string(w[:width])), w[width:]
			}
		}
	}
	if len(cur) > 0 || len(lines) == 0 {
		lines = append(lines, string(cur))
	}
	return lines
}
