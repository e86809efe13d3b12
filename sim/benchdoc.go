package sim

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// A document such as BENCHMARKS.md marks each part the simulator writes
// with a pair of comments,
//
//	<!-- sim:S2-busy:begin -->
//	…
//	<!-- sim:S2-busy:end -->
//
// and `sportello sim --doc FILE --out DIR` replaces what lies between them
// with the section built from DIR's report of that name (DocSection): the
// tables are never pasted by hand, and the prose around them stays.
var docMarker = regexp.MustCompile(`<!-- sim:([A-Za-z0-9._-]+):(begin|end) -->`)

// docPlots are the plots a report's section links, with their captions.
var docPlots = []struct{ suffix, caption string }{
	{"-waits.png", "waits"},
	{"-sl15-days.png", "per-day SL15"},
	{"-ewt.png", "EWT MAE"},
	{"-ewt-calibration.png", "predicted against actual wait"},
}

// docEWTRows are the policies whose Table D rows a section keeps: the
// pooled reference, skill-subset FIFO and ours (the report has them all).
var docEWTRows = []string{"R", "B1", "P"}

// SpliceDoc returns doc with the text between each marker pair replaced
// by section(name), set off by blank lines. Every name in want must have
// its pair (the others found are filled too); markers must pair up, each
// name once. Splicing its own output again changes nothing.
func SpliceDoc(doc []byte, want []string, section func(name string) (string, error)) ([]byte, error) {
	type pair struct{ begin, end []int } // the markers' [start, end) offsets
	pairs := map[string]*pair{}
	var order []string
	var open string
	for _, m := range docMarker.FindAllSubmatchIndex(doc, -1) {
		name, kind := string(doc[m[2]:m[3]]), string(doc[m[4]:m[5]])
		switch {
		case kind == "begin" && open != "":
			return nil, fmt.Errorf("marker sim:%s:begin inside sim:%s (no sim:%s:end before it)", name, open, open)
		case kind == "begin" && pairs[name] != nil:
			return nil, fmt.Errorf("marker sim:%s:begin appears twice", name)
		case kind == "begin":
			pairs[name] = &pair{begin: m[:2]}
			order = append(order, name)
			open = name
		case name != open:
			return nil, fmt.Errorf("marker sim:%s:end without its sim:%s:begin before it", name, name)
		default:
			pairs[name].end = m[:2]
			open = ""
		}
	}
	if open != "" {
		return nil, fmt.Errorf("marker sim:%s:begin has no sim:%s:end after it", open, open)
	}
	for _, name := range want {
		if pairs[name] == nil {
			return nil, fmt.Errorf("no <!-- sim:%s:begin --> … <!-- sim:%s:end --> markers for %s", name, name, name)
		}
	}
	if len(order) == 0 {
		return nil, errors.New("no <!-- sim:NAME:begin --> … <!-- sim:NAME:end --> markers")
	}
	var out bytes.Buffer
	last := 0
	for _, name := range order {
		p := pairs[name]
		body, err := section(name)
		if err != nil {
			return nil, err
		}
		out.Write(doc[last:p.begin[1]])
		out.WriteString("\n\n")
		out.WriteString(strings.Trim(body, "\n"))
		out.WriteString("\n\n")
		last = p.end[0]
	}
	out.Write(doc[last:])
	return out.Bytes(), nil
}

// DocSection builds the section for name from dir: from dir/name.md, a
// report of `sportello sim --out`, the run's days, seed, product and run
// time, every table but the Erlang reference (Table D with the rows of
// docEWTRows only), and links to its plots, relative to docDir; or, for a
// name with no report, dir/name.txt as it is (benchmark output).
func DocSection(dir, docDir, name string) (string, error) {
	md, err := os.ReadFile(filepath.Join(dir, name+".md"))
	if errors.Is(err, os.ErrNotExist) {
		txt, terr := os.ReadFile(filepath.Join(dir, name+".txt"))
		if terr == nil {
			return "```\n" + strings.Trim(string(txt), "\n") + "\n```", nil
		}
		return "", fmt.Errorf("section %s: neither %s.md nor %s.txt in %s (make sim-bench writes the reports, make sim-speed the timing)", name, name, name, dir)
	}
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(docDir, dir)
	if err != nil {
		return "", err
	}
	rel = filepath.ToSlash(rel)
	var b strings.Builder
	head, sections := splitReport(string(md))
	if len(sections) == 0 {
		return "", fmt.Errorf("%s: not a report of sportello sim (no ## sections)", filepath.Join(dir, name+".md"))
	}
	fmt.Fprintf(&b, "From `%s/%s.md`:\n\n", rel, name)
	for _, l := range strings.Split(head, "\n") {
		if strings.HasPrefix(l, "- days:") || strings.HasPrefix(l, "- product:") || strings.HasPrefix(l, "- run time:") {
			b.WriteString(l + "\n")
		}
	}
	for _, s := range sections {
		if strings.HasPrefix(s.title, "Erlang reference") {
			continue // in the report; BENCHMARKS.md compares the policies
		}
		title, body := s.title, s.body
		if strings.HasPrefix(title, "Table D") {
			var kept []string
			body, kept = keepRows(body, docEWTRows)
			if len(kept) > 0 {
				title += ", rows for " + joinAnd(kept)
			}
		}
		fmt.Fprintf(&b, "\n**%s**\n\n%s\n", title, strings.Trim(body, "\n"))
	}
	b.WriteString("\n")
	for _, p := range docPlots {
		if _, err := os.Stat(filepath.Join(dir, name+p.suffix)); err == nil {
			fmt.Fprintf(&b, "![%s %s](%s/%s%s)\n", name, p.caption, rel, name, p.suffix)
		}
	}
	return b.String(), nil
}

type reportSection struct{ title, body string }

// splitReport cuts a report at its "## " headings.
func splitReport(md string) (head string, sections []reportSection) {
	parts := strings.Split("\n"+md, "\n## ")
	head = strings.TrimPrefix(parts[0], "\n")
	for _, p := range parts[1:] {
		title, body, _ := strings.Cut(p, "\n")
		sections = append(sections, reportSection{strings.TrimSpace(title), body})
	}
	return head, sections
}

// keepRows drops the table rows whose first cell is not one of policies
// (the header and the other lines stay), and says which were kept.
func keepRows(body string, policies []string) (string, []string) {
	keep := map[string]bool{}
	for _, p := range policies {
		keep[p] = true
	}
	seen := map[string]bool{}
	var out []string
	header := 0
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "|") {
			header++
			if header > 2 { // past the header and its rule
				cell := strings.TrimSpace(strings.SplitN(strings.TrimPrefix(l, "|"), "|", 2)[0])
				if !keep[cell] {
					continue
				}
				seen[cell] = true
			}
		} else {
			header = 0
		}
		out = append(out, l)
	}
	var kept []string
	for _, p := range policies {
		if seen[p] {
			kept = append(kept, p)
		}
	}
	return strings.Join(out, "\n"), kept
}

func joinAnd(xs []string) string {
	if len(xs) <= 1 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}

// UpdateDoc splices the sections named want (or every marked one) into
// the document at path, from the reports in dir, and writes it back only
// if it changed. It reports whether it did.
func UpdateDoc(path, dir string, want []string) (bool, error) {
	doc, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	docDir := filepath.Dir(path)
	out, err := SpliceDoc(doc, want, func(name string) (string, error) { return DocSection(dir, docDir, name) })
	if err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	if bytes.Equal(out, doc) {
		return false, nil
	}
	return true, os.WriteFile(path, out, 0o644)
}
