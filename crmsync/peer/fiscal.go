package peer

import (
	"errors"
	"strings"
)

// Errors of ParseFiscalCode. Their text is Italian because the views show
// it; it never contains the code itself.
var (
	ErrFiscalLength = errors.New("il codice fiscale deve avere 16 caratteri")
	ErrFiscalFormat = errors.New("il codice fiscale non ha il formato previsto (6 lettere, anno, mese, giorno, comune, carattere di controllo)")
	ErrFiscalCheck  = errors.New("il carattere di controllo del codice fiscale non corrisponde")
)

// omocodia: in a homocodic code (DM 12/03/1974, art. 5) the digits of the
// positions below are replaced, from the right, by these letters.
const omocodiaLetters = "LMNPQRSTUV"

// Positions (0-based) that hold a digit, or its omocodia letter.
var digitPositions = [...]int{6, 7, 9, 10, 12, 13, 14}

const monthLetters = "ABCDEHLMPRST"

// Odd-position values (1st, 3rd, …) of the check-character algorithm, for
// 0-9 and A-Z; even positions count 0-9 and A-Z as 0…25.
var oddValues = [36]int{
	1, 0, 5, 7, 9, 13, 15, 17, 19, 21, // 0-9
	1, 0, 5, 7, 9, 13, 15, 17, 19, 21, // A-J
	2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23, // K-Z
}

// NormalizeFiscalCode trims spaces and upper-cases s; it does not validate.
func NormalizeFiscalCode(s string) string {
	return strings.ToUpper(strings.Join(strings.Fields(s), ""))
}

// ParseFiscalCode validates a natural person's codice fiscale (16
// characters: surname, name, year, month letter, day (+40 for women),
// cadastral code of the birthplace, check character; omocodia accepted)
// and returns it normalized (upper case, no spaces). The 11-digit codes of
// companies and temporary codes are refused: the views look up citizens.
func ParseFiscalCode(s string) (string, error) {
	cf := NormalizeFiscalCode(s)
	if len(cf) != 16 {
		return "", ErrFiscalLength
	}
	// Letters everywhere but the digit positions, which take a digit or an
	// omocodia letter.
	isDigitPos := [16]bool{}
	for _, p := range digitPositions {
		isDigitPos[p] = true
	}
	var plain [16]byte // the code with omocodia letters turned back into digits
	for i := 0; i < 16; i++ {
		c := cf[i]
		switch {
		case isDigitPos[i]:
			if c >= '0' && c <= '9' {
				plain[i] = c
			} else if k := strings.IndexByte(omocodiaLetters, c); k >= 0 {
				plain[i] = byte('0' + k)
			} else {
				return "", ErrFiscalFormat
			}
		case c >= 'A' && c <= 'Z':
			plain[i] = c
		default:
			return "", ErrFiscalFormat
		}
	}
	if strings.IndexByte(monthLetters, plain[8]) < 0 {
		return "", ErrFiscalFormat
	}
	day := int(plain[9]-'0')*10 + int(plain[10]-'0')
	if !(day >= 1 && day <= 31 || day >= 41 && day <= 71) {
		return "", ErrFiscalFormat
	}
	if cf[15] != fiscalCheck(cf[:15]) {
		return "", ErrFiscalCheck
	}
	return cf, nil
}

// fiscalCheck computes the check character of the first 15 characters
// (upper-case letters and digits).
func fiscalCheck(s string) byte {
	sum := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		idx := 0
		switch {
		case c >= '0' && c <= '9':
			idx = int(c - '0')
		case c >= 'A' && c <= 'Z':
			idx = int(c-'A') + 10
		}
		if i%2 == 0 { // 1st, 3rd, … (1-based odd)
			sum += oddValues[idx]
		} else if idx >= 10 {
			sum += idx - 10
		} else {
			sum += idx
		}
	}
	return byte('A' + sum%26)
}

// MaskFiscalCode keeps the first six characters (the surname and name
// letters) and hides the rest, for the rare place where a code must be
// hinted at without being disclosed. Logs never carry even this.
func MaskFiscalCode(cf string) string {
	if len(cf) <= 6 {
		return strings.Repeat("*", len(cf))
	}
	return cf[:6] + strings.Repeat("*", len(cf)-6)
}
