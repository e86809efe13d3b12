package hub

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Rome must load on totems and slim containers without zoneinfo.
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

const (
	invalidSite = "invalid_site"
	// defaultTimezone is Reggio Calabria's, the Comune this was built for.
	defaultTimezone = "Europe/Rome"
	// maxMinutes bounds target waits and service times: a working day.
	maxMinutes = 480
	// maxSiteText keeps names and descriptions short enough for a screen.
	maxSiteText = 200
	// maxSiteFileSize and maxSiteNodes bound the work on hostile input
	// (aliases can make a small file expand); a real site file is a few
	// kilobytes and a few thousand nodes.
	maxSiteFileSize = 1 << 20
	maxSiteNodes    = 100_000
)

var (
	siteIDRe     = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)
	sitePrefixRe = regexp.MustCompile(`^[A-Z]{1,3}$`)
	yamlLineRe   = regexp.MustCompile(`(?s)^yaml: line (\d+): (.*)$`)
)

// The keys allowed in each mapping, in the order FormatSiteYAML writes them.
var (
	siteKeys    = []string{"id", "name", "comune", "timezone", "seats", "services", "counters", "totems", "displays", "breaks"}
	textKeys    = []string{"it", "en"}
	serviceKeys = []string{"id", "prefix", "name", "description", "category", "target_wait_min", "service_time_min", "room"}
	counterKeys = []string{"id", "kind", "name", "services"}
	totemKeys   = []string{"id", "name"}
	displayKeys = []string{"id", "name", "counters", "services"}
)

// LoadSite reads and parses the site file at path (see ParseSite). A site
// file is a YAML document that replaces the built-in site
// (sportello serve --site FILE). docs/site-file.md explains it for the
// people who write one; docs/site-example.yaml is the built-in site. In
// brief:
//
//	id: cedir                       # 1-32 of A-Z a-z 0-9 _ -
//	name: {it: "…", en: "…"}        # en falls back to it
//	comune: Comune di Reggio Calabria
//	timezone: Europe/Rome           # optional, default Europe/Rome
//	seats: 38                       # seats in the waiting room, >= 0
//	services:                       # at least one
//	  - id: certificati
//	    prefix: A                   # 1-3 uppercase letters, unique
//	    name: {it: "…", en: "…"}
//	    description: {it: "…", en: "…"}   # optional
//	    category: dispositivo       # informativo | dispositivo | segnalazione
//	    target_wait_min: 15         # minutes, > 0 and <= 480, may be fractional
//	    service_time_min: 5         # minutes, > 0 and <= 480, may be fractional
//	    room: false                 # optional; true = served in rooms only
//	counters:                       # at least one
//	  - id: "1"
//	    kind: counter               # counter | room, optional, default counter
//	    name: {it: "Sportello 1", en: "Desk 1"}
//	    services: [certificati, cie]   # desks list desk services, rooms room services
//	totems:                         # optional
//	  - {id: totem-1, name: "…"}
//	displays:                       # optional; empty filters mean everything
//	  - {id: "1", name: "…", counters: ["1", "2"], services: [cie]}
//	breaks:                         # optional: the desks' break rota (BreakPlan)
//	  {length_min: 30, first: "11:00", stagger_min: 30, waves: 6}
//
// Unknown keys, wrong types and broken rules are errors that name the file,
// the line and the field path, because the file is written by hand by the
// office and the first start must say exactly what to fix.
func LoadSite(path string) (*Site, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		// The *os.PathError already names the file.
		return nil, &Error{Kind: KindInvalid, Code: invalidSite, Message: "cannot read the site file", Err: err}
	}
	return ParseSite(path, data)
}

