package hub

import (
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var updateSiteExample = flag.Bool("update-site-example", false, "rewrite docs/site-example.yaml from BuiltinSite")

// testSiteYAML is a small valid site file; the invalid cases below edit
// one line of it, so their expected line numbers refer to this listing.
const testSiteYAML = `id: test
name:
  it: Ufficio di prova
  en: Test office
comune: Comune di Prova
timezone: Europe/Rome
seats: 10
services:
  - id: certificati
    prefix: A
    name: {it: Certificati, en: Certificates}
    description: {it: Certificati anagrafici., en: Registry certificates.}
    category: dispositivo
    target_wait_min: 15
    service_time_min: 5.5
  - id: sociali
    prefix: W
    name: {it: Servizi sociali}
    category: informativo
    target_wait_min: 30
    service_time_min: 30
    room: true
counters:
  - id: 1
    name: {it: Sportello 1}
    services: [certificati]
  - id: R1
    kind: room
    name: {it: Stanza 1, en: Room 1}
    services: [sociali]
totems:
  - id: totem-1
    name: Totem ingresso
displays:
  - id: "1"
    name: Sala
    counters: ["1", R1]
    services: [certificati]
`

func TestParseSiteValid(t *testing.T) {
	s, err := ParseSite("t.yaml", []byte(testSiteYAML))
	require.NoError(t, err)
	want := &Site{
		ID:       "test",
		Name:     Text{IT: "Ufficio di prova", EN: "Test office"},
		Comune:   "Comune di Prova",
		Timezone: "Europe/Rome",
		Seats:    10,
		Services: []Service{
			{
				ID: "certificati", Prefix: "A", Category: Dispositivo,
				Name:        Text{IT: "Certificati", EN: "Certificates"},
				Description: Text{IT: "Certificati anagrafici.", EN: "Registry certificates."},
				TargetWait:  15 * time.Minute, ServiceTime: 5*time.Minute + 30*time.Second,
			},
			{
				ID: "sociali", Prefix: "W", Category: Informativo, Room: true,
				Name:       Text{IT: "Servizi sociali", EN: "Servizi sociali"},
				TargetWait: 30 * time.Minute, ServiceTime: 30 * time.Minute,
			},
		},
		Counters: []CounterDef{
			{ID: "1", Kind: KindCounter, Name: Text{IT: "Sportello 1", EN: "Sportello 1"}, Services: []string{"certificati"}},
			{ID: "R1", Kind: KindRoom, Name: Text{IT: "Stanza 1", EN: "Room 1"}, Services: []string{"sociali"}},
		},
		Totems:   []TotemDef{{ID: "totem-1", Name: "Totem ingresso"}},
		Displays: []DisplayDef{{ID: "1", Name: "Sala", Counters: []string{"1", "R1"}, Services: []string{"certificati"}}},
	}
	require.Equal(t, want, s)
}

func TestParseSiteDefaultsAndAliases(t *testing.T) {
	// Omitted timezone and kind take their defaults, null means omitted,
	// and anchors/aliases may share a skill profile.
	data := strings.NewReplacer(
		"timezone: Europe/Rome\n", "",
		"    description: {it: Certificati anagrafici., en: Registry certificates.}\n", "    description:\n",
		"    services: [certificati]\n", "    services: &desk [certificati]\n",
		"totems:\n", "  - {id: 2, name: {it: Sportello 2}, services: *desk}\ntotems:\n",
	).Replace(testSiteYAML)
	s, err := ParseSite("t.yaml", []byte(data))
	require.NoError(t, err)
	require.Equal(t, "Europe/Rome", s.Timezone)
	require.Equal(t, Text{}, s.Services[0].Description)
	require.Equal(t, KindCounter, s.Counters[2].Kind)
	require.Equal(t, []string{"certificati"}, s.Counters[2].Services)
}

func TestParseSiteInvalid(t *testing.T) {
	extraService := "  - id: extra\n    prefix: X\n    name: {it: Extra}\n    category: informativo\n" +
		"    target_wait_min: 5\n    service_time_min: 5\ncounters:\n"
	tests := []struct {
		name     string
		old, new string // edit of testSiteYAML; old "" means new is the whole file
		line     int    // 0: no line in the message
		field    string
		msg      string
	}{
		// Files that are not a site at all.
		{name: "empty", new: "", msg: "the file is empty"},
		{name: "only comments", new: "# nothing here\n", msg: "the file is empty"},
		{name: "null document", new: "---\n~\n", line: 2, msg: "the file is empty"},
		{name: "root list", new: "- id: test\n", line: 1, msg: "the top level must be a mapping of keys (id, name, comune, timezone, seats, services, counters, totems, displays, breaks), found a list"},
		{name: "root scalar", new: "hello\n", line: 1, msg: `found the text "hello"`},
		{name: "two documents", new: testSiteYAML + "---\nid: other\n", line: 39, msg: "a second YAML document starts here"},
		{name: "syntax error", old: "    prefix: A\n", new: "    prefix: A\n   category: x\n", line: 8, msg: "YAML syntax error: did not find expected '-' indicator"},
		{name: "tab indentation", old: "seats: 10\n", new: "seats: 10\n\tfoo: 1\n", line: 7, msg: "YAML syntax error: found a tab character that violates indentation"},
		{name: "unclosed flow", old: "    services: [sociali]\n", new: "    services: [sociali\n", line: 29, msg: "YAML syntax error: did not find expected ',' or ']'"},

		// The break plan.
		{name: "breaks bad time", old: "seats: 10\n", new: "seats: 10\nbreaks: {length_min: 30, first: \"25:00\", stagger_min: 30, waves: 2}\n", line: 8, field: "breaks.first", msg: `"25:00" is not a time of day: write it as HH:MM`},
		{name: "breaks missing key", old: "seats: 10\n", new: "seats: 10\nbreaks: {length_min: 30, first: \"11:00\", waves: 2}\n", line: 8, field: "breaks", msg: "stagger_min is missing"},
		{name: "breaks no length", old: "seats: 10\n", new: "seats: 10\nbreaks: {length_min: 0, first: \"11:00\", stagger_min: 30, waves: 2}\n", line: 8, field: "breaks.length_min", msg: "must be more than 0 and at most 480 minutes"},
		{name: "breaks no waves", old: "seats: 10\n", new: "seats: 10\nbreaks: {length_min: 30, first: \"11:00\", stagger_min: 30, waves: 0}\n", line: 8, field: "breaks.waves", msg: "must be a whole number from 1 to 1000"},
		{name: "breaks unknown key", old: "seats: 10\n", new: "seats: 10\nbreaks: {length_min: 30, first: \"11:00\", stagger_min: 30, waves: 2, lunch: 1}\n", line: 8, field: "breaks.lunch", msg: `unknown key "lunch"`},
		{name: "breaks a list", old: "seats: 10\n", new: "seats: 10\nbreaks: [30]\n", line: 8, field: "breaks", msg: "must be a mapping of keys (length_min, first, stagger_min, waves)"},

		// Keys and types.
		{name: "unknown top key", old: "seats: 10\n", new: "seats: 10\ncolour: red\n", line: 8, field: "colour", msg: `unknown key "colour" (expected one of: id, name, comune, timezone, seats, services, counters, totems, displays, breaks)`},
		{name: "unknown service key", old: "    prefix: A\n", new: "    prefix: A\n    colour: red\n", line: 11, field: "services[0].colour", msg: `unknown key "colour"`},
		{name: "unknown text key", old: "{it: Certificati, en: Certificates}", new: "{it: Certificati, fr: Certificats}", line: 11, field: "services[0].name.fr", msg: `unknown key "fr" (expected one of: it, en)`},
		{name: "unknown counter key", old: "    kind: room\n", new: "    kind: room\n    floor: 2\n", line: 29, field: "counters[1].floor", msg: `unknown key "floor"`},
		{name: "duplicate key", old: "seats: 10\n", new: "seats: 10\nseats: 11\n", line: 8, field: "seats", msg: `key "seats" appears twice`},
		{name: "complex key", old: "seats: 10\n", new: "seats: 10\n? [a]\n: 1\n", line: 8, msg: "keys must be plain words, found a list"},
		{name: "seats text", old: "seats: 10", new: "seats: many", line: 7, field: "seats", msg: `must be a whole number, found the text "many"`},
		{name: "seats fractional", old: "seats: 10", new: "seats: 1.5", line: 7, field: "seats", msg: "must be a whole number, found the number 1.5"},
		{name: "seats list", old: "seats: 10", new: "seats: [10]", line: 7, field: "seats", msg: "must be a whole number, found a list"},
		{name: "seats huge", old: "seats: 10", new: "seats: 99999999999999999999", line: 7, field: "seats", msg: "must be a whole number, found the number 99999999999999999999"},
		{name: "seats custom tag", old: "seats: 10", new: "seats: !seats 10", line: 7, field: "seats", msg: `must be a whole number, found "10" tagged !seats`},
		{name: "name not a mapping", old: "name:\n  it: Ufficio di prova\n  en: Test office\n", new: "name: Ufficio\n", line: 2, field: "name", msg: `must be a mapping of keys (it, en), found the text "Ufficio"`},
		{name: "name.it number", old: "name: {it: Certificati, en: Certificates}", new: "name: {it: 42, en: Certificates}", line: 11, field: "services[0].name.it", msg: "must be a text, found the number 42"},
		{name: "totems not a list", old: "totems:\n  - id: totem-1\n    name: Totem ingresso\n", new: "totems: {id: totem-1}\n", line: 31, field: "totems", msg: "must be a list, found a mapping"},
		{name: "service not a mapping", old: "  - id: certificati\n", new: "  - certificati\n  - id: certificati\n", line: 9, field: "services[0]", msg: `must be a mapping of keys (id, prefix, name, description, category, target_wait_min, service_time_min, room), found the text "certificati"`},
		{name: "minutes text", old: "target_wait_min: 15", new: "target_wait_min: quindici", line: 14, field: "services[0].target_wait_min", msg: `must be a number of minutes, found the text "quindici"`},
		{name: "minutes nan", old: "target_wait_min: 15", new: "target_wait_min: .nan", line: 14, field: "services[0].target_wait_min", msg: ".nan is not a usable number of minutes"},
		{name: "minutes inf", old: "service_time_min: 5.5", new: "service_time_min: -.inf", line: 15, field: "services[0].service_time_min", msg: "-.inf is not a usable number of minutes"},
		{name: "room not bool", old: "room: true", new: "room: si", line: 22, field: "services[1].room", msg: `must be true or false, found the text "si"`},
		{name: "id bool", old: "id: test", new: "id: true", line: 1, field: "id", msg: "must be an id, found true"},
		{name: "null list item", old: "services: [certificati]", new: "services: [certificati, ~]", line: 26, field: "counters[0].services[1]", msg: "must be an id, found nothing"},

		// Site rules.
		{name: "bad site id", old: "id: test", new: "id: te st", line: 1, field: "id", msg: `"te st" is not a valid id: use 1-32 letters, digits, _ or -`},
		{name: "long site id", old: "id: test", new: "id: " + strings.Repeat("x", 33), line: 1, field: "id", msg: "is not a valid id"},
		{name: "missing site id", old: "id: test\n", new: "", line: 1, field: "id", msg: "is required"},
		{name: "missing site name", old: "  it: Ufficio di prova\n", new: "", line: 2, field: "name.it", msg: "is required"},
		{name: "missing comune", old: "comune: Comune di Prova\n", new: "", line: 1, field: "comune", msg: "is required"},
		{name: "bad timezone", old: "Europe/Rome", new: "Mars/Olympus", line: 6, field: "timezone", msg: `"Mars/Olympus" is not a known time zone (for example: Europe/Rome)`},
		{name: "negative seats", old: "seats: 10", new: "seats: -1", line: 7, field: "seats", msg: "must be 0 or more, found -1"},
		{name: "no services", old: "services:\n", new: "services: []\nold_services:\n", line: 9, field: "old_services", msg: "unknown key"},
		{name: "missing service id", old: "  - id: certificati\n    prefix: A\n", new: "  - prefix: A\n", line: 9, field: "services[0].id", msg: "is required"},
		{name: "duplicate service id", old: "id: sociali", new: "id: certificati", line: 16, field: "services[1].id", msg: `"certificati" is already the id of services[0]`},
		{name: "bad prefix", old: "prefix: A", new: "prefix: a1", line: 10, field: "services[0].prefix", msg: `"a1" is not 1-3 uppercase letters`},
		{name: "long prefix", old: "prefix: A", new: "prefix: ABCD", line: 10, field: "services[0].prefix", msg: `"ABCD" is not 1-3 uppercase letters`},
		{name: "missing prefix", old: "    prefix: W\n", new: "", line: 16, field: "services[1].prefix", msg: "is required"},
		{name: "duplicate prefix", old: "prefix: W", new: "prefix: A", line: 17, field: "services[1].prefix", msg: `"A" is already the prefix of services[0]`},
		{name: "missing service name", old: "name: {it: Servizi sociali}", new: "name: {en: Social services}", line: 18, field: "services[1].name.it", msg: "is required"},
		{name: "blank service name", old: "name: {it: Servizi sociali}", new: "name: {it: \"  \"}", line: 18, field: "services[1].name.it", msg: "is required"},
		{name: "multi-line name", old: "{it: Certificati, en: Certificates}", new: `{it: "Certi\nficati", en: Certificates}`, line: 11, field: "services[0].name.it", msg: "must be a single line without control characters"},
		{name: "long description", old: "{it: Certificati anagrafici., en: Registry certificates.}", new: "{it: Certificati, en: " + strings.Repeat("a", 201) + "}", line: 12, field: "services[0].description.en", msg: "is longer than 200 characters"},
		{name: "bad category", old: "category: informativo", new: "category: altro", line: 19, field: "services[1].category", msg: `"altro" is not a category: use informativo, dispositivo or segnalazione`},
		{name: "missing category", old: "    category: informativo\n", new: "", line: 16, field: "services[1].category", msg: "is required"},
		{name: "zero target wait", old: "target_wait_min: 15", new: "target_wait_min: 0", line: 14, field: "services[0].target_wait_min", msg: "is missing or 0: it must be more than 0 and at most 480 minutes"},
		{name: "missing service time", old: "    service_time_min: 30\n", new: "", line: 16, field: "services[1].service_time_min", msg: "is missing or 0"},
		{name: "target wait too long", old: "target_wait_min: 15", new: "target_wait_min: 480.5", line: 14, field: "services[0].target_wait_min", msg: "480.5 minutes is out of range: it must be more than 0 and at most 480"},
		{name: "negative service time", old: "service_time_min: 5.5", new: "service_time_min: -2", line: 15, field: "services[0].service_time_min", msg: "-2 minutes is out of range"},
		{name: "no counters", old: "counters:\n  - id: 1\n    name: {it: Sportello 1}\n    services: [certificati]\n  - id: R1\n    kind: room\n    name: {it: Stanza 1, en: Room 1}\n    services: [sociali]\n", new: "counters: []\n", line: 23, field: "counters", msg: "at least one counter or room is required"},
		{name: "bad counter id", old: "  - id: 1\n", new: "  - id: sportello.1\n", line: 24, field: "counters[0].id", msg: `"sportello.1" is not a valid id`},
		{name: "duplicate counter id", old: "id: R1", new: "id: 1", line: 27, field: "counters[1].id", msg: `"1" is already the id of counters[0]`},
		{name: "bad kind", old: "kind: room", new: "kind: stanza", line: 28, field: "counters[1].kind", msg: `"stanza" is not a kind: use counter or room`},
		{name: "missing counter name", old: "    name: {it: Sportello 1}\n", new: "", line: 24, field: "counters[0].name.it", msg: "is required"},
		{name: "no counter services", old: "services: [certificati]\n  - id: R1", new: "services: []\n  - id: R1", line: 26, field: "counters[0].services", msg: "must list at least one service id"},
		{name: "missing counter services", old: "    services: [certificati]\n  - id: R1", new: "  - id: R1", line: 24, field: "counters[0].services", msg: "must list at least one service id"},
		{name: "unknown counter service", old: "services: [certificati]\n  - id: R1", new: "services: [certificati, anagrafe]\n  - id: R1", line: 26, field: "counters[0].services[1]", msg: `"anagrafe" is not the id of a service`},
		{name: "counter service twice", old: "services: [certificati]\n  - id: R1", new: "services: [certificati, certificati]\n  - id: R1", line: 26, field: "counters[0].services[1]", msg: `"certificati" is listed twice`},
		{name: "desk serves room service", old: "services: [certificati]\n  - id: R1", new: "services: [certificati, sociali]\n  - id: R1", line: 26, field: "counters[0].services[1]", msg: `"sociali" is a room service (room: true): only a room (kind: room) may serve it`},
		{name: "room serves desk service", old: "services: [sociali]", new: "services:\n      - sociali\n      - certificati", line: 32, field: "counters[1].services[1]", msg: `"certificati" is a desk service: a room (kind: room) may serve only room services (room: true)`},
		{name: "unserved service", old: "counters:\n", new: extraService, line: 23, field: "services[2]", msg: `no counter serves "extra": add it to the services of at least one counter (kind: counter)`},
		{name: "missing totem id", old: "  - id: totem-1\n    name: Totem ingresso\n", new: "  - name: Totem ingresso\n", line: 32, field: "totems[0].id", msg: "is required"},
		{name: "duplicate totem id", old: "    name: Totem ingresso\n", new: "    name: Totem ingresso\n  - id: totem-1\n", line: 34, field: "totems[1].id", msg: `"totem-1" is already the id of totems[0]`},
		{name: "totem name list", old: "name: Totem ingresso", new: "name: [Totem]", line: 33, field: "totems[0].name", msg: "must be a text, found a list"},
		{name: "duplicate display id", old: "R1]\n    services: [certificati]\n", new: "R1]\n    services: [certificati]\n  - id: 1\n", line: 39, field: "displays[1].id", msg: `"1" is already the id of displays[0]`},
		{name: "display unknown counter", old: `counters: ["1", R1]`, new: `counters: ["1", R9]`, line: 37, field: "displays[0].counters[1]", msg: `"R9" is not the id of a counter or room`},
		{name: "display counter twice", old: `counters: ["1", R1]`, new: `counters: ["1", 1]`, line: 37, field: "displays[0].counters[1]", msg: `"1" is listed twice`},
		{name: "display unknown service", old: "R1]\n    services: [certificati]\n", new: "R1]\n    services: [cie]\n", line: 38, field: "displays[0].services[0]", msg: `"cie" is not the id of a service`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.new
			if tt.old != "" {
				require.Contains(t, testSiteYAML, tt.old, "the case must edit the test file")
				data = strings.Replace(testSiteYAML, tt.old, tt.new, 1)
			}
			s, err := ParseSite("t.yaml", []byte(data))
			require.Nil(t, s)
			requireSiteError(t, err, tt.field)
			prefix := "invalid_site: t.yaml: "
			if tt.line > 0 {
				prefix = "invalid_site: t.yaml:" + strconv.Itoa(tt.line) + ": "
			}
			if tt.field != "" {
				prefix += tt.field + ": "
			}
			require.True(t, strings.HasPrefix(err.Error(), prefix), "error %q should start with %q", err.Error(), prefix)
			require.Contains(t, err.Error(), tt.msg)
		})
	}
}

