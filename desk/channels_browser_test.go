package desk_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/comune-rc/sportello/crmsync"
	"github.com/comune-rc/sportello/crmsync/peer"
	"github.com/comune-rc/sportello/desk"
	"github.com/comune-rc/sportello/hub"
	"github.com/comune-rc/sportello/hub/hubtest"
	"github.com/comune-rc/sportello/kiosk"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"
)

// TestBrowserPhoneCaseToSportelloToCzRM is the channels end to end: a
// citizen phoned the contact centre (a case in the CzRM); the agent books
// a slot through the API, linked to that case ("send to sportello"); the
// citizen checks in at the totem with the booking code; the clerk's desk
// shows the appointment, the linked case and the citizen's CzRM history
// with the phone call; the visit is finished and appears on the citizen's
// timeline in the CzRM, and the hub keeps only the hash of the code.
func TestBrowserPhoneCaseToSportelloToCzRM(t *testing.T) {
	const cf, name, caseID = "RSSMRA85T10A562S", "Mario Rossi", "TEL-20261201-0042"
	czrm, err := peer.New(peer.Config{Data: t.TempDir(), Demo: true})
	require.NoError(t, err)
	psrv := httptest.NewServer(czrm.Handler())
	t.Cleanup(func() { _ = czrm.Close(); psrv.CloseClientConnections(); psrv.Close() })
	up, o311, err := crmsync.NewCzRMBindings(psrv.URL, "sportello", "demo", crmsync.Mapping{}, nil)
	require.NoError(t, err)

	// The phone call, as the contact centre logged it in the CzRM.
	phone, err := crmsync.NewUpsertClient(crmsync.UpsertConfig{BaseURL: psrv.URL, ClientID: "sportello", ClientSecret: "demo",
		Mapping: crmsync.Mapping{Object: "Contatto_Telefonico__c", ExtIDField: "Contact_Ext_Id__c"}})
	require.NoError(t, err)
	_, err = phone.Upsert(context.Background(), caseID, map[string]any{"Codice_Fiscale__c": cf, "Channel__c": "phone",
		"Topic__c": "anagrafe: cambio di residenza", "Outcome__c": "appuntamento", "Status__c": "open",
		"Contact_At__c": time.Now().Add(-24 * time.Hour).Format(time.RFC3339)})
	require.NoError(t, err)

	var w *crmsync.Worker
	h := hubtest.Start(t, hubtest.Options{Pages: func(h *hubtest.Hub) []func(*echo.Echo) {
		eng := h.Engine
		w, err = crmsync.New(crmsync.Config{Store: h.Store, Upsert: up, Open311: o311, Location: eng.Site().Location(), Logger: hubtest.Quiet,
			PollInterval: 5 * time.Millisecond, NoReconcile: true,
			Reduce: func(ctx context.Context, id string) error { return eng.ReduceCitizen(ctx, id) }})
		require.NoError(t, err)
		history := up.CitizenHistory
		return []func(*echo.Echo){
			desk.Mount(desk.Config{Engine: eng, Accounts: h.Accounts, Refresh: time.Second, History: history}),
			kiosk.Mount(kiosk.Config{Engine: eng, PublicURL: h.URL}),
			crmsync.Mount(w),
		}
	}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	// The agent books a free slot of the next working day.
	c := client(t)
	agent := map[string]string{"Authorization": "Bearer " + bearer(t, h, "clerk01"), "Content-Type": "application/json"}
	loc := h.Engine.Site().Location()
	day := time.Now().In(loc).AddDate(0, 0, 1)
	for day.Weekday() == time.Saturday || day.Weekday() == time.Sunday {
		day = day.AddDate(0, 0, 1)
	}
	r := do(t, c, http.MethodGet, h.URL+"/api/v1/slots?service=residenza&day="+day.Format("2006-01-02"), "", nil)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	var slots []struct {
		Start string `json:"start"`
		Free  int    `json:"free"`
	}
	r.JSON(t, &slots)
	slot := ""
	for _, s := range slots {
		if s.Free > 0 {
			slot = s.Start
			break
		}
	}
	require.NotEmpty(t, slot, "no free slot: %s", r.Body)
	r = do(t, c, http.MethodPost, h.URL+"/api/v1/bookings", `{"service":"residenza","slot":"`+slot+`","channel":"phone","case_id":"`+caseID+`",
	  "citizen":{"fiscal_code":"`+cf+`","name":"`+name+`"}}`, agent)
	require.Equal(t, http.StatusCreated, r.Status, r.Body)
	var booking struct {
		Code   string `json:"code"`
		CaseID string `json:"case_id"`
		PDFURL string `json:"pdf_url"`
	}
	r.JSON(t, &booking)
	require.Equal(t, caseID, booking.CaseID)
	pdf := do(t, c, http.MethodGet, booking.PDFURL, "", nil)
	require.Equal(t, http.StatusOK, pdf.Status)
	require.True(t, strings.HasPrefix(pdf.Body, "%PDF"), "the confirmation is a PDF")

	// The citizen types the code at the totem.
	r = do(t, c, http.MethodPost, h.URL+"/kiosk/totem-1/checkin", `{"code":"`+booking.Code+`"}`,
		map[string]string{"Authorization": "Bearer demo-totem-1", "Content-Type": "application/json"})
	require.Equal(t, http.StatusCreated, r.Status, r.Body)
	var ticket struct{ ID, Number, Appointment string }
	r.JSON(t, &ticket)
	require.Equal(t, booking.Code, ticket.Appointment)
	require.NotContains(t, r.Body, cf, "the totem's answer carries no personal data")

	// The clerk at desk 10 (residenza) calls it.
	_, err = h.Engine.OpenCounter(context.Background(), "10", "clerk10")
	require.NoError(t, err)
	tab := tab(t)
	browserLogin(t, tab, h, "clerk10", "/desk")
	_, err = h.Engine.CallTicket(context.Background(), "10", "clerk10", ticket.ID)
	require.NoError(t, err)
	waitFor(t, tab, "the appointment and the case at the desk", `(document.querySelector('#cur-number') || {}).textContent === `+jsString(ticket.Number)+` &&
	  document.querySelector('#cur-appointment').textContent === `+jsString(booking.Code)+` &&
	  (document.querySelector('#cur-case') || {}).textContent === `+jsString(caseID))
	waitFor(t, tab, "the citizen's CzRM history with the phone call", `(() => {
	  const items = Array.from(document.querySelectorAll('#czrm-history-list li'));
	  return items.some(li => li.dataset.caseId === `+jsString(caseID)+` && li.textContent.includes('Contatto telefonico') && li.textContent.includes('cambio di residenza'));
	})()`)
	shot(t, tab, "czrm-history")
	// The history is only for the citizen at the clerk's own counter.
	other := client(t)
	csrf := pageLogin(t, h, other, "clerk03")
	r = api(t, other, csrf, http.MethodGet, h.URL+"/desk/history?ticket="+ticket.ID, "")
	require.Equal(t, http.StatusForbidden, r.Status, r.Body)
	require.NotContains(t, r.Body, "Contatto")

	// The visit is served and finished; it reaches the citizen's CzRM
	// timeline, linked to the case, and the hub keeps only the hash.
	_, err = h.Engine.Start(context.Background(), "10", "clerk10")
	require.NoError(t, err)
	_, err = h.Engine.Finish(context.Background(), "10", "clerk10", hub.FinishRequest{Outcome: "pratica_avviata"})
	require.NoError(t, err)
	w.Notify()
	deadline := time.Now().Add(15 * time.Second)
	for {
		es, known, err := up.CitizenHistory(context.Background(), cf)
		require.NoError(t, err)
		require.True(t, known)
		found := false
		for _, e := range es {
			if e.Number == ticket.Number && e.Kind == "Visita allo sportello" && e.Status == "done" {
				found = true
			}
		}
		tk, _ := h.Store.Ticket(ticket.ID)
		if found && tk != nil && tk.Citizen != nil && tk.Citizen.FiscalCode == "" {
			require.Equal(t, h.Engine.PersonKey(cf), tk.Citizen.Hash)
			require.Empty(t, tk.Citizen.Name)
			break
		}
		require.True(t, time.Now().Before(deadline), "the visit is not on the citizen's CzRM timeline (reduced: %v): %+v", tk != nil && tk.Citizen != nil && tk.Citizen.FiscalCode == "", es)
		time.Sleep(10 * time.Millisecond)
	}
	appt, err := h.Engine.Appointment(booking.Code)
	require.NoError(t, err)
	require.Equal(t, &hub.Citizen{Hash: h.Engine.PersonKey(cf)}, appt.Citizen, "the appointment is reduced with its visit")
	recs, err := czrm.Records(ticket.ID)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	require.JSONEq(t, `"`+caseID+`"`, string(recs[0].Fields["Case_Id__c"]))
	require.JSONEq(t, `"pratica_avviata"`, string(recs[0].Fields["Outcome__c"]))
}
