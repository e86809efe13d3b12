package printer

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

func TestLayoutLanguages(t *testing.T) {
	tk := referenceTicket()
	p := mustProfile(t, "epson-tm-t20")
	for _, tc := range []struct {
		lang          string
		first, second string
	}{
		{"it", "Posizione in coda", "Queue position"},
		{"", "Posizione in coda", "Queue position"},
		{"en", "Queue position", "Posizione in coda"},
	} {
		tk.Lang = tc.lang
		job := Layout(tk, p)
		i, j := bytes.Index(job, []byte(tc.first)), bytes.Index(job, []byte(tc.second))
		if i < 0 || j < 0 || i > j {
			t.Errorf("lang %q: %q at %d, %q at %d", tc.lang, tc.first, i, tc.second, j)
		}
	}
}

func TestLayoutOptionalLines(t *testing.T) {
	p := mustProfile(t, "epson-tm-t20")
	tk := referenceTicket()
	tk.Position, tk.EWTMin, tk.TrackURL, tk.Privacy = 0, -1, "", "Informativa: www.example.it/privacy"
	job := Layout(tk, p)
	for _, absent := range []string{"Posizione", "Attesa", "Segua", "Nessun dato"} {
		if bytes.Contains(job, []byte(absent)) {
			t.Errorf("job has %q", absent)
		}
	}
	if bytes.Contains(job, []byte{gs, '(', 'k'}) || !bytes.Contains(job, []byte("Informativa: www.example.it/privacy")) {
		t.Error("QR or custom privacy line wrong")
	}
	tk.EWTMin = 0
	if job := Layout(tk, p); !bytes.Contains(job, []byte("meno di 1 min")) {
		t.Error("a zero wait is not printed")
	}
}

// scanJob walks a job with the grammar of what the Encoder emits and fails
// on anything else, so it proves no text reached the printer as a command.
func scanJob(job []byte) error {
	for i := 0; i < len(job); {
		c := job[i]
		need := func(n int) error {
			if i+n > len(job) {
				return fmt.Errorf("truncated command at %d", i)
			}
			return nil
		}
		switch {
		case c == lf:
			i++
		case c >= 0x20 && c != 0x7F:
			i++
		case c == esc:
			if err := need(2); err != nil {
				return err
			}
			switch job[i+1] {
			case '@':
				i += 2
			case 'R', 't', 'a', 'E', 'd':
				i += 3
			default:
				return fmt.Errorf("ESC %02X at %d", job[i+1], i)
			}
		case c == fs:
			if err := need(2); err != nil || job[i+1] != '.' {
				return fmt.Errorf("FS at %d", i)
			}
			i += 2
		case c == gs:
			if err := need(3); err != nil {
				return err
			}
			switch job[i+1] {
			case '!':
				i += 3
			case 'V':
				if err := need(4); err != nil || job[i+2] != 66 {
					return fmt.Errorf("GS V at %d", i)
				}
				i += 4
			case '(':
				if err := need(5); err != nil || job[i+2] != 'k' {
					return fmt.Errorf("GS ( at %d", i)
				}
				i += 5 + int(job[i+3]) + int(job[i+4])<<8
			case 'v':
				if err := need(8); err != nil || job[i+2] != '0' {
					return fmt.Errorf("GS v at %d", i)
				}
				i += 8 + (int(job[i+4])|int(job[i+5])<<8)*(int(job[i+6])|int(job[i+7])<<8)
			default:
				return fmt.Errorf("GS %02X at %d", job[i+1], i)
			}
		default:
			return fmt.Errorf("control byte %02X at %d", c, i)
		}
	}
	return nil
}

func FuzzLayout(f *testing.F) {
	r := referenceTicket()
	f.Add(r.Comune, r.Office, r.Number, r.Service, r.ServiceEN, r.TrackURL, r.Privacy, r.Lang, 3, 12, false)
	f.Add("\x1b@\x1dV\x00", "\x10\x04\x01", "A\x1d!\x77", "“x” — …", "€", "https://x/\x10\x04\x02", "\x00\x1a", "en", 0, 0, true)
	f.Fuzz(func(t *testing.T, comune, office, number, service, serviceEN, url, privacy, lang string, pos, ewt int, small bool) {
		p := mustProfile(t, "epson-tm-t20")
		if small {
			p = mustProfile(t, "generic-58mm")
		}
		tk := Ticket{Comune: comune, Office: office, Number: number, Service: service, ServiceEN: serviceEN,
			IssuedAt: time.Date(2026, 3, 2, 9, 41, 0, 0, time.UTC), Position: pos, EWTMin: ewt, TrackURL: url, Privacy: privacy, Lang: lang}
		job := Layout(tk, p)
		if bytes.Contains(job, []byte{dle, eot}) {
			t.Fatalf("job contains DLE EOT: % X", job)
		}
		if err := scanJob(job); err != nil {
			t.Fatalf("%v in % X", err, job)
		}
	})
}