// ParseSite parses and validates a site file; name (usually the path) is
// used in messages. Omitted optional fields get their defaults: timezone
// Europe/Rome, kind counter, and English texts equal to the Italian ones.
// Any error is a *Error with code invalid_site whose message reads
// "FILE:LINE: FIELD: what is wrong".
func ParseSite(name string, data []byte) (*Site, error) {
	if name == "" {
		name = "site file"
	}
	if len(data) > maxSiteFileSize {
		return nil, siteError(name, 0, "", fmt.Sprintf("is larger than %d bytes: a site file is a few kilobytes", maxSiteFileSize))
	}
	root, err := decodeSiteYAML(name, data)
	if err != nil {
		return nil, err
	}
	p := &siteParser{file: name, lines: map[string]int{"": root.Line}}
	s, err := p.site(root)
	if err != nil {
		return nil, err
	}
	s.applyDefaults()
	if pr := s.problem(); pr != nil {
		return nil, siteError(name, p.lineOf(pr.path), pr.path, pr.msg)
	}
	return s, nil
}

// Validate checks the rules of the site file on a site built in code, like
// the built-in one; the error is a *Error with code invalid_site and no line.
func (s *Site) Validate() error {
	if s == nil {
		return siteError("", 0, "", "no site")
	}
	if pr := s.problem(); pr != nil {
		return siteError("", 0, pr.path, pr.msg)
	}
	return nil
}

// FormatSiteYAML writes s as a site file in the documented format, so that
// the built-in site can be exported, edited and read back. It refuses a site
// that does not validate, since the file could not be loaded.
func FormatSiteYAML(s *Site) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	f := siteYAML{ID: s.ID, Name: s.Name, Comune: s.Comune, Timezone: s.Timezone, Seats: s.Seats, Breaks: formatBreaks(s.Breaks)}
	for _, sv := range s.Services {
		f.Services = append(f.Services, serviceYAML{
			ID: sv.ID, Prefix: sv.Prefix, Name: sv.Name, Description: sv.Description,
			Category: string(sv.Category), TargetWait: sv.TargetWait.Minutes(),
			ServiceTime: sv.ServiceTime.Minutes(), Room: sv.Room,
		})
	}
	for _, c := range s.Counters {
		f.Counters = append(f.Counters, counterYAML{ID: c.ID, Kind: string(c.Kind), Name: c.Name, Services: c.Services})
	}
	for _, t := range s.Totems {
		f.Totems = append(f.Totems, totemYAML(t))
	}
	for _, d := range s.Displays {
		f.Displays = append(f.Displays, displayYAML(d))
	}
	var doc yaml.Node
	if err := doc.Encode(&f); err != nil {
		return nil, &Error{Kind: KindInternal, Code: "internal", Message: "cannot encode the site", Err: err}
	}
	doc.HeadComment = "Sportello site file: the services, counters, rooms and devices of one office.\n" +
		"Format: docs/site-file.md. Times are in minutes."
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, &Error{Kind: KindInternal, Code: "internal", Message: "cannot encode the site", Err: err}
	}
	if err := enc.Close(); err != nil {
		return nil, &Error{Kind: KindInternal, Code: "internal", Message: "cannot encode the site", Err: err}
	}
	return buf.Bytes(), nil
}

// The shapes FormatSiteYAML writes; the parser reads the same keys by hand
// so that it can report lines.
type siteYAML struct {
	ID       string        `yaml:"id"`
	Name     Text          `yaml:"name"`
	Comune   string        `yaml:"comune"`
	Timezone string        `yaml:"timezone"`
	Seats    int           `yaml:"seats"`
	Services []serviceYAML `yaml:"services"`
	Counters []counterYAML `yaml:"counters"`
	Totems   []totemYAML   `yaml:"totems,omitempty"`
	Displays []displayYAML `yaml:"displays,omitempty"`
	Breaks   *breaksYAML   `yaml:"breaks,omitempty,flow"`
}

type serviceYAML struct {
	ID          string  `yaml:"id"`
	Prefix      string  `yaml:"prefix"`
	Name        Text    `yaml:"name"`
	Description Text    `yaml:"description,omitempty"`
	Category    string  `yaml:"category"`
	TargetWait  float64 `yaml:"target_wait_min"`
	ServiceTime float64 `yaml:"service_time_min"`
	Room        bool    `yaml:"room"`
}

