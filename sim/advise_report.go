package sim

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// WriteMarkdown writes the advice as a markdown table: one row per
// opening hour, per skill group the forecast arrivals, Erlang C's
// counters, the simulated SL at them, the advised counters and the
// simulated SL at the advice.
func (a *Advice) WriteMarkdown(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "## Staffing advice: %s\n\n", a.Scenario)
	fmt.Fprintf(&b, "Target: %.0f %% of walk-ins called within %s min. Erlang C (Allen–Cunneen M/G/c) per skill group, checked by simulating %d days under policy %s through the real engine; %d correction round(s).\n\n",
		a.TargetSL*100, fmtNum(a.TargetWait), a.Days, a.Policy, a.Rounds)
	b.WriteString("Skill groups:\n\n")
	for _, g := range a.Groups {
		fmt.Fprintf(&b, "- **%s**: %s — %d counters\n", g.ID, strings.Join(g.Services, ", "), len(g.Counters))
	}
	b.WriteString("\n| hour |")
	sep := "|---|"
	for _, g := range a.Groups {
		fmt.Fprintf(&b, " %s arrivals/h | %s Erlang C | %s SL sim at Erlang C | %s advised | %s SL sim advised |", g.ID, g.ID, g.ID, g.ID, g.ID)
		sep += "---:|---:|---:|---:|---:|"
	}
	b.WriteString(" counters advised |\n" + sep + "---:|\n")
	for _, h := range a.Hours {
		fmt.Fprintf(&b, "| %s |", h.Hour)
		for _, g := range h.Groups {
			erl := strconv.Itoa(g.Erlang)
			if g.Short {
				erl += " (short)"
			}
			adv := strconv.Itoa(g.Advised)
			if g.Advised > g.Erlang {
				adv = "**" + adv + "**"
			}
			fmt.Fprintf(&b, " %.1f | %s | %s | %s | %s |", g.Arrivals, erl, slCell(g, g.SLErlang), adv, slCell(g, g.SL))
		}
		fmt.Fprintf(&b, " %d |\n", h.Advised)
	}
	b.WriteString("\n")
	if a.Met {
		b.WriteString("Every judged hour meets the target with the advised counters.\n")
	} else {
		b.WriteString("Some hours miss the target even with the advice (capped at the group's counters or out of rounds): see the SL column.\n")
	}
	b.WriteString("Counters are counters at work: breaks come on top. Bold: added by the simulation check. SL in parentheses: fewer walk-ins than --min-tickets, not judged.\n")
	_, err := w.Write(b.Bytes())
	return err
}

func slCell(g AdviceGroup, sl float64) string {
	if g.Tickets == 0 {
		return "—"
	}
	s := fmt.Sprintf("%.1f %%", sl*100)
	if !g.Judged {
		return "(" + s + ")"
	}
	return s
}

func fmtNum(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// WriteCSV writes one row per hour and group.
func (a *Advice) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"scenario", "hour", "group", "services", "arrivals_per_h", "erlangs", "erlang_c", "short", "sl_erlang", "advised", "sl", "tickets", "judged", "met"})
	services := map[string]string{}
	for _, g := range a.Groups {
		services[g.ID] = strings.Join(g.Services, " ")
	}
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', 4, 64) }
	for _, h := range a.Hours {
		for _, g := range h.Groups {
			_ = cw.Write([]string{a.Scenario, h.Hour, g.Group, services[g.Group], f(g.Arrivals), f(g.Erlangs), strconv.Itoa(g.Erlang), strconv.FormatBool(g.Short),
				f(g.SLErlang), strconv.Itoa(g.Advised), f(g.SL), strconv.Itoa(g.Tickets), strconv.FormatBool(g.Judged), strconv.FormatBool(g.Met)})
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteFiles writes <name>-advice.md, .csv and .json into dir.
func (a *Advice) WriteFiles(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	base := filepath.Join(dir, a.Scenario+"-advice")
	var md, cs bytes.Buffer
	if err := a.WriteMarkdown(&md); err != nil {
		return nil, err
	}
	if err := a.WriteCSV(&cs); err != nil {
		return nil, err
	}
	js, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, f := range []struct {
		ext  string
		data []byte
	}{{".md", md.Bytes()}, {".csv", cs.Bytes()}, {".json", append(js, '\n')}} {
		p := base + f.ext
		if err := os.WriteFile(p, f.data, 0o644); err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}