func TestParseSiteNoServices(t *testing.T) {
	data := "id: x\nname: {it: X}\ncomune: Comune di X\nservices: []\ncounters:\n  - {id: 1, name: {it: S1}, services: [a]}\n"
	_, err := ParseSite("t.yaml", []byte(data))
	requireSiteError(t, err, "services")
	require.EqualError(t, err, "invalid_site: t.yaml:4: services: at least one service is required")
}

func TestParseSiteLimits(t *testing.T) {
	t.Run("too large", func(t *testing.T) {
		_, err := ParseSite("t.yaml", make([]byte, maxSiteFileSize+1))
		requireSiteError(t, err, "")
		require.Contains(t, err.Error(), "t.yaml: is larger than")
	})
	t.Run("alias expansion", func(t *testing.T) {
		// 400 counters aliasing one with a 400-item profile: small file,
		// 160,000 nodes once expanded.
		var b strings.Builder
		head, tail, _ := strings.Cut(testSiteYAML, "counters:\n")
		b.WriteString(head + "counters:\n  - &c {id: 9, name: {it: S}, services: [" + strings.Repeat("certificati, ", 399) + "certificati]}\n")
		for range 400 {
			b.WriteString("  - *c\n")
		}
		b.WriteString(tail)
		_, err := ParseSite("t.yaml", []byte(b.String()))
		requireSiteError(t, err, "")
		require.Contains(t, err.Error(), "more than 100000 YAML nodes")
	})
}

