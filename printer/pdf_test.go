package printer

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func referenceAppointment() Appointment {
	return Appointment{
		Comune:     "Comune di Reggio Calabria",
		Office:     "CEDIR – Sala Piramide, sportello 4",
		Code:       "PR-7K3Q9",
		Service:    "Carta d'identità elettronica",
		ServiceEN:  "Electronic identity card",
		Slot:       time.Date(2026, 3, 2, 9, 30, 0, 0, time.FixedZone("CET", 3600)),
		CheckInURL: "https://sportello.comune.reggio-calabria.it/a/PR-7K3Q9",
		Notes:      "foto tessera, vecchio documento, 22,21 € / photo, old document, €22.21",
	}
}

func TestPDFs(t *testing.T) {
	tk := referenceTicket()
	ap := referenceAppointment()
	for _, tc := range []struct {
		name  string
		make  func() ([]byte, error)
		texts []string // pdftotext must find each
		qr    string
	}{
		{
			name:  "ticket",
			make:  func() ([]byte, error) { return TicketPDF(tk) },
			texts: []string{"A023", "Anagrafe e stato civile", "Registry office", "02/03/2026", "Nessun dato personale è stampato"},
			qr:    tk.TrackURL,
		},
		{
			name:  "appointment",
			make:  func() ([]byte, error) { return AppointmentPDF(ap) },
			texts: []string{"PR-7K3Q9", "Carta d'identità elettronica", "lunedì 2 marzo 2026, ore 09:30", "Monday 2 March 2026 at 09:30", "22,21 €", "Cosa portare / What to bring"},
			qr:    ap.CheckInURL,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pdf, err := tc.make()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(pdf, []byte("%PDF-")) || !bytes.Contains(pdf[max(0, len(pdf)-64):], []byte("%%EOF")) {
				t.Fatalf("not a PDF: % q…", pdf[:min(16, len(pdf))])
			}
			if len(pdf) < 5000 || len(pdf) > 2<<20 {
				t.Errorf("PDF of %d bytes", len(pdf))
			}
			again, _ := tc.make()
			if !bytes.Equal(pdf, again) {
				t.Error("the same input gave a different PDF")
			}
			path := filepath.Join(t.TempDir(), tc.name+".pdf")
			if err := os.WriteFile(path, pdf, 0o644); err != nil {
				t.Fatal(err)
			}

			pdftotext := needTool(t, "pdftotext", "poppler-utils")
			out, err := exec.Command(pdftotext, "-enc", "UTF-8", path, "-").Output()
			if err != nil {
				t.Fatalf("pdftotext: %v", err)
			}
			text := strings.Join(strings.Fields(string(out)), " ")
			for _, want := range tc.texts {
				if !strings.Contains(text, want) {
					t.Errorf("PDF text lacks %q:\n%s", want, text)
				}
			}

			pdftoppm := needTool(t, "pdftoppm", "poppler-utils")
			base := filepath.Join(t.TempDir(), "page")
			if out, err := exec.Command(pdftoppm, "-r", "200", "-png", "-singlefile", path, base).CombinedOutput(); err != nil {
				t.Fatalf("pdftoppm: %v: %s", err, out)
			}
			if got := zbar(t, base+".png"); got != tc.qr {
				t.Errorf("the PDF's QR reads %q, want %q", got, tc.qr)
			}
		})
	}
}

func TestAppointmentPDFDefaults(t *testing.T) {
	pdf, err := AppointmentPDF(Appointment{Code: "X1"})
	if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("AppointmentPDF with only a code: %v", err)
	}
	if _, err := TicketPDF(Ticket{}); err != nil {
		t.Fatalf("TicketPDF of an empty ticket: %v", err)
	}
}

func TestDates(t *testing.T) {
	at := time.Date(2026, 8, 15, 16, 5, 0, 0, time.UTC)
	if got := italianDate(at); got != "sabato 15 agosto 2026, ore 16:05" {
		t.Errorf("italianDate = %q", got)
	}
	if got := englishDate(at); got != "Saturday 15 August 2026 at 16:05" {
		t.Errorf("englishDate = %q", got)
	}
}
