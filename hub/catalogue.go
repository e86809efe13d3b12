package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Event types of the catalogue kept by the admin pages.
const (
	EventServiceCreated = "service.created"
	EventServiceUpdated = "service.updated"
	EventCounterCreated = "counter.created"
)

// Catalogue is what the admin pages changed in the site: the services and
// the counters or rooms they added or edited, each once, in the order they
// were first saved. It is stored whole (a few dozen entries) and laid over
// the site file at every start, so an admin never edits the file and a
// restart keeps the changes; an entry with the id of one of the file's
// replaces it, a new id is added after the file's.
type Catalogue struct {
	Services []Service
	Counters []CounterDef
}

// catalogueJSON is the stored shape: Service leaves its durations out of
// its public JSON, the store must keep them.
type catalogueJSON struct {
	Services []storedService `json:"services"`
	Counters []CounterDef    `json:"counters"`
}

type storedService struct {
	Service
	TargetWaitNS  int64 `json:"target_wait_ns"`
	ServiceTimeNS int64 `json:"service_time_ns"`
}

// MarshalJSON writes the catalogue with its services' durations.
func (c Catalogue) MarshalJSON() ([]byte, error) {
	out := catalogueJSON{Services: []storedService{}, Counters: c.Counters}
	if out.Counters == nil {
		out.Counters = []CounterDef{}
	}
	for _, s := range c.Services {
		out.Services = append(out.Services, storedService{Service: s, TargetWaitNS: int64(s.TargetWait), ServiceTimeNS: int64(s.ServiceTime)})
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (c *Catalogue) UnmarshalJSON(data []byte) error {
	var in catalogueJSON
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	c.Services, c.Counters = nil, in.Counters
	for _, s := range in.Services {
		sv := s.Service
		sv.TargetWait, sv.ServiceTime = time.Duration(s.TargetWaitNS), time.Duration(s.ServiceTimeNS)
		c.Services = append(c.Services, sv)
	}
	return nil
}

func (c *Catalogue) clone() *Catalogue {
	if c == nil {
		return &Catalogue{}
	}
	d := &Catalogue{Services: slices.Clone(c.Services)}
	for _, def := range c.Counters {
		def.Services = slices.Clone(def.Services)
		d.Counters = append(d.Counters, def)
	}
	return d
}

func (c *Catalogue) putService(sv Service) {
	for i := range c.Services {
		if c.Services[i].ID == sv.ID {
			c.Services[i] = sv
			return
		}
	}
	c.Services = append(c.Services, sv)
}

func (c *Catalogue) putCounter(def CounterDef) {
	for i := range c.Counters {
		if c.Counters[i].ID == def.ID {
			c.Counters[i] = def
			return
		}
	}
	c.Counters = append(c.Counters, def)
}

// clone returns a copy of s that shares nothing mutable with it: the
// engine replaces its site instead of changing it, so readers holding the
// old one keep a consistent picture.
func (s *Site) clone() *Site {
	d := *s
	d.Services = slices.Clone(s.Services)
	d.Counters = make([]CounterDef, 0, len(s.Counters))
	for _, c := range s.Counters {
		c.Services = slices.Clone(c.Services)
		d.Counters = append(d.Counters, c)
	}
	d.Totems = slices.Clone(s.Totems)
	d.Displays = slices.Clone(s.Displays)
	return &d
}

// withCatalogue lays c over the site file's site.
func (s *Site) withCatalogue(c *Catalogue) *Site {
	d := s.clone()
	if c == nil {
		return d
	}
	for _, sv := range c.Services {
		if i := slices.IndexFunc(d.Services, func(x Service) bool { return x.ID == sv.ID }); i >= 0 {
			d.Services[i] = sv
		} else {
			d.Services = append(d.Services, sv)
		}
	}
	for _, def := range c.Counters {
		def.Services = slices.Clone(def.Services)
		if i := slices.IndexFunc(d.Counters, func(x CounterDef) bool { return x.ID == def.ID }); i >= 0 {
			d.Counters[i] = def
		} else {
			d.Counters = append(d.Counters, def)
		}
	}
	return d
}

// catalogueProblem checks the rules of the site file on an edited site,
// except that a service may for a moment have no counter: the admin
// creates it, then gives it to a counter.
func (s *Site) catalogueProblem() *siteProblem {
	for _, check := range []func() *siteProblem{s.serviceProblem, s.counterProblem, s.deviceProblem} {
		if pr := check(); pr != nil {
			return pr
		}
	}
	return nil
}

// ServiceChange is what an admin sets on a service. Every field is
// required when the service is new; on an existing service an empty
// Prefix, Name.IT or Category and zero durations keep what it has.
type ServiceChange struct {
	ID          string
	Prefix      string
	Name        Text
	Description *Text
	Category    Category
	TargetWait  time.Duration
	ServiceTime time.Duration
	Room        *bool
	Active      *bool
	Priority    *bool
}

// SaveService creates a service or changes one (admin). The change, its
// event and the new catalogue are committed in one transaction; on bad
// input nothing changes. It reports whether the service is new.
func (e *Engine) SaveService(ctx context.Context, by string, ch ServiceChange) (Service, bool, error) {
	type saved struct {
		sv      Service
		created bool
	}
	v, err := e.do(ctx, by, func(tx *txn) (any, error) {
		old, exists := tx.e.site.Service(ch.ID)
		sv, err := ch.apply(old, exists)
		if err != nil {
			return nil, err
		}
		next := tx.e.site.clone()
		if i := slices.IndexFunc(next.Services, func(x Service) bool { return x.ID == sv.ID }); i >= 0 {
			next.Services[i] = sv
		} else {
			next.Services = append(next.Services, sv)
		}
		if pr := next.catalogueProblem(); pr != nil {
			return nil, pr.catalogueError("services")
		}
		cat := tx.e.catalogue.clone()
		cat.putService(sv)
		tx.setCatalogue(next, cat)
		if _, ok := tx.e.stats.mean[sv.ID]; !ok || sv.ServiceTime != old.ServiceTime {
			tx.e.stats.mean[sv.ID] = sv.ServiceTime
		}
		typ := EventServiceUpdated
		if !exists {
			typ = EventServiceCreated
		}
		tx.emit(typ, EventData{Service: sv.ID, Reason: ch.describe(old, sv, exists)})
		return saved{sv: sv, created: !exists}, nil
	})
	if err != nil {
		return Service{}, false, err
	}
	s := v.(saved)
	return s.sv, s.created, nil
}

func (ch ServiceChange) apply(old Service, exists bool) (Service, error) {
	if pr := idProblem("id", ch.ID); pr != nil {
		return Service{}, FieldError("invalid_id", "id", "the service code %s", pr.msg)
	}
	sv := old
	sv.ID = ch.ID
	if !exists {
		switch {
		case ch.Prefix == "":
			return Service{}, FieldError("missing_field", "prefix", "a new service needs a prefix: 1-3 uppercase letters")
		case strings.TrimSpace(ch.Name.IT) == "":
			return Service{}, FieldError("missing_field", "name.it", "a new service needs an Italian name")
		case ch.Category == "":
			return Service{}, FieldError("missing_field", "category", "a new service needs a category: informativo, dispositivo or segnalazione")
		case ch.TargetWait == 0:
			return Service{}, FieldError("missing_field", "target_wait_min", "a new service needs a target wait in minutes")
		case ch.ServiceTime == 0:
			return Service{}, FieldError("missing_field", "service_time_min", "a new service needs a typical service time in minutes")
		}
	}
	if ch.Prefix != "" {
		if !sitePrefixRe.MatchString(ch.Prefix) {
			return Service{}, FieldError("invalid_prefix", "prefix", "%q is not 1-3 uppercase letters", clip(ch.Prefix))
		}
		sv.Prefix = ch.Prefix
	}
	if ch.Name.IT != "" || ch.Name.EN != "" {
		if pr := textProblem("name", ch.Name, true); pr != nil {
			return Service{}, FieldError("invalid_name", pr.path, "the name %s", pr.msg)
		}
		sv.Name = ch.Name
		if sv.Name.EN == "" {
			sv.Name.EN = sv.Name.IT
		}
	}
	if ch.Description != nil {
		if pr := textProblem("description", *ch.Description, false); pr != nil {
			return Service{}, FieldError("invalid_description", pr.path, "the description %s", pr.msg)
		}
		sv.Description = *ch.Description
		if sv.Description.EN == "" {
			sv.Description.EN = sv.Description.IT
		}
	}
	if ch.Category != "" {
		if !ch.Category.Valid() {
			return Service{}, FieldError("invalid_category", "category", "%q is not a category: use informativo, dispositivo or segnalazione", clip(string(ch.Category)))
		}
		sv.Category = ch.Category
	}
	if ch.TargetWait != 0 {
		if pr := minutesProblem("target_wait_min", ch.TargetWait); pr != nil {
			return Service{}, FieldError("invalid_target_wait", pr.path, "%s", pr.msg)
		}
		sv.TargetWait = ch.TargetWait
	}
	if ch.ServiceTime != 0 {
		if pr := minutesProblem("service_time_min", ch.ServiceTime); pr != nil {
			return Service{}, FieldError("invalid_service_time", pr.path, "%s", pr.msg)
		}
		sv.ServiceTime = ch.ServiceTime
	}
	if ch.Room != nil {
		sv.Room = *ch.Room
	}
	if ch.Active != nil {
		sv.Inactive = !*ch.Active
	}
	if ch.Priority != nil {
		sv.NoPriority = !*ch.Priority
	}
	return sv, nil
}

// describe says what a save changed, for the audit trail.
func (ch ServiceChange) describe(old, sv Service, exists bool) string {
	state := func(s Service) string {
		parts := []string{"prefix " + s.Prefix, string(s.Category), "target " + formatMinutes(s.TargetWait) + " min"}
		if s.Room {
			parts = append(parts, "room")
		}
		if s.Inactive {
			parts = append(parts, "inactive")
		}
		if s.NoPriority {
			parts = append(parts, "no priority")
		}
		return strings.Join(parts, ", ")
	}
	if !exists {
		return "created: " + state(sv)
	}
	if state(old) == state(sv) && old.Name == sv.Name && old.Description == sv.Description && old.ServiceTime == sv.ServiceTime {
		return "unchanged"
	}
	return "now: " + state(sv)
}

// CounterChange is what an admin sets on a counter or room: a new one
// needs its kind, Italian name and services; on an existing one empty
// fields keep what it has. Its kind never changes (the services follow
// it, and so do the clerks' habits): create another place instead.
type CounterChange struct {
	ID       string
	Kind     CounterKind
	Name     Text
	Services []string
}

// SaveCounter creates a counter or room or changes its name and service
// profile (admin). The profile is both the default kept in the catalogue
// and the live one, as SetCounterServices sets it. It reports whether the
// place is new.
func (e *Engine) SaveCounter(ctx context.Context, by string, ch CounterChange) (*Counter, bool, error) {
	type saved struct {
		c       *Counter
		created bool
	}
	v, err := e.do(ctx, by, func(tx *txn) (any, error) {
		if pr := idProblem("id", ch.ID); pr != nil {
			return nil, FieldError("invalid_id", "id", "the place id %s", pr.msg)
		}
		def, exists := tx.e.site.Counter(ch.ID)
		if !exists {
			switch {
			case ch.Kind == "":
				return nil, FieldError("missing_field", "kind", "a new place needs a kind: counter or room")
			case strings.TrimSpace(ch.Name.IT) == "":
				return nil, FieldError("missing_field", "name.it", "a new place needs an Italian name")
			case len(ch.Services) == 0:
				return nil, FieldError("missing_field", "services", "a new place serves at least one service")
			}
		}
		if ch.Kind != "" {
			if ch.Kind != KindCounter && ch.Kind != KindRoom {
				return nil, FieldError("invalid_kind", "kind", "%q is not a kind: use counter or room", clip(string(ch.Kind)))
			}
			if exists && ch.Kind != def.Kind {
				return nil, &Error{Kind: KindConflict, Code: "kind_fixed", Field: "kind", Message: fmt.Sprintf("%s is a %s: a place keeps its kind (create a new one instead)", def.ID, def.Kind)}
			}
		}
		old := def
		def.ID = ch.ID
		if !exists {
			def.Kind = ch.Kind
		}
		if ch.Name.IT != "" || ch.Name.EN != "" {
			if pr := textProblem("name", ch.Name, true); pr != nil {
				return nil, FieldError("invalid_name", pr.path, "the name %s", pr.msg)
			}
			def.Name = ch.Name
			if def.Name.EN == "" {
				def.Name.EN = def.Name.IT
			}
		}
		c, ok := tx.e.counters[ch.ID]
		if !ok {
			c = &Counter{ID: def.ID, Kind: def.Kind, State: CounterClosed, Since: tx.now}
		}
		if ch.Services != nil {
			if err := checkProfile(tx.e.site, def.Kind, ch.Services); err != nil {
				return nil, err
			}
			def.Services = slices.Clone(ch.Services)
		}
		next := tx.e.site.clone()
		if i := slices.IndexFunc(next.Counters, func(x CounterDef) bool { return x.ID == def.ID }); i >= 0 {
			next.Counters[i] = def
		} else {
			next.Counters = append(next.Counters, def)
		}
		if pr := next.catalogueProblem(); pr != nil {
			return nil, pr.catalogueError("counters")
		}
		cat := tx.e.catalogue.clone()
		cat.putCounter(def)
		tx.setCatalogue(next, cat)
		if ch.Services != nil || !ok {
			c = c.Clone()
			c.Services = slices.Clone(def.Services)
			tx.e.counters[c.ID] = c
			tx.putCounter(c)
		}
		typ := EventCounterUpdated
		detail := "name " + def.Name.IT + "; services " + strings.Join(def.Services, ", ")
		if !exists {
			typ = EventCounterCreated
			detail = string(def.Kind) + "; " + detail
		} else if old.Name == def.Name && slices.Equal(old.Services, def.Services) {
			detail = "unchanged"
		}
		tx.emit(typ, EventData{Counter: c.ID, Kind: string(c.Kind), State: string(c.State), Reason: detail})
		return saved{c: c.Clone(), created: !exists}, nil
	})
	if err != nil {
		return nil, false, err
	}
	s := v.(saved)
	return s.c, s.created, nil
}

// checkProfile is the rule of a skill profile: known services, each once,
// all of the place's kind.
func checkProfile(site *Site, kind CounterKind, services []string) error {
	if len(services) == 0 {
		return FieldError("invalid_services", "services", "a counter serves at least one service")
	}
	seen := map[string]bool{}
	for i, s := range services {
		field := fmt.Sprintf("services[%d]", i)
		sv, ok := site.Service(s)
		if !ok {
			return unknownService(field, s)
		}
		if seen[s] {
			return FieldError("invalid_services", field, "service %q listed twice", s)
		}
		if sv.Room != (kind == KindRoom) {
			return FieldError("invalid_services", field, "service %q is not for a %s", s, kind)
		}
		seen[s] = true
	}
	return nil
}

// catalogueError turns a site rule broken by an edit into a coded error:
// the prefix taken by another service, a room service left at a desk.
func (pr *siteProblem) catalogueError(what string) *Error {
	code := "invalid_catalogue"
	switch {
	case strings.HasSuffix(pr.path, ".prefix"):
		code = "prefix_taken"
	case strings.HasPrefix(pr.path, "counters[") && what == "services":
		code = "service_in_use"
	}
	return &Error{Kind: KindConflict, Code: code, Field: pr.path, Message: "the change would break the catalogue: " + pr.path + ": " + pr.msg}
}

// setCatalogue replaces the engine's site and catalogue inside the
// command: readers get the new site after the commit's lock is released,
// and a failed commit reloads both from the store.
func (tx *txn) setCatalogue(site *Site, cat *Catalogue) {
	tx.e.site, tx.e.catalogue = site, cat
	tx.e.cur.Store(site)
	if tx.e.cfg.PolicyFor != nil {
		tx.e.policy = tx.e.cfg.PolicyFor(site)
	}
	tx.batch.Catalogue = cat.clone()
}
