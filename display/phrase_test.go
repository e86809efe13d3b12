package display

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/comune-rc/sportello/assets"
	"github.com/comune-rc/sportello/hub"
)

func TestPhrase(t *testing.T) {
	tests := []struct {
		number, kind, counter, lang string
		want                        []string
	}{
		{"A023", "counter", "5", "it", []string{"it/numero", "it/letter-a", "it/23", "it/sportello", "it/5"}},
		{"A023", "counter", "5", "en", []string{"en/number", "en/letter-a", "en/23", "en/desk", "en/5"}},
		{"W002", "room", "R2", "it", []string{"it/numero", "it/letter-w", "it/2", "it/stanza", "it/2"}},
		{"W002", "room", "R2", "en", []string{"en/number", "en/letter-w", "en/2", "en/room", "en/2"}},
		{"H100", "counter", "18", "it", []string{"it/numero", "it/letter-h", "it/100", "it/sportello", "it/18"}},
		{"AB7", "counter", "1", "en", []string{"en/number", "en/letter-a", "en/letter-b", "en/7", "en/desk", "en/1"}},
		{"XYZ999", "counter", "999", "it", []string{"it/numero", "it/letter-x", "it/letter-y", "it/letter-z", "it/999", "it/sportello", "it/999"}},
		{"C1", "counter", "3", "it", []string{"it/numero", "it/letter-c", "it/1", "it/sportello", "it/3"}},
		{"C000001", "counter", "3", "it", []string{"it/numero", "it/letter-c", "it/1", "it/sportello", "it/3"}}, // leading zeros are never spoken
	}
	for _, tt := range tests {
		got, err := Phrase(tt.number, tt.kind, tt.counter, tt.lang)
		if tt.want == nil {
			if err == nil {
				t.Errorf("Phrase(%q) = %v, want an error", tt.number, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("Phrase(%q, %q, %q, %q): %v", tt.number, tt.kind, tt.counter, tt.lang, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Phrase(%q, %q, %q, %q) = %v, want %v", tt.number, tt.kind, tt.counter, tt.lang, got, tt.want)
		}
	}
}

func TestPhraseRefusesWhatCannotBeSpoken(t *testing.T) {
	bad := []struct{ number, kind, counter, lang string }{
		{"A000", "counter", "5", "it"},    // no ticket 0
		{"A1000", "counter", "5", "it"},   // past 999
		{"", "counter", "5", "it"},        // nothing
		{"023", "counter", "5", "it"},     // no prefix
		{"a023", "counter", "5", "it"},    // as printed: upper case
		{"ABCD1", "counter", "5", "it"},   // prefix too long
		{"A 23", "counter", "5", "it"},    // a space
		{"A023", "desk", "5", "it"},       // unknown kind
		{"A023", "number", "5", "it"},     // not a destination
		{"A023", "counter", "", "it"},     // no counter
		{"A023", "counter", "R", "it"},    // no number in the id
		{"A023", "counter", "0", "it"},    // counter 0
		{"A023", "counter", "1000", "it"}, // past 999
		{"A023", "counter", "5", "fr"},    // no French voice
		{"A023", "counter", "5", ""},
		{"A0\u00e923", "counter", "5", "it"},
	}
	for _, b := range bad {
		if got, err := Phrase(b.number, b.kind, b.counter, b.lang); err == nil {
			t.Errorf("Phrase(%q, %q, %q, %q) = %v, want an error", b.number, b.kind, b.counter, b.lang, got)
		}
	}
}

// TestEveryAnnouncementHasItsClips walks every announcement the built-in
// site can make: every service prefix, every ticket number 1-999, every
// counter and room, in both languages. Phrase must succeed and every clip
// must be an embedded asset.
func TestEveryAnnouncementHasItsClips(t *testing.T) {
	site := hub.BuiltinSite()
	have := map[string]bool{}
	for _, n := range assets.Names() {
		have[n] = true
	}
	checked := map[string]bool{}
	count := 0
	for _, lang := range Languages {
		for _, sv := range site.Services {
			for n := 1; n <= MaxSpoken; n++ {
				number := sv.Prefix + leftPad(n)
				for _, c := range site.Counters {
					clips, err := Phrase(number, string(c.Kind), c.ID, lang)
					if err != nil {
						t.Fatalf("Phrase(%q, %q, %q, %q): %v", number, c.Kind, c.ID, lang, err)
					}
					count++
					for _, clip := range clips {
						if checked[clip] {
							continue
						}
						if !have[ClipFile(clip)] {
							t.Fatalf("announcing %s at %s in %s needs %s, which is not in assets: run make voices", number, c.ID, lang, ClipFile(clip))
						}
						checked[clip] = true
					}
				}
			}
		}
	}
	t.Logf("%d phrases, %d distinct clips", count, len(checked))
	// And the whole announcement of a call resolves to hashed URLs.
	segs, err := Announcement("A023", "counter", "5")
	if err != nil {
		t.Fatal(err)
	}
	if segs[0].Clip != ChimeClip || len(segs) != 11 {
		t.Fatalf("announcement = %+v", segs)
	}
	for _, s := range segs {
		if !strings.HasPrefix(s.URL, assets.Prefix+"voice/") || !strings.HasSuffix(s.URL, ".mp3") {
			t.Fatalf("clip %s has URL %q", s.Clip, s.URL)
		}
	}
}

func leftPad(n int) string {
	s := strconv.Itoa(n)
	for len(s) < 3 {
		s = "0" + s
	}
	return s
}

// TestVoiceAssetsMatchTheClipList: make voices generated exactly the
// clips of Clips(), none missing and none stale, and the set stays small.
func TestVoiceAssetsMatchTheClipList(t *testing.T) {
	want := map[string]bool{}
	for _, c := range Clips() {
		want[ClipFile(c.Name)] = true
	}
	var total int
	got := 0
	for _, n := range assets.Names() {
		if !strings.HasPrefix(n, "voice/") {
			continue
		}
		got++
		if !want[n] {
			t.Errorf("asset %s is not a clip of Clips(): run make voices", n)
		}
		data, _ := assets.Read(n)
		total += len(data)
		if len(data) < 200 || string(data[:3]) != "ID3" && (data[0] != 0xFF || data[1]&0xE0 != 0xE0) {
			t.Errorf("%s (%d bytes) is not an MP3", n, len(data))
		}
	}
	for n := range want {
		if _, ok := assets.Read(n); !ok {
			t.Errorf("clip %s is missing: run make voices", n)
		}
	}
	if got != len(want) {
		t.Errorf("%d voice assets, %d clips", got, len(want))
	}
	if total > 10<<20 {
		t.Errorf("the voice clips take %d bytes, over 10 MiB", total)
	}
	t.Logf("%d clips, %.2f MB", got, float64(total)/1e6)
}

func TestAnnouncementPauses(t *testing.T) {
	segs, err := Announcement("W002", "room", "R2")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range segs {
		names = append(names, s.Clip)
	}
	want := []string{"chime", "it/numero", "it/letter-w", "it/2", "it/stanza", "it/2", "en/number", "en/letter-w", "en/2", "en/room", "en/2"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("clips = %v, want %v", names, want)
	}
	if segs[0].PauseMs != 0 || segs[1].PauseMs != pauseAfterChime || segs[4].PauseMs != pauseComma || segs[6].PauseMs != pauseLanguage || segs[2].PauseMs != pauseWord {
		t.Fatalf("pauses = %+v", segs)
	}
	if _, err := Announcement("A023", "counter", "Z"); err == nil {
		t.Fatal("a counter without a number was accepted")
	}
}

func TestFilter(t *testing.T) {
	site := hub.BuiltinSite()
	d4, _ := findDisplay(site, "4")
	f := FilterOf(d4)
	if f.Shows("5", "certificati") {
		t.Error("display 4 (rooms) shows a call to counter 5")
	}
	if !f.Shows("R2", "servizi_sociali") {
		t.Error("display 4 does not show room R2")
	}
	if got, want := f.QueueServices(site), []string{"servizi_sociali", "consulenza_tributaria", "suap"}; !reflect.DeepEqual(got, want) {
		t.Errorf("display 4 queues = %v, want %v", got, want)
	}
	d1, _ := findDisplay(site, "1")
	if all := FilterOf(d1).QueueServices(site); len(all) != len(site.Services) {
		t.Errorf("display 1 lists %d services, want all %d", len(all), len(site.Services))
	}
	svc := Filter{Services: []string{"tributi"}}
	if svc.Shows("5", "certificati") || !svc.Shows("12", "tributi") {
		t.Error("service filter")
	}
	if got := svc.QueueServices(site); !reflect.DeepEqual(got, []string{"tributi"}) {
		t.Errorf("service filter queues = %v", got)
	}
}

func TestCounterNumber(t *testing.T) {
	for id, want := range map[string]int{"1": 1, "18": 18, "R1": 1, "R5": 5, "Sala12": 12} {
		if got, err := CounterNumber(id); err != nil || got != want {
			t.Errorf("CounterNumber(%q) = %d, %v; want %d", id, got, err, want)
		}
	}
}

func TestDateText(t *testing.T) {
	site := hub.BuiltinSite()
	d := dateText(mustTime(t, "2026-12-01T10:00:00+01:00").In(site.Location()))
	if d.IT != "martedì 1 dicembre 2026" || d.EN != "Tuesday 1 December 2026" {
		t.Errorf("dateText = %+v", d)
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
