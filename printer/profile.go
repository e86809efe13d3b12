package printer

import (
	"fmt"
	"sort"
	"strings"

	"golang.org/x/text/encoding/charmap"
)

// CodePage is a single-byte character set a printer can select with ESC t.
// The ESC t number is not part of it because vendors number the same table
// differently (PC858 is 19 on Epson, 19 or 53 on Chinese clones): the number
// lives in the Profile.
type CodePage struct {
	Name    string
	Charmap *charmap.Charmap
}

// The code pages that print the euro sign and every Italian accented letter.
// PC858 is the default: it is PC850 with D5 turned into €, and it is present
// on Epson and on every clone we know. PC437 and PC850 are not offered: they
// have no €, and PC437 lacks È Ì Ò.
var (
	PC858     = CodePage{Name: "PC858", Charmap: charmap.CodePage858}
	WPC1252   = CodePage{Name: "WPC1252", Charmap: charmap.Windows1252}
	ISO885915 = CodePage{Name: "ISO-8859-15", Charmap: charmap.ISO8859_15}
)

// Profile tells the encoder and the transports what one printer model needs.
// Sportello never asks the printer what it is: the installer picks a profile,
// and a test ticket (àèéìòù € ÀÈÉÌÒÙ) confirms the code page on the device.
type Profile struct {
	Name string
	// Columns is the number of font A (12×24) characters on a line.
	Columns int
	// DotsWidth is the printable width in dots: 576 (80 mm at 203 dpi),
	// 512 (80 mm at 180 dpi) or 384 (58 mm).
	DotsWidth int
	// CodePage is the character set text is encoded in, selected with
	// ESC t CodePageN.
	CodePage  CodePage
	CodePageN byte
	// NativeQR is true when the firmware prints QR codes itself (GS ( k);
	// otherwise the encoder sends the QR as a raster image (GS v 0).
	NativeQR bool
	// QRModule is the size of one QR module in dots.
	QRModule int
	// NeedsFSDot is true for Chinese firmware that reads bytes ≥ 0x80 as
	// GB18030 until FS . cancels Chinese mode, which ESC @ may turn back on.
	NeedsFSDot bool
	// Status is true when the printer answers DLE EOT. The transports do
	// not see the profile: a printer without status is opened with
	// status=off in its SPEC, or every Print would find it offline.
	Status bool
}

// The built-in profiles. Epson's TM-T20II/III take ESC t 19 for PC858 and
// print QR natively; the 80 mm Chinese clones (Xprinter, NT-80) do the same
// once FS . has switched off Chinese mode; the 58 mm clones (POS-5890,
// ZJ-5870) often lack GS ( k, so they get raster QR codes.
var builtinProfiles = map[string]Profile{
	"epson-tm-t20": {
		Name: "epson-tm-t20", Columns: 48, DotsWidth: 576,
		CodePage: PC858, CodePageN: 19,
		NativeQR: true, QRModule: 6, Status: true,
	},
	"generic-80mm": {
		Name: "generic-80mm", Columns: 48, DotsWidth: 576,
		CodePage: PC858, CodePageN: 19,
		NativeQR: true, QRModule: 6, NeedsFSDot: true, Status: true,
	},
	"generic-58mm": {
		Name: "generic-58mm", Columns: 32, DotsWidth: 384,
		CodePage: PC858, CodePageN: 19,
		NativeQR: false, QRModule: 5, NeedsFSDot: true, Status: true,
	},
}

// DefaultProfile is the profile used when none is configured.
const DefaultProfile = "epson-tm-t20"

// ProfileNames lists the built-in profiles, sorted.
func ProfileNames() []string {
	names := make([]string, 0, len(builtinProfiles))
	for n := range builtinProfiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// LookupProfile returns the built-in profile with that name. The error lists
// the known names, so a typo in a totem's configuration is obvious.
func LookupProfile(name string) (Profile, error) {
	p, ok := builtinProfiles[name]
	if !ok {
		return Profile{}, fmt.Errorf("printer: unknown profile %q (known: %s)", name, strings.Join(ProfileNames(), ", "))
	}
	return p, nil
}

// WithCodePage returns a copy of p that encodes text in cp, selected with
// ESC t n. Use it when the test ticket shows that a model needs WPC1252
// (Epson n = 16) or ISO-8859-15 (Epson n = 40) instead of PC858.
func (p Profile) WithCodePage(cp CodePage, n byte) Profile {
	p.CodePage = cp
	p.CodePageN = n
	return p
}