type counterYAML struct {
	ID       string   `yaml:"id"`
	Kind     string   `yaml:"kind"`
	Name     Text     `yaml:"name"`
	Services []string `yaml:"services,flow"`
}

type totemYAML struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name,omitempty"`
}

type displayYAML struct {
	ID       string   `yaml:"id"`
	Name     string   `yaml:"name,omitempty"`
	Counters []string `yaml:"counters,omitempty,flow"`
	Services []string `yaml:"services,omitempty,flow"`
}

// siteError is the one shape of site errors: "FILE:LINE: FIELD: message",
// leaving out the parts that are unknown.
func siteError(file string, line int, path, msg string) *Error {
	var b strings.Builder
	if file != "" {
		b.WriteString(file)
		if line > 0 {
			b.WriteString(":" + strconv.Itoa(line))
		}
		b.WriteString(": ")
	}
	if path != "" {
		b.WriteString(path + ": ")
	}
	b.WriteString(msg)
	return &Error{Kind: KindInvalid, Code: invalidSite, Field: path, Message: b.String()}
}

// decodeSiteYAML parses data into the root mapping node. yaml.v3 is not
// trusted to never panic on hostile input, so a panic becomes an error too.
func decodeSiteYAML(name string, data []byte) (root *yaml.Node, err *Error) {
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, siteError(name, 0, "", fmt.Sprintf("cannot parse the YAML: %v", r))
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if derr := dec.Decode(&doc); derr != nil {
		if errors.Is(derr, io.EOF) {
			return nil, siteError(name, 0, "", "the file is empty: it must contain id, name, services and counters")
		}
		return nil, yamlSyntaxError(name, derr)
	}
	var extra yaml.Node
	if derr := dec.Decode(&extra); !errors.Is(derr, io.EOF) {
		if derr != nil {
			return nil, yamlSyntaxError(name, derr)
		}
		return nil, siteError(name, extra.Line, "", "a second YAML document starts here: a site file is one document, remove this \"---\" and what follows")
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, siteError(name, doc.Line, "", "the file is empty: it must contain id, name, services and counters")
	}
	root = doc.Content[0]
	if isYAMLNull(root) {
		return nil, siteError(name, root.Line, "", "the file is empty: it must contain id, name, services and counters")
	}
	if root.Kind != yaml.MappingNode {
		return nil, siteError(name, root.Line, "", "the top level must be a mapping of keys ("+strings.Join(siteKeys, ", ")+"), found "+describeYAML(root))
	}
	return root, nil
}

// yamlSyntaxError turns "yaml: line 3: msg" into "FILE:3: YAML syntax error: msg".
func yamlSyntaxError(name string, err error) *Error {
	msg := err.Error()
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return siteError(name, line, "", "YAML syntax error: "+m[2])
	}
	return siteError(name, 0, "", "YAML syntax error: "+strings.TrimPrefix(msg, "yaml: "))
}

// siteParser walks the YAML tree by hand: it checks keys and types itself
// and remembers the line of every field path, so that the rules, which run
// on the parsed Site, can still point at a line.
type siteParser struct {
	file  string
	lines map[string]int
	nodes int
}

