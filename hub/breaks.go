package hub

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"
)

// BreakPlan is the office's break rota, in the site file's `breaks`
// section: each front-office desk takes one break of Length a day, in
// Waves staggered by Stagger from First. It is the rule of the office-day
// benchmark (bench/README.md §3.6), so that the simulator and the hub run
// the projection with the same plan: desk number k (1-based, in site
// order, rooms not counted) is due at First + ((k − 1) mod Waves) ×
// Stagger; rooms take no breaks. A desk busy when its break falls due
// takes it when it frees up. Without a plan the projection guesses that
// pauses, once they start, come in rotation.
type BreakPlan struct {
	Length  time.Duration `json:"length"`
	First   time.Duration `json:"first"` // after midnight, site time
	Stagger time.Duration `json:"stagger"`
	Waves   int           `json:"waves"`
}

// PlannedPauses is the site's break plan desk by desk, or nil.
func (s *Site) PlannedPauses() []PlannedPause {
	b := s.Breaks
	if b == nil || b.Waves <= 0 {
		return nil
	}
	var out []PlannedPause
	k := 0
	for _, c := range s.Counters {
		if c.Kind == KindRoom {
			continue
		}
		out = append(out, PlannedPause{Counter: c.ID, At: b.First + time.Duration(k%b.Waves)*b.Stagger, Length: b.Length})
		k++
	}
	return out
}

var clockRe = regexp.MustCompile(`^([01]?[0-9]|2[0-3]):([0-5][0-9])$`)

var breakKeys = []string{"length_min", "first", "stagger_min", "waves"}

type breaksYAML struct {
	Length  float64 `yaml:"length_min"`
	First   string  `yaml:"first"`
	Stagger float64 `yaml:"stagger_min"`
	Waves   int     `yaml:"waves"`
}

func formatBreaks(b *BreakPlan) *breaksYAML {
	if b == nil {
		return nil
	}
	return &breaksYAML{Length: b.Length.Minutes(), First: fmt.Sprintf("%02d:%02d", int(b.First.Hours()), int(b.First.Minutes())%60), Stagger: b.Stagger.Minutes(), Waves: b.Waves}
}

// breaks reads the `breaks` mapping. Every key is required: a plan with a
// part missing would put desks on break at times nobody chose.
func (p *siteParser) breaks(n *yaml.Node, path string) (*BreakPlan, *Error) {
	b := &BreakPlan{}
	got := map[string]bool{}
	err := p.mapping(n, path, breakKeys, func(key string, v *yaml.Node, path string) *Error {
		got[key] = true
		switch key {
		case "length_min":
			return p.minutes(v, path, &b.Length)
		case "stagger_min":
			return p.minutes(v, path, &b.Stagger)
		case "waves":
			return p.integer(v, path, &b.Waves)
		case "first":
			var s string
			if err := p.str(v, path, &s); err != nil {
				return err
			}
			m := clockRe.FindStringSubmatch(s)
			if m == nil {
				return siteError(p.file, v.Line, path, fmt.Sprintf("%q is not a time of day: write it as HH:MM, like \"11:00\"", clip(s)))
			}
			h, _ := strconv.Atoi(m[1])
			mi, _ := strconv.Atoi(m[2])
			b.First = time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, k := range breakKeys {
		if !got[k] {
			return nil, siteError(p.file, n.Line, path, fmt.Sprintf("%s is missing: a break plan gives %s, first (HH:MM), %s and %s", k, breakKeys[0], breakKeys[2], breakKeys[3]))
		}
	}
	return b, nil
}

// breakProblem checks the plan's ranges. A wave that would start after
// midnight is not an error: it never falls due.
func (s *Site) breakProblem() *siteProblem {
	b := s.Breaks
	if b == nil {
		return nil
	}
	switch {
	case b.Length <= 0 || b.Length > maxMinutes*time.Minute:
		return &siteProblem{"breaks.length_min", fmt.Sprintf("must be more than 0 and at most %d minutes", maxMinutes)}
	case b.Waves < 1 || b.Waves > 1000:
		return &siteProblem{"breaks.waves", "must be a whole number from 1 to 1000"}
	case b.Stagger < 0 || b.Stagger > maxMinutes*time.Minute:
		return &siteProblem{"breaks.stagger_min", fmt.Sprintf("must be from 0 to %d minutes", maxMinutes)}
	case b.First < 0 || b.First >= 24*time.Hour:
		return &siteProblem{"breaks.first", "must be a time of day, 00:00 to 23:59"}
	}
	return nil
}
