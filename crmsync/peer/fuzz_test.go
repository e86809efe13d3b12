package peer_test

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/comune-rc/sportello/crmsync/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseFiscalCode(t *testing.T) {
	for _, ok := range []string{
		"RSSMRA80A01H501U", "RSSMRA85T10A562S", "rssmra80a01h501u", " RSS MRA 80A01 H501U ",
		validCF(t, "BNCLRA90E55H224"), // a woman: day + 40
		validCF(t, "RSSMRA80A01H50M"), // omocodia: the last digit of the place as a letter
		validCF(t, "RSSMRAULALMHRNM"), // every digit position homocodic
	} {
		cf, err := peer.ParseFiscalCode(ok)
		if assert.NoError(t, err, ok) {
			assert.Len(t, cf, 16)
			assert.Equal(t, strings.ToUpper(strings.ReplaceAll(ok, " ", "")), cf)
		}
	}
	for _, c := range []struct {
		in  string
		err error
	}{
		{"", peer.ErrFiscalLength},
		{"RSSMRA80A01H501", peer.ErrFiscalLength},
		{"RSSMRA80A01H501UX", peer.ErrFiscalLength},
		{"12345678901", peer.ErrFiscalLength},
		{"RSSMRA80A01H501V", peer.ErrFiscalCheck},
		{"RSSMRA80Z01H501U", peer.ErrFiscalFormat}, // no month Z
		{"RSSMRA80A32H501U", peer.ErrFiscalFormat}, // day 32
		{"RSSMRA80A00H501U", peer.ErrFiscalFormat}, // day 0
		{"RSSMRA80A35H501U", peer.ErrFiscalFormat}, // neither a man's nor a woman's day
		{"RSSMR480A01H501U", peer.ErrFiscalFormat}, // digit among the letters
		{"RSSMRA8AA01H501U", peer.ErrFiscalFormat}, // A is no omocodia letter
		{"RSSMRA80A01H50-U", peer.ErrFiscalFormat},
		{"RSSMRA80A01H501è", peer.ErrFiscalLength},
	} {
		_, err := peer.ParseFiscalCode(c.in)
		assert.ErrorIs(t, err, c.err, c.in)
		if err != nil && len(c.in) >= 11 {
			assert.NotContains(t, err.Error(), c.in, "errors never repeat the code")
		}
	}
	assert.Equal(t, "RSSMRA**********", peer.MaskFiscalCode("RSSMRA80A01H501U"))
}

func FuzzParseFiscalCode(f *testing.F) {
	for _, s := range []string{"RSSMRA80A01H501U", "rssmra80a01h501u", "RSSMRA80A01H50MU", " x ", "", "RSSMRA80A41H501", "ÀÀÀÀÀÀ80A01H501U"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cf, err := peer.ParseFiscalCode(s)
		if err != nil {
			require.Empty(t, cf)
			return
		}
		require.Len(t, cf, 16)
		for _, c := range cf {
			require.True(t, c >= 'A' && c <= 'Z' || c >= '0' && c <= '9', "normalized: %q", cf)
		}
		again, err := peer.ParseFiscalCode(cf)
		require.NoError(t, err)
		require.Equal(t, cf, again, "idempotent")
		// Any single change of the check character breaks it.
		last := cf[15]
		other := byte('A' + (last-'A'+1)%26)
		_, err = peer.ParseFiscalCode(cf[:15] + string(other))
		require.ErrorIs(t, err, peer.ErrFiscalCheck)
	})
}

func TestParseRequestFormLocationRule(t *testing.T) {
	parse := func(q string) error {
		v, err := url.ParseQuery(q)
		require.NoError(t, err)
		_, err = peer.ParseRequestForm(v)
		return err
	}
	assert.NoError(t, parse("service_code=strade&lat=38.11&long=15.66"))
	assert.NoError(t, parse("service_code=strade&address_id=RC-0001234"))
	assert.NoError(t, parse("service_code=servizi&attribute[external_id]=x&description=attesa"))
	assert.Error(t, parse("service_code=servizi&attribute[external_id]=x"))
	assert.Error(t, parse("service_code=servizi&description=attesa"))
	assert.Error(t, parse("service_code=strade&lat=38.11&long=NaN"))
	assert.Error(t, parse("service_code=strade&address_id=x&attribute[external_id]=a&attribute[external_id]=b"))
}

func FuzzParseRequestForm(f *testing.F) {
	for _, s := range []string{
		"service_code=strade&address_string=Via+Roma+1&description=buca",
		"service_code=illuminazione&lat=38.11&long=15.66&attribute[kind]=segnalazione&attribute[tags][]=a&attribute[tags][]=b",
		"service_code=servizi&attribute[external_id]=SP-2026-000001&description=attesa&attribute[codice_fiscale]=RSSMRA80A01H501U",
		"service_code=strade&service_code=verde&address_id=1",
		"service_code=acqua&lat=1e400&long=-0&email=a%40b.it&media_url=https://x.example/p.jpg",
		"attribute[=1&attribute[a][b]=2&jurisdiction_id=reggiocalabria.it",
		"service_code=altro&address_string=%00&description=%3Cb%3E",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		v, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		r, err := peer.ParseRequestForm(v)
		if err != nil {
			require.Nil(t, r)
			require.NotEmpty(t, err.Error())
			return
		}
		known := false
		for _, s := range peer.Services {
			known = known || s.Code == r.ServiceCode
		}
		require.True(t, known, "service %q", r.ServiceCode)
		require.Equal(t, "open", r.Status)
		require.LessOrEqual(t, utf8.RuneCountInString(r.Description), 4000)
		require.True(t, utf8.ValidString(r.Description) && utf8.ValidString(r.Address))
		require.True(t, (r.Lat != nil) == (r.Long != nil))
		if r.Lat != nil {
			require.True(t, *r.Lat >= -90 && *r.Lat <= 90 && *r.Long >= -180 && *r.Long <= 180)
		}
		hasPlace := r.Lat != nil || r.Address != "" || r.AddressID != ""
		require.True(t, hasPlace || (r.ExternalID != "" && r.Description != ""), "the location rule")
		for _, cf := range r.Attributes["codice_fiscale"] {
			_, err := peer.ParseFiscalCode(cf)
			require.NoError(t, err)
		}
		require.LessOrEqual(t, len(r.Attributes), 20)
	})
}