func (p *siteParser) site(root *yaml.Node) (*Site, *Error) {
	s := &Site{}
	err := p.mapping(root, "", siteKeys, func(key string, v *yaml.Node, path string) *Error {
		switch key {
		case "id":
			return p.ident(v, path, &s.ID)
		case "name":
			return p.text(v, path, &s.Name)
		case "comune":
			return p.str(v, path, &s.Comune)
		case "timezone":
			return p.str(v, path, &s.Timezone)
		case "seats":
			return p.integer(v, path, &s.Seats)
		case "services":
			return p.list(v, path, func(v *yaml.Node, path string) *Error {
				sv, err := p.service(v, path)
				s.Services = append(s.Services, sv)
				return err
			})
		case "counters":
			return p.list(v, path, func(v *yaml.Node, path string) *Error {
				c, err := p.counter(v, path)
				s.Counters = append(s.Counters, c)
				return err
			})
		case "totems":
			return p.list(v, path, func(v *yaml.Node, path string) *Error {
				var t TotemDef
				err := p.mapping(v, path, totemKeys, func(key string, v *yaml.Node, path string) *Error {
					if key == "id" {
						return p.ident(v, path, &t.ID)
					}
					return p.str(v, path, &t.Name)
				})
				s.Totems = append(s.Totems, t)
				return err
			})
		case "displays":
			return p.list(v, path, func(v *yaml.Node, path string) *Error {
				d, err := p.display(v, path)
				s.Displays = append(s.Displays, d)
				return err
			})
		case "breaks":
			b, err := p.breaks(v, path)
			s.Breaks = b
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (p *siteParser) service(n *yaml.Node, path string) (Service, *Error) {
	var sv Service
	err := p.mapping(n, path, serviceKeys, func(key string, v *yaml.Node, path string) *Error {
		switch key {
		case "id":
			return p.ident(v, path, &sv.ID)
		case "prefix":
			return p.str(v, path, &sv.Prefix)
		case "name":
			return p.text(v, path, &sv.Name)
		case "description":
			return p.text(v, path, &sv.Description)
		case "category":
			return p.str(v, path, (*string)(&sv.Category))
		case "target_wait_min":
			return p.minutes(v, path, &sv.TargetWait)
		case "service_time_min":
			return p.minutes(v, path, &sv.ServiceTime)
		case "room":
			return p.boolean(v, path, &sv.Room)
		}
		return nil
	})
	return sv, err
}

func (p *siteParser) counter(n *yaml.Node, path string) (CounterDef, *Error) {
	var c CounterDef
	err := p.mapping(n, path, counterKeys, func(key string, v *yaml.Node, path string) *Error {
		switch key {
		case "id":
			return p.ident(v, path, &c.ID)
		case "kind":
			return p.str(v, path, (*string)(&c.Kind))
		case "name":
			return p.text(v, path, &c.Name)
		case "services":
			return p.idents(v, path, &c.Services)
		}
		return nil
	})
	return c, err
}

func (p *siteParser) display(n *yaml.Node, path string) (DisplayDef, *Error) {
	var d DisplayDef
	err := p.mapping(n, path, displayKeys, func(key string, v *yaml.Node, path string) *Error {
		switch key {
		case "id":
			return p.ident(v, path, &d.ID)
		case "name":
			return p.str(v, path, &d.Name)
		case "counters":
			return p.idents(v, path, &d.Counters)
		case "services":
			return p.idents(v, path, &d.Services)
		}
		return nil
	})
	return d, err
}

// resolve follows an alias and counts the node against maxSiteNodes.
func (p *siteParser) resolve(n *yaml.Node, path string) (*yaml.Node, *Error) {
	p.nodes++
	if p.nodes > maxSiteNodes {
		return nil, siteError(p.file, n.Line, path, fmt.Sprintf("the file expands to more than %d YAML nodes (too many entries or aliases)", maxSiteNodes))
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n, nil
}

// mapping checks that n is a mapping with only the given keys, each once,
// and calls set for every key whose value is not null (null means omitted).
func (p *siteParser) mapping(n *yaml.Node, path string, keys []string, set func(key string, v *yaml.Node, path string) *Error) *Error {
	n, err := p.resolve(n, path)
	if err != nil {
		return err
	}
	if n.Kind != yaml.MappingNode {
		return p.typeError(n, path, "a mapping of keys ("+strings.Join(keys, ", ")+")")
	}
	seen := make(map[string]bool, len(keys))
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, err := p.resolve(n.Content[i], path)
		if err != nil {
			return err
		}
		if k.Kind != yaml.ScalarNode {
			return siteError(p.file, k.Line, path, "keys must be plain words, found "+describeYAML(k))
		}
		kp := k.Value
		if path != "" {
			kp = path + "." + k.Value
		}
		if !slices.Contains(keys, k.Value) {
			return siteError(p.file, k.Line, kp, fmt.Sprintf("unknown key %q (expected one of: %s)", clip(k.Value), strings.Join(keys, ", ")))
		}
		if seen[k.Value] {
			return siteError(p.file, k.Line, kp, fmt.Sprintf("key %q appears twice", k.Value))
		}
		seen[k.Value] = true
		p.lines[kp] = k.Line
		v, err := p.resolve(n.Content[i+1], kp)
		if err != nil {
			return err
		}
		if isYAMLNull(v) {
			continue
		}
		if err := set(k.Value, v, kp); err != nil {
			return err
		}
	}
	return nil
}

// list checks that n is a list and calls each for every item.
func (p *siteParser) list(n *yaml.Node, path string, each func(v *yaml.Node, path string) *Error) *Error {
	n, err := p.resolve(n, path)
	if err != nil {
		return err
	}
	if n.Kind != yaml.SequenceNode {
		return p.typeError(n, path, "a list")
	}
	for i, item := range n.Content {
		ip := path + "[" + strconv.Itoa(i) + "]"
		p.lines[ip] = item.Line
		v, err := p.resolve(item, ip)
		if err != nil {
			return err
		}
		if err := each(v, ip); err != nil {
			return err
		}
	}
	return nil
}

// scalar returns n if it is a scalar with one of tags, else a type error.
func (p *siteParser) scalar(n *yaml.Node, path, want string, tags ...string) (*yaml.Node, *Error) {
	n, err := p.resolve(n, path)
	if err != nil {
		return nil, err
	}
	if n.Kind != yaml.ScalarNode || !slices.Contains(tags, n.ShortTag()) {
		return nil, p.typeError(n, path, want)
	}
	return n, nil
}

func (p *siteParser) str(n *yaml.Node, path string, dst *string) *Error {
	n, err := p.scalar(n, path, "a text", "!!str")
	if err != nil {
		return err
	}
	*dst = n.Value
	return nil
}

// ident reads an id; a number is taken as written, so `id: 1` is "1".
func (p *siteParser) ident(n *yaml.Node, path string, dst *string) *Error {
	n, err := p.scalar(n, path, "an id", "!!str", "!!int")
	if err != nil {
		return err
	}
	*dst = n.Value
	return nil
}

func (p *siteParser) idents(n *yaml.Node, path string, dst *[]string) *Error {
	return p.list(n, path, func(v *yaml.Node, path string) *Error {
		var id string
		if err := p.ident(v, path, &id); err != nil {
			return err
		}
		*dst = append(*dst, id)
		return nil
	})
}

func (p *siteParser) integer(n *yaml.Node, path string, dst *int) *Error {
	n, err := p.scalar(n, path, "a whole number", "!!int")
	if err != nil {
		return err
	}
	if n.Decode(dst) != nil {
		return siteError(p.file, n.Line, path, clip(n.Value)+" is too large")
	}
	return nil
}

// minutes reads a number of minutes, exact to the nanosecond so that
// FormatSiteYAML and ParseSite round-trip. Only numbers that cannot become
// a Duration are refused here; the range is a rule of problem().
func (p *siteParser) minutes(n *yaml.Node, path string, dst *time.Duration) *Error {
	n, err := p.scalar(n, path, "a number of minutes", "!!int", "!!float")
	if err != nil {
		return err
	}
	var f float64
	if n.Decode(&f) != nil || math.IsNaN(f) || math.Abs(f) > 1e6 {
		return siteError(p.file, n.Line, path, clip(n.Value)+" is not a usable number of minutes")
	}
	*dst = time.Duration(math.Round(f * float64(time.Minute)))
	return nil
}

func (p *siteParser) boolean(n *yaml.Node, path string, dst *bool) *Error {
	n, err := p.scalar(n, path, "true or false", "!!bool")
	if err != nil {
		return err
	}
	if n.Decode(dst) != nil {
		return p.typeError(n, path, "true or false")
	}
	return nil
}

func (p *siteParser) text(n *yaml.Node, path string, dst *Text) *Error {
	return p.mapping(n, path, textKeys, func(key string, v *yaml.Node, path string) *Error {
		if key == "it" {
			return p.str(v, path, &dst.IT)
		}
		return p.str(v, path, &dst.EN)
	})
}

func (p *siteParser) typeError(n *yaml.Node, path, want string) *Error {
	return siteError(p.file, n.Line, path, "must be "+want+", found "+describeYAML(n))
}

// lineOf is the line of path or, for a field that is missing, of the
// nearest enclosing one.
func (p *siteParser) lineOf(path string) int {
	for {
		if l, ok := p.lines[path]; ok {
			return l
		}
		if path == "" {
			return 0
		}
		path = path[:max(strings.LastIndexAny(path, ".["), 0)]
	}
}

func isYAMLNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describeYAML says what a node is, for "must be X, found Y".
func describeYAML(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch tag := n.ShortTag(); tag {
		case "!!str":
			return fmt.Sprintf("the text %q", clip(n.Value))
		case "!!int", "!!float":
			return "the number " + clip(n.Value)
		case "!!bool":
			return clip(n.Value)
		case "!!null":
			return "nothing"
		default:
			return fmt.Sprintf("%q tagged %s", clip(n.Value), clip(tag))
		}
	}
	return "something else"
}

// clip shortens user text quoted in messages.
func clip(s string) string {
	const n = 40
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// applyDefaults fills what a site file may leave out.
func (s *Site) applyDefaults() {
	if s.Timezone == "" {
		s.Timezone = defaultTimezone
	}
	fill := func(t *Text) {
		if t.EN == "" {
			t.EN = t.IT
		}
	}
	fill(&s.Name)
	for i := range s.Services {
		fill(&s.Services[i].Name)
		fill(&s.Services[i].Description)
	}
	for i := range s.Counters {
		if s.Counters[i].Kind == "" {
			s.Counters[i].Kind = KindCounter
		}
		fill(&s.Counters[i].Name)
	}
}

// siteProblem is the first broken rule: the field path, in site-file
// syntax, and what is wrong.
type siteProblem struct{ path, msg string }

func problemf(path, format string, args ...any) *siteProblem {
	return &siteProblem{path: path, msg: fmt.Sprintf(format, args...)}
}

// problem is the one place of the site rules, shared by ParseSite and
// Validate. Rules run in file order, so the first problem is deterministic
// and the one a reader meets first.
func (s *Site) problem() *siteProblem {
	for _, check := range []func() *siteProblem{s.headerProblem, s.serviceProblem, s.counterProblem, s.unservedProblem, s.deviceProblem, s.breakProblem} {
		if pr := check(); pr != nil {
			return pr
		}
	}
	return nil
}

func (s *Site) headerProblem() *siteProblem {
	if pr := idProblem("id", s.ID); pr != nil {
		return pr
	}
	if pr := textProblem("name", s.Name, true); pr != nil {
		return pr
	}
	if strings.TrimSpace(s.Comune) == "" {
		return problemf("comune", "is required (for example: Comune di Reggio Calabria)")
	}
	if pr := lineProblem("comune", s.Comune); pr != nil {
		return pr
	}
	if s.Timezone == "" {
		return problemf("timezone", "is required (for example: %s)", defaultTimezone)
	}
	if _, err := time.LoadLocation(s.Timezone); err != nil {
		return problemf("timezone", "%q is not a known time zone (for example: %s)", clip(s.Timezone), defaultTimezone)
	}
	if s.Seats < 0 {
		return problemf("seats", "must be 0 or more, found %d", s.Seats)
	}
	return nil
}

func (s *Site) serviceProblem() *siteProblem {
	if len(s.Services) == 0 {
		return problemf("services", "at least one service is required")
	}
	ids, prefixes := map[string]int{}, map[string]int{}
	for i, sv := range s.Services {
		at := "services[" + strconv.Itoa(i) + "]"
		if pr := idProblem(at+".id", sv.ID); pr != nil {
			return pr
		}
		if j, dup := ids[sv.ID]; dup {
			return problemf(at+".id", "%q is already the id of services[%d]", sv.ID, j)
		}
		ids[sv.ID] = i
		switch {
		case sv.Prefix == "":
			return problemf(at+".prefix", "is required: 1-3 uppercase letters printed before the ticket number")
		case !sitePrefixRe.MatchString(sv.Prefix):
			return problemf(at+".prefix", "%q is not 1-3 uppercase letters", clip(sv.Prefix))
		}
		if j, dup := prefixes[sv.Prefix]; dup {
			return problemf(at+".prefix", "%q is already the prefix of services[%d]", sv.Prefix, j)
		}
		prefixes[sv.Prefix] = i
		if pr := textProblem(at+".name", sv.Name, true); pr != nil {
			return pr
		}
		if pr := textProblem(at+".description", sv.Description, false); pr != nil {
			return pr
		}
		switch {
		case sv.Category == "":
			return problemf(at+".category", "is required: informativo, dispositivo or segnalazione")
		case !sv.Category.Valid():
			return problemf(at+".category", "%q is not a category: use informativo, dispositivo or segnalazione", clip(string(sv.Category)))
		}
		if pr := minutesProblem(at+".target_wait_min", sv.TargetWait); pr != nil {
			return pr
		}
		if pr := minutesProblem(at+".service_time_min", sv.ServiceTime); pr != nil {
			return pr
		}
	}
	return nil
}

func (s *Site) counterProblem() *siteProblem {
	if len(s.Counters) == 0 {
		return problemf("counters", "at least one counter or room is required")
	}
	services := make(map[string]Service, len(s.Services))
	for _, sv := range s.Services {
		services[sv.ID] = sv
	}
	ids := map[string]int{}
	for i, c := range s.Counters {
		at := "counters[" + strconv.Itoa(i) + "]"
		if pr := idProblem(at+".id", c.ID); pr != nil {
			return pr
		}
		if j, dup := ids[c.ID]; dup {
			return problemf(at+".id", "%q is already the id of counters[%d]", c.ID, j)
		}
		ids[c.ID] = i
		if c.Kind != KindCounter && c.Kind != KindRoom {
			return problemf(at+".kind", "%q is not a kind: use counter or room", clip(string(c.Kind)))
		}
		if pr := textProblem(at+".name", c.Name, true); pr != nil {
			return pr
		}
		if len(c.Services) == 0 {
			return problemf(at+".services", "must list at least one service id")
		}
		listed := make(map[string]bool, len(c.Services))
		for j, id := range c.Services {
			sat := at + ".services[" + strconv.Itoa(j) + "]"
			sv, ok := services[id]
			switch {
			case !ok:
				return problemf(sat, "%q is not the id of a service", clip(id))
			case listed[id]:
				return problemf(sat, "%q is listed twice", id)
			case sv.Room && c.Kind != KindRoom:
				return problemf(sat, "%q is a room service (room: true): only a room (kind: room) may serve it", id)
			case !sv.Room && c.Kind == KindRoom:
				return problemf(sat, "%q is a desk service: a room (kind: room) may serve only room services (room: true)", id)
			}
			listed[id] = true
		}
	}
	return nil
}

// unservedProblem is the site file's rule that every service has a place
// to be served. It is separate because the admin catalogue may hold a
// service for a moment before a counter takes it (see SaveService).
func (s *Site) unservedProblem() *siteProblem {
	served := map[string]bool{}
	for _, c := range s.Counters {
		for _, id := range c.Services {
			served[id] = true
		}
	}
	// A service nobody serves would hand out tickets that are never called.
	for i, sv := range s.Services {
		if !served[sv.ID] {
			where := "counter (kind: counter)"
			if sv.Room {
				where = "room (kind: room)"
			}
			return problemf("services["+strconv.Itoa(i)+"]", "no counter serves %q: add it to the services of at least one %s", sv.ID, where)
		}
	}
	return nil
}

func (s *Site) deviceProblem() *siteProblem {
	counters := make(map[string]bool, len(s.Counters))
	for _, c := range s.Counters {
		counters[c.ID] = true
	}
	services := make(map[string]bool, len(s.Services))
	for _, sv := range s.Services {
		services[sv.ID] = true
	}
	ids := map[string]int{}
	for i, t := range s.Totems {
		at := "totems[" + strconv.Itoa(i) + "]"
		if pr := idProblem(at+".id", t.ID); pr != nil {
			return pr
		}
		if j, dup := ids[t.ID]; dup {
			return problemf(at+".id", "%q is already the id of totems[%d]", t.ID, j)
		}
		ids[t.ID] = i
		if pr := lineProblem(at+".name", t.Name); pr != nil {
			return pr
		}
	}
	clear(ids)
	for i, d := range s.Displays {
		at := "displays[" + strconv.Itoa(i) + "]"
		if pr := idProblem(at+".id", d.ID); pr != nil {
			return pr
		}
		if j, dup := ids[d.ID]; dup {
			return problemf(at+".id", "%q is already the id of displays[%d]", d.ID, j)
		}
		ids[d.ID] = i
		if pr := lineProblem(at+".name", d.Name); pr != nil {
			return pr
		}
		if pr := refsProblem(at+".counters", d.Counters, counters, "a counter or room"); pr != nil {
			return pr
		}
		if pr := refsProblem(at+".services", d.Services, services, "a service"); pr != nil {
			return pr
		}
	}
	return nil
}

// refsProblem checks a display filter: ids that exist, each once.
func refsProblem(path string, refs []string, known map[string]bool, what string) *siteProblem {
	listed := make(map[string]bool, len(refs))
	for j, id := range refs {
		at := path + "[" + strconv.Itoa(j) + "]"
		switch {
		case !known[id]:
			return problemf(at, "%q is not the id of %s", clip(id), what)
		case listed[id]:
			return problemf(at, "%q is listed twice", id)
		}
		listed[id] = true
	}
	return nil
}

func idProblem(path, id string) *siteProblem {
	if id == "" {
		return problemf(path, "is required")
	}
	if !siteIDRe.MatchString(id) {
		return problemf(path, "%q is not a valid id: use 1-32 letters, digits, _ or -", clip(id))
	}
	return nil
}

// textProblem checks a bilingual text; the Italian one is the reference
// and may be required, the English one falls back to it.
func textProblem(path string, t Text, required bool) *siteProblem {
	if required && strings.TrimSpace(t.IT) == "" {
		return problemf(path+".it", "is required")
	}
	if pr := lineProblem(path+".it", t.IT); pr != nil {
		return pr
	}
	return lineProblem(path+".en", t.EN)
}

// lineProblem keeps texts printable on one line of a ticket or a screen.
func lineProblem(path, v string) *siteProblem {
	switch {
	case !utf8.ValidString(v):
		return problemf(path, "is not valid UTF-8")
	case strings.ContainsFunc(v, unicode.IsControl):
		return problemf(path, "must be a single line without control characters")
	case utf8.RuneCountInString(v) > maxSiteText:
		return problemf(path, "is longer than %d characters", maxSiteText)
	}
	return nil
}

func minutesProblem(path string, d time.Duration) *siteProblem {
	switch {
	case d == 0:
		return problemf(path, "is missing or 0: it must be more than 0 and at most %d minutes", maxMinutes)
	case d < 0 || d > maxMinutes*time.Minute:
		return problemf(path, "%s minutes is out of range: it must be more than 0 and at most %d", formatMinutes(d), maxMinutes)
	}
	return nil
}

func formatMinutes(d time.Duration) string {
	return strconv.FormatFloat(d.Minutes(), 'f', -1, 64)
}