func requireSiteError(t *testing.T, err error, field string) {
	t.Helper()
	require.Error(t, err)
	var e *Error
	require.True(t, errors.As(err, &e), "error %T is not a *Error: %v", err, err)
	require.Equal(t, KindInvalid, e.Kind)
	require.Equal(t, "invalid_site", e.Code)
	if field != "" {
		require.Equal(t, field, e.Field)
	}
}

func TestValidate(t *testing.T) {
	require.NoError(t, BuiltinSite().Validate())

	s := BuiltinSite()
	s.Services[3].Prefix = "a1"
	err := s.Validate()
	requireSiteError(t, err, "services[3].prefix")
	require.EqualError(t, err, `invalid_site: services[3].prefix: "a1" is not 1-3 uppercase letters`)

	s = BuiltinSite()
	s.Timezone = ""
	requireSiteError(t, s.Validate(), "timezone")

	s = BuiltinSite()
	s.Counters[0].Kind = ""
	requireSiteError(t, s.Validate(), "counters[0].kind")

	requireSiteError(t, (*Site)(nil).Validate(), "")

	_, err = FormatSiteYAML(s)
	requireSiteError(t, err, "counters[0].kind")
}

func TestBuiltinSite(t *testing.T) {
	s := BuiltinSite()
	require.NoError(t, s.Validate())
	require.Equal(t, "cedir", s.ID)
	require.Equal(t, "Europe/Rome", s.Timezone)
	require.Equal(t, 38, s.Seats)
	require.Equal(t, "Comune di Reggio Calabria", s.Comune)

	for _, id := range []string{"certificati", "cie", "residenza", "stato_civile", "tributi", "idrico",
		"informazioni", "segnalazioni", "servizi_sociali", "consulenza_tributaria"} {
		_, ok := s.Service(id)
		require.True(t, ok, "service %s", id)
	}
	prefixes := map[string]bool{}
	for _, sv := range s.Services {
		require.Regexp(t, `^[A-Z]$`, sv.Prefix, sv.ID)
		require.False(t, prefixes[sv.Prefix], "prefix %s used twice", sv.Prefix)
		prefixes[sv.Prefix] = true
		require.NotEmpty(t, sv.Name.IT, sv.ID)
		require.NotEmpty(t, sv.Name.EN, sv.ID)
		require.NotEmpty(t, sv.Description.IT, sv.ID)
		require.NotEmpty(t, sv.Description.EN, sv.ID)
		require.True(t, sv.Category.Valid(), sv.ID)
		require.GreaterOrEqual(t, sv.TargetWait, 10*time.Minute, sv.ID)
		require.LessOrEqual(t, sv.TargetWait, 30*time.Minute, sv.ID)
		if sv.Room {
			require.GreaterOrEqual(t, sv.ServiceTime, 20*time.Minute, sv.ID)
			require.LessOrEqual(t, sv.ServiceTime, 40*time.Minute, sv.ID)
		} else {
			require.GreaterOrEqual(t, sv.ServiceTime, 4*time.Minute, sv.ID)
			require.LessOrEqual(t, sv.ServiceTime, 20*time.Minute, sv.ID)
		}
	}
	for _, id := range []string{"servizi_sociali", "consulenza_tributaria"} {
		sv, _ := s.Service(id)
		require.True(t, sv.Room, id)
	}

	var desks, rooms []string
	servedBy := map[string]int{}
	generalists := 0
	for _, c := range s.Counters {
		switch c.Kind {
		case KindCounter:
			desks = append(desks, c.ID)
			require.Equal(t, Text{IT: "Sportello " + c.ID, EN: "Desk " + c.ID}, c.Name)
			require.GreaterOrEqual(t, len(c.Services), 2, c.ID)
			require.LessOrEqual(t, len(c.Services), 4, c.ID)
			if len(c.Services) == 4 {
				generalists++
			}
		case KindRoom:
			rooms = append(rooms, c.ID)
			require.Equal(t, Text{IT: "Stanza " + c.ID[1:], EN: "Room " + c.ID[1:]}, c.Name)
			require.GreaterOrEqual(t, len(c.Services), 1, c.ID)
			require.LessOrEqual(t, len(c.Services), 2, c.ID)
		}
		for _, id := range c.Services {
			sv, ok := s.Service(id)
			require.True(t, ok)
			require.Equal(t, c.Kind == KindRoom, sv.Room, "%s serves %s", c.ID, id)
			servedBy[id]++
		}
	}
	require.Equal(t, []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17", "18"}, desks)
	require.Equal(t, []string{"R1", "R2", "R3", "R4", "R5"}, rooms)
	require.Equal(t, 3, generalists)

	heavy := []string{"certificati", "cie", "residenza", "tributi"}
	minHeavy, maxOther := len(s.Counters), 0
	for _, sv := range s.Services {
		require.GreaterOrEqual(t, servedBy[sv.ID], 2, "%s is served by %d", sv.ID, servedBy[sv.ID])
		switch {
		case slices.Contains(heavy, sv.ID):
			minHeavy = min(minHeavy, servedBy[sv.ID])
		case !sv.Room:
			maxOther = max(maxOther, servedBy[sv.ID])
		}
	}
	require.Greater(t, minHeavy, maxOther, "the heavy services are on more desks than the others")

	require.Equal(t, []TotemDef{
		{ID: "totem-1", Name: "Totem 1 — ingresso principale"},
		{ID: "totem-2", Name: "Totem 2 — ingresso principale"},
		{ID: "totem-3", Name: "Totem 3 — sala d'attesa"},
	}, s.Totems)
	require.Len(t, s.Displays, 4)
	require.Empty(t, s.Displays[0].Counters)
	require.Empty(t, s.Displays[1].Counters)

	// Fresh copies: changing one does not change the next.
	s.Services[0].Name.IT = "changed"
	s.Counters[0].Services[0] = "changed"
	require.NoError(t, BuiltinSite().Validate())
}

func TestFormatSiteYAMLRoundTrip(t *testing.T) {
	b, err := FormatSiteYAML(BuiltinSite())
	require.NoError(t, err)
	s, err := ParseSite("builtin.yaml", b)
	require.NoError(t, err)
	require.Equal(t, BuiltinSite(), s)

	// Fractional minutes survive to the nanosecond.
	in := BuiltinSite()
	in.Services[0].ServiceTime = 7*time.Minute + 20*time.Second + 123456789
	in.Services[1].TargetWait = time.Nanosecond
	in.Services[2].TargetWait = 480 * time.Minute
	b, err = FormatSiteYAML(in)
	require.NoError(t, err)
	s, err = ParseSite("builtin.yaml", b)
	require.NoError(t, err)
	require.Equal(t, in, s)
}

// A break plan is read, written back and turned into each desk's break:
// desk k (rooms not counted) at first + ((k − 1) mod waves) × stagger.
func TestSiteBreakPlan(t *testing.T) {
	data := strings.Replace(testSiteYAML, "seats: 10\n", "seats: 10\nbreaks: {length_min: 30, first: \"11:00\", stagger_min: 20, waves: 2}\n", 1)
	data = strings.Replace(data, "  - id: R1\n", "  - id: 2\n    name: {it: Sportello 2}\n    services: [certificati]\n  - id: 3\n    name: {it: Sportello 3}\n    services: [certificati]\n  - id: R1\n", 1)
	s, err := ParseSite("breaks.yaml", []byte(data))
	require.NoError(t, err)
	require.Equal(t, &BreakPlan{Length: 30 * time.Minute, First: 11 * time.Hour, Stagger: 20 * time.Minute, Waves: 2}, s.Breaks)
	require.Equal(t, []PlannedPause{
		{Counter: "1", At: 11 * time.Hour, Length: 30 * time.Minute},
		{Counter: "2", At: 11*time.Hour + 20*time.Minute, Length: 30 * time.Minute},
		{Counter: "3", At: 11 * time.Hour, Length: 30 * time.Minute},
	}, s.PlannedPauses(), "rooms take no break")
	b, err := FormatSiteYAML(s)
	require.NoError(t, err)
	require.Contains(t, string(b), `breaks: {length_min: 30, first: "11:00", stagger_min: 20, waves: 2}`)
	back, err := ParseSite("again.yaml", b)
	require.NoError(t, err)
	require.Equal(t, s, back)
	require.Nil(t, BuiltinSite().PlannedPauses(), "no plan, no planned breaks")
}

func TestLoadSite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "site.yaml")
	require.NoError(t, os.WriteFile(path, []byte(testSiteYAML), 0o600))
	s, err := LoadSite(path)
	require.NoError(t, err)
	require.Equal(t, "test", s.ID)

	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte(strings.Replace(testSiteYAML, "prefix: A", "prefix: a1", 1)), 0o600))
	_, err = LoadSite(bad)
	requireSiteError(t, err, "services[0].prefix")
	require.EqualError(t, err, "invalid_site: "+bad+`:10: services[0].prefix: "a1" is not 1-3 uppercase letters`)

	missing := filepath.Join(dir, "missing.yaml")
	_, err = LoadSite(missing)
	requireSiteError(t, err, "")
	require.ErrorIs(t, err, fs.ErrNotExist)
	require.Contains(t, err.Error(), missing)
}

