package display

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/comune-rc/sportello/assets"
)

// The announcement rules live here and only here: the page asks the hub
// for the clips of each call (GET /display/{id}/phrase) and plays them in
// order, so the voice is the same on every screen and tested in Go.
//
// A call of ticket A023 to counter 5 is spoken
//
//	chime · "Numero A 23, sportello 5" · "Number A 23, desk 5"
//
// and a call to room R2 says "stanza 2" / "room 2". The ticket's leading
// zeros are never spoken ("A 23", not "A zero ventitré").

// Languages are the languages of the announcements, in the order spoken.
var Languages = []string{"it", "en"}

// MaxSpoken is the largest number (of a ticket or a counter) with a clip.
const MaxSpoken = 999

// ChimeClip is the gong played before each announcement.
const ChimeClip = "chime"

// words are the fixed words of each language.
var words = map[string]map[string]string{
	"it": {"number": "numero", "counter": "sportello", "room": "stanza"},
	"en": {"number": "number", "counter": "desk", "room": "room"},
}

// wordTexts is what espeak-ng reads for each fixed word.
var wordTexts = map[string]string{
	"numero": "Numero", "sportello": "sportello", "stanza": "stanza",
	"number": "Number", "desk": "desk", "room": "room",
}

var (
	ticketRe  = regexp.MustCompile(`^([A-Z]{1,3})([0-9]{1,6})$`)
	counterRe = regexp.MustCompile(`^([A-Za-z]*)([0-9]{1,6})$`)
)

// Phrase returns the clips (names without extension, under
// assets/static/voice) that announce ticket number at counter in lang:
// Phrase("A023", "counter", "5", "it") is
// ["it/numero", "it/letter-a", "it/23", "it/sportello", "it/5"].
// kind is "counter" or "room"; a room's id loses its letters ("R2" → 2).
func Phrase(number, kind, counter, lang string) ([]string, error) {
	w, ok := words[lang]
	if !ok {
		return nil, fmt.Errorf("display: no voice for language %q", lang)
	}
	letters, n, err := splitTicket(number)
	if err != nil {
		return nil, err
	}
	dest, ok := w[kind]
	if !ok || kind == "number" {
		return nil, fmt.Errorf("display: unknown destination kind %q (counter or room)", kind)
	}
	cn, err := CounterNumber(counter)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, 4+len(letters))
	out = append(out, lang+"/"+w["number"])
	for _, l := range letters {
		out = append(out, lang+"/letter-"+strings.ToLower(string(l)))
	}
	out = append(out, lang+"/"+strconv.Itoa(n), lang+"/"+dest, lang+"/"+strconv.Itoa(cn))
	return out, nil
}

// splitTicket parses a ticket number as printed ("A023") into its prefix
// letters and its value (23).
func splitTicket(number string) (string, int, error) {
	m := ticketRe.FindStringSubmatch(number)
	if m == nil {
		return "", 0, fmt.Errorf("display: %q is not a ticket number (1-3 letters and digits)", number)
	}
	n, _ := strconv.Atoi(m[2])
	if n < 1 || n > MaxSpoken {
		return "", 0, fmt.Errorf("display: ticket %q: only 1-%d can be spoken", number, MaxSpoken)
	}
	return m[1], n, nil
}

// CounterNumber is the number spoken for a counter or room id: "5" → 5,
// "R2" → 2.
func CounterNumber(id string) (int, error) {
	m := counterRe.FindStringSubmatch(id)
	if m == nil {
		return 0, fmt.Errorf("display: counter %q has no number to speak", id)
	}
	n, _ := strconv.Atoi(m[2])
	if n < 1 || n > MaxSpoken {
		return 0, fmt.Errorf("display: counter %q: only 1-%d can be spoken", id, MaxSpoken)
	}
	return n, nil
}

// Segment is one clip of an announcement with the silence before it.
type Segment struct {
	Clip    string `json:"clip"`
	URL     string `json:"url"`
	PauseMs int    `json:"pause_ms"`
}

// Pauses between the clips of an announcement, in milliseconds.
const (
	pauseAfterChime = 250
	pauseWord       = 30
	pauseComma      = 220 // "Numero A 23, | sportello 5"
	pauseLanguage   = 600
)

// Announcement is the whole announcement of a call: the chime, then the
// phrase in each language, each clip with the pause before it and its
// content-hashed URL.
func Announcement(number, kind, counter string) ([]Segment, error) {
	segs := []Segment{{Clip: ChimeClip}}
	for i, lang := range Languages {
		p, err := Phrase(number, kind, counter, lang)
		if err != nil {
			return nil, err
		}
		for j, c := range p {
			pause := pauseWord
			switch {
			case j == 0 && i == 0:
				pause = pauseAfterChime
			case j == 0:
				pause = pauseLanguage
			case j == len(p)-2:
				pause = pauseComma
			}
			segs = append(segs, Segment{Clip: c, PauseMs: pause})
		}
	}
	for i := range segs {
		u, err := ClipURL(segs[i].Clip)
		if err != nil {
			return nil, err
		}
		segs[i].URL = u
	}
	return segs, nil
}

// ClipFile is the asset name of a clip.
func ClipFile(clip string) string { return "voice/" + clip + ".mp3" }

// ClipURL is the content-hashed URL of a clip, or an error when the clip
// was never generated (run make voices).
func ClipURL(clip string) (string, error) {
	if _, ok := assets.Read(ClipFile(clip)); !ok {
		return "", fmt.Errorf("display: voice clip %s is missing: run make voices", ClipFile(clip))
	}
	return assets.URL(ClipFile(clip)), nil
}

// Clip is one voice clip to generate: its name and what espeak-ng reads
// (Lang is empty for the chime, which sox synthesises).
type Clip struct {
	Name string
	Lang string
	Text string
}

// Clips lists every clip Phrase can name, in both languages, plus the
// chime: what make voices generates.
func Clips() []Clip {
	out := []Clip{{Name: ChimeClip}}
	for _, lang := range Languages {
		for _, k := range []string{"number", "counter", "room"} {
			w := words[lang][k]
			out = append(out, Clip{Name: lang + "/" + w, Lang: lang, Text: wordTexts[w]})
		}
		for l := 'A'; l <= 'Z'; l++ {
			// A capital letter alone is read by its name in both voices
			// ("acca", "aitch").
			out = append(out, Clip{Name: lang + "/letter-" + strings.ToLower(string(l)), Lang: lang, Text: string(l)})
		}
		for n := 1; n <= MaxSpoken; n++ {
			s := strconv.Itoa(n)
			out = append(out, Clip{Name: lang + "/" + s, Lang: lang, Text: s})
		}
	}
	return out
}

// preloadClips are decoded when the page starts: they are in every
// announcement.
func preloadClips() []string {
	out := []string{ChimeClip}
	for _, lang := range Languages {
		for _, k := range []string{"number", "counter", "room"} {
			out = append(out, lang+"/"+words[lang][k])
		}
	}
	return out
}
