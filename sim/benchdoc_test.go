package sim

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSpliceDoc(t *testing.T) {
	sections := map[string]string{"S1": "table one\n", "S2": "\ntable two"}
	section := func(name string) (string, error) {
		s, ok := sections[name]
		if !ok {
			return "", errors.New("no report " + name)
		}
		return s, nil
	}
	b := func(n string) string { return "<!-- sim:" + n + ":begin -->" }
	e := func(n string) string { return "<!-- sim:" + n + ":end -->" }
	cases := []struct {
		name    string
		doc     string
		want    []string
		out     string // expected document
		wantErr string // or the error it must mention
	}{
		{"replaced exactly, prose kept", "# Title\n\nprose\n" + b("S1") + "\nold table\n|a|\n" + e("S1") + "\nafter\n", []string{"S1"},
			"# Title\n\nprose\n" + b("S1") + "\n\ntable one\n\n" + e("S1") + "\nafter\n", ""},
		{"two sections, the text between stays", "a\n" + b("S1") + e("S1") + "\nmiddle\n" + b("S2") + "x" + e("S2"), nil,
			"a\n" + b("S1") + "\n\ntable one\n\n" + e("S1") + "\nmiddle\n" + b("S2") + "\n\ntable two\n\n" + e("S2"), ""},
		{"markers missing for a wanted section", "a\n" + b("S1") + e("S1"), []string{"S1", "S2"}, "", "no <!-- sim:S2:begin --> … <!-- sim:S2:end --> markers"},
		{"no markers at all", "just prose\n", nil, "", "no <!-- sim:NAME:begin -->"},
		{"begin without end", b("S1") + "\nold\n", nil, "", "sim:S1:begin has no sim:S1:end"},
		{"end without begin", "old\n" + e("S1"), nil, "", "sim:S1:end without its sim:S1:begin"},
		{"nested", b("S1") + b("S2") + e("S2") + e("S1"), nil, "", "sim:S2:begin inside sim:S1"},
		{"twice", b("S1") + e("S1") + b("S1") + e("S1"), nil, "", "sim:S1:begin appears twice"},
		{"a section that cannot be built", b("S9") + e("S9"), nil, "", "no report S9"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := SpliceDoc([]byte(c.doc), c.want, section)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want it to mention %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.out {
				t.Fatalf("got\n%q\nwant\n%q", got, c.out)
			}
			again, err := SpliceDoc(got, c.want, section)
			if err != nil || !bytes.Equal(again, got) {
				t.Fatalf("splicing the result again changed it (err %v):\n%q", err, again)
			}
		})
	}
}

// A real report's section: its tables but the Erlang reference, Table D
// for R, B1 and P only, the plots linked relative to the document; and
// the document rewritten only when a report changed.
func TestUpdateDocFromReport(t *testing.T) {
	root := t.TempDir()
	results := filepath.Join(root, "bench", "results")
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"--scenario", "../bench/scenarios/S1-light.yaml", "--days", "1", "--policy", "R,B1,B2,P", "--out", results, "--quiet"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	sec, err := DocSection(results, root, "S1-light")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"From `bench/results/S1-light.md`", "- days: 1 (file: 200)", "- run time:", "**Table A: walk-in waits and service level**", "| B2 | 492 |",
		"**Table D: EWT (§10), rows for R, B1 and P**", "| B1 | LES |", "**Table E", "![S1-light waits](bench/results/S1-light-waits.png)", "![S1-light predicted against actual wait](bench/results/S1-light-ewt-calibration.png)"} {
		if !strings.Contains(sec, want) {
			t.Errorf("section lacks %q:\n%s", want, sec)
		}
	}
	for _, bad := range []string{"Erlang", "| B2 | QL |", "## "} {
		if strings.Contains(sec, bad) {
			t.Errorf("section has %q:\n%s", bad, sec)
		}
	}

	// A name with no report but a .txt (benchmark output) is quoted as it
	// is; a name with neither is an error that says what to run.
	if err := os.WriteFile(filepath.Join(results, "speed.txt"), []byte("BenchmarkS2FullRun-2 1 wall\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if txt, err := DocSection(results, root, "speed"); err != nil || txt != "```\nBenchmarkS2FullRun-2 1 wall\n```" {
		t.Errorf("speed section %q, %v", txt, err)
	}
	if _, err := DocSection(results, root, "S9"); err == nil || !strings.Contains(err.Error(), "make sim-bench") {
		t.Errorf("missing report: %v", err)
	}

	doc := filepath.Join(root, "BENCHMARKS.md")
	const prose = "# Benchmarks\n\nWritten by hand.\n\n### S1-light\n\n<!-- sim:S1-light:begin -->\npasted by hand\n<!-- sim:S1-light:end -->\n\nMore prose.\n"
	if err := os.WriteFile(doc, []byte(prose), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := Main(context.Background(), args, &out, &errb)
		return code, errb.String()
	}
	if code, msg := run("--doc", doc, "--out", results, "--sections", "S1-light"); code != 0 || !strings.Contains(msg, "updated") {
		t.Fatalf("exit %d: %s", code, msg)
	}
	got, _ := os.ReadFile(doc)
	if want := "# Benchmarks\n\nWritten by hand.\n\n### S1-light\n\n<!-- sim:S1-light:begin -->\n\n" + strings.Trim(sec, "\n") + "\n\n<!-- sim:S1-light:end -->\n\nMore prose.\n"; string(got) != want {
		t.Fatalf("document:\n%s\nwant:\n%s", got, want)
	}
	if code, msg := run("--doc", doc, "--out", results); code != 0 || !strings.Contains(msg, "up to date") {
		t.Fatalf("second run: exit %d: %s", code, msg)
	}
	if again, _ := os.ReadFile(doc); !bytes.Equal(again, got) {
		t.Fatal("the second run changed the document")
	}
	if code, msg := run("--doc", doc, "--out", results, "--sections", "S1-light,S2-busy"); code != 1 || !strings.Contains(msg, "no <!-- sim:S2-busy:begin -->") {
		t.Fatalf("missing markers: exit %d: %s", code, msg)
	}
	if code, msg := run("--doc", doc); code != 2 || !strings.Contains(msg, "--out DIR") {
		t.Fatalf("no --out: exit %d: %s", code, msg)
	}
}
