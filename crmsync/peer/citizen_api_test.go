package peer_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// POST /api/v1/citizens/timeline: the citizen's records across objects
// and channels, newest first, the code only in the body.
func TestCitizenTimelineAPI(t *testing.T) {
	e := start(t)
	tok := e.token(t)
	cf := validCF(t, "BNCLRA90E55H224")
	other := validCF(t, "RSSMRA80A01H224")
	require.Equal(t, 201, e.upsert(t, tok, "Contatto_Telefonico__c", "Contact_Ext_Id__c", "TEL-20260301-0001",
		`{"Codice_Fiscale__c":"`+cf+`","Channel__c":"phone","Topic__c":"tributi","Outcome__c":"richiamare","Status__c":"open","Contact_At__c":"2026-03-01T10:00:00+01:00"}`).Status)
	require.Equal(t, 201, e.upsert(t, tok, "Sportello_Visit__c", "Visit_Ext_Id__c", "cedir-20260302-A023",
		`{"Codice_Fiscale__c":"`+cf+`","Ticket_Number__c":"A023","Service__c":"tributi","Status__c":"done","Channel__c":"totem","Issued_At__c":"2026-03-02T09:00:00+01:00"}`).Status)
	require.Equal(t, 201, e.upsert(t, tok, "Sportello_Visit__c", "Visit_Ext_Id__c", "cedir-20260302-A024",
		`{"Codice_Fiscale__c":"`+other+`","Ticket_Number__c":"A024","Status__c":"done","Channel__c":"totem"}`).Status)

	url := e.URL + "/api/v1/citizens/timeline"
	r := do(t, "POST", url, `{"fiscal_code":"`+cf+`"}`, bearer(tok))
	require.Equal(t, 200, r.Status, r.Body)
	var tl struct {
		Known   bool
		Entries []struct {
			Kind, Channel, Title, Number, Status, CaseID string
			Open                                         bool
		}
	}
	r.JSON(t, &tl)
	require.True(t, tl.Known)
	require.Len(t, tl.Entries, 2, r.Body)
	require.Equal(t, "Visita allo sportello", tl.Entries[0].Kind, "newest first")
	require.Equal(t, "A023", tl.Entries[0].Number)
	require.False(t, tl.Entries[0].Open)
	require.Equal(t, "Contatto telefonico", tl.Entries[1].Kind)
	require.Equal(t, "tributi", tl.Entries[1].Title)
	require.True(t, tl.Entries[1].Open)
	require.NotContains(t, r.Body, "A024", "only this citizen")

	r = do(t, "POST", url, `{"fiscal_code":"`+validCF(t, "VRDNNA75C41H224")+`"}`, bearer(tok))
	require.Equal(t, 200, r.Status)
	require.JSONEq(t, `{"known":false,"entries":[]}`, r.Body)
	for _, tc := range []struct {
		body, code string
		status     int
	}{
		{`{"fiscal_code":"RSSMRA80A01H22"}`, "invalid_fiscal_code", 400},
		{`{"cf":"x"}`, "invalid_body", 400},
		{`nope`, "invalid_body", 400},
	} {
		r = do(t, "POST", url, tc.body, bearer(tok))
		require.Equal(t, tc.status, r.Status, tc.body)
		require.Equal(t, tc.code, r.Map(t)["code"], tc.body)
	}
	r = do(t, "POST", url, `{"fiscal_code":"`+cf+`"}`, nil)
	require.Equal(t, 401, r.Status)
	require.NotContains(t, r.Body, "A023")
	require.Contains(t, e.logs.String(), "/api/v1/citizens/timeline")
	require.NotContains(t, e.logs.String(), cf, "the code is never logged")
}