// TestSiteExample keeps docs/site-example.yaml equal to the built-in site;
// go test ./hub -run TestSiteExample -update-site-example rewrites it.
func TestSiteExample(t *testing.T) {
	const path = "../docs/site-example.yaml"
	want, err := FormatSiteYAML(BuiltinSite())
	require.NoError(t, err)
	if *updateSiteExample {
		require.NoError(t, os.WriteFile(path, want, 0o644))
	}
	s, err := LoadSite(path)
	require.NoError(t, err)
	require.Equal(t, BuiltinSite(), s)
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, string(want), string(got), "docs/site-example.yaml is stale: run go test ./hub -run TestSiteExample -update-site-example")
}

// TestSiteFileDocExample keeps the example in docs/site-file.md loadable.
func TestSiteFileDocExample(t *testing.T) {
	doc, err := os.ReadFile("../docs/site-file.md")
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(doc), "```yaml\n")
	require.True(t, ok, "docs/site-file.md has no yaml example")
	example, _, _ := strings.Cut(rest, "```")
	s, err := ParseSite("site-file.md", []byte(example))
	require.NoError(t, err)
	require.Equal(t, "municipio", s.ID)
}

func FuzzParseSite(f *testing.F) {
	builtin, err := FormatSiteYAML(BuiltinSite())
	require.NoError(f, err)
	f.Add(builtin)
	f.Add([]byte(testSiteYAML))
	for _, seed := range []string{
		"",
		"~",
		"- a\n- b\n",
		"id: [\n",
		"id: x\nname: {it: X}\ncomune: C\nservices: []\n",
		strings.Replace(testSiteYAML, "prefix: A", "prefix: a1", 1),
		strings.Replace(testSiteYAML, "services: [sociali]", "services: &s [*s]", 1),
		strings.Replace(testSiteYAML, "seats: 10", "seats: 10\n---\nid: y", 1),
		"a: &a [*a, *a]\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSite("fuzz.yaml", data)
		if err != nil {
			require.Nil(t, s)
			var e *Error
			require.True(t, errors.As(err, &e), "error %T is not a *Error: %v", err, err)
			require.Equal(t, "invalid_site", e.Code)
			require.Equal(t, KindInvalid, e.Kind)
			return
		}
		require.NoError(t, s.Validate())
		// Whatever parses can be written and read back unchanged.
		b, err := FormatSiteYAML(s)
		require.NoError(t, err)
		back, err := ParseSite("fuzz.yaml", b)
		require.NoError(t, err)
		require.Equal(t, s, back)
	})
}
