package kiosk

import "github.com/comune-rc/sportello/hub"

// texts are every fixed string of the citizen pages, Italian first. The
// templates render the Italian and carry the English beside it; the
// scripts get the whole table for the messages they compose. {x} marks a
// value the script fills in.
var texts = map[string]hub.Text{
	// Totem: frame.
	"lang.switch":    {IT: "English", EN: "Italiano"},
	"tool.contrast":  {IT: "Alto contrasto", EN: "High contrast"},
	"tool.bigtext":   {IT: "Testo grande", EN: "Large text"},
	"tool.settings":  {IT: "Lingua e leggibilità", EN: "Language and readability"},
	"nav.back":       {IT: "Indietro", EN: "Back"},
	"nav.home":       {IT: "Torna all'inizio", EN: "Back to start"},
	"nav.label":      {IT: "Navigazione", EN: "Navigation"},
	"preview.banner": {IT: "Anteprima per il personale: i biglietti emessi qui sono veri ma non vengono stampati.", EN: "Staff preview: tickets issued here are real but are not printed."},

	// Start.
	"start.title":       {IT: "Benvenuto allo Sportello Unico", EN: "Welcome to the One-Stop Shop"},
	"start.sub":         {IT: "Tocca un pulsante per iniziare. Non ti chiederemo dati personali.", EN: "Touch a button to start. We will not ask for personal data."},
	"start.ticket":      {IT: "Prendi il numero", EN: "Take a number"},
	"start.ticket.hint": {IT: "Per parlare con un operatore allo sportello", EN: "To talk to a clerk at a desk"},
	"start.appt":        {IT: "Ho un appuntamento", EN: "I have an appointment"},
	"start.appt.hint":   {IT: "Scansiona o scrivi il codice di prenotazione", EN: "Scan or type your booking code"},
	"start.report":      {IT: "Segnalazione o reclamo", EN: "Report or complaint"},
	"start.report.hint": {IT: "Compilala qui, senza fare la fila", EN: "Fill it in here, without queuing"},

	// Services.
	"groups.title":    {IT: "Di cosa hai bisogno?", EN: "What do you need?"},
	"groups.sub":      {IT: "Scegli un argomento.", EN: "Choose a topic."},
	"services.sub":    {IT: "Scegli il servizio.", EN: "Choose the service."},
	"services.report": {IT: "Compila la segnalazione qui, senza attesa", EN: "Fill in your report here, without waiting"},
	"queue.info":      {IT: "In attesa: {n} · circa {m} min", EN: "Waiting: {n} · about {m} min"},
	"queue.empty":     {IT: "Nessuno in attesa", EN: "Nobody waiting"},
	"room.note":       {IT: "Colloquio in stanza", EN: "Meeting in a room"},

	// Priority.
	"prio.title":   {IT: "Hai diritto alla precedenza?", EN: "Are you entitled to priority?"},
	"prio.sub":     {IT: "Se non sei sicuro, scegli «No».", EN: "If you are not sure, choose “No”."},
	"prio.no":      {IT: "No", EN: "No"},
	"prio.no.hint": {IT: "Prendo il numero normalmente", EN: "I take a regular number"},
	"prio.yes":     {IT: "Sì:", EN: "Yes:"},
	"prio.note":    {IT: "L'operatore verificherà il diritto alla precedenza allo sportello. La scelta non compare sul biglietto né sugli schermi.", EN: "The clerk will check your entitlement at the desk. Your choice is not shown on the ticket or on the screens."},

	// Ticket.
	"ticket.label":    {IT: "Il tuo numero", EN: "Your number"},
	"ticket.position": {IT: "Posizione in coda", EN: "Position in queue"},
	"ticket.ewt":      {IT: "Attesa stimata", EN: "Estimated wait"},
	"ticket.advice":   {IT: "Oggi l'attesa è lunga: può prenotare un appuntamento o tornare più tardi.", EN: "The wait is long today: you can book an appointment or come back later."},
	"ticket.qr":       {IT: "Inquadra il codice QR con il telefono per seguire la coda e sapere quando è il tuo turno.", EN: "Scan the QR code with your phone to follow the queue and know when it is your turn."},
	"ticket.qr.alt":   {IT: "Codice QR per seguire la coda dal telefono", EN: "QR code to follow the queue on your phone"},
	"ticket.done":     {IT: "Fine", EN: "Done"},
	"ticket.return":   {IT: "Lo schermo torna all'inizio tra {s} secondi.", EN: "The screen returns to the start in {s} seconds."},
	"ticket.slot":     {IT: "Appuntamento delle {t}", EN: "Appointment at {t}"},
	"ewt.min":         {IT: "circa {m} minuti", EN: "about {m} minutes"},
	"ewt.one":         {IT: "circa 1 minuto", EN: "about 1 minute"},
	"ewt.soon":        {IT: "meno di un minuto", EN: "less than a minute"},
	"position.none":   {IT: "sarai chiamato all'orario dell'appuntamento", EN: "you will be called at your appointment time"},
	"print.pending":   {IT: "Stampa del biglietto in corso…", EN: "Printing your ticket…"},
	"print.done":      {IT: "Ritira il biglietto stampato.", EN: "Take your printed ticket."},
	"print.failed":    {IT: "La stampa non è riuscita: fotografa o scansiona il QR qui sopra, oppure chiedi all'accoglienza.", EN: "Printing failed: take a photo of the QR code above or scan it, or ask at the reception desk."},
	"print.none":      {IT: "Anteprima: il biglietto non viene stampato.", EN: "Preview: the ticket is not printed."},
	"announce.ticket": {IT: "Il tuo numero è {n}.", EN: "Your number is {n}."},
	"busy":            {IT: "Un momento…", EN: "One moment…"},

	// Check-in.
	"checkin.title": {IT: "Ho un appuntamento", EN: "I have an appointment"},
	"checkin.sub":   {IT: "Avvicina il QR della prenotazione al lettore, oppure scrivi il codice di 8 caratteri.", EN: "Hold your booking's QR code to the reader, or type the 8-character code."},
	"checkin.label": {IT: "Codice di prenotazione", EN: "Booking code"},
	"checkin.keys":  {IT: "Tastiera del codice", EN: "Code keypad"},
	"key.del":       {IT: "Cancella", EN: "Delete"},
	"key.clear":     {IT: "Svuota", EN: "Clear"},
	"checkin.go":    {IT: "Conferma", EN: "Confirm"},

	// Errors the scripts show.
	"err.invalid_code":          {IT: "Questo non sembra un codice di prenotazione: ha 8 caratteri, lettere e numeri (senza 0, 1, I, L, O). Controlla e riprova.", EN: "This does not look like a booking code: it has 8 characters, letters and digits (no 0, 1, I, L, O). Check and try again."},
	"err.missing_field":         {IT: "Scrivi o scansiona il codice di prenotazione.", EN: "Type or scan your booking code."},
	"err.appointment_not_found": {IT: "Non troviamo un appuntamento con questo codice. Controlla il codice o chiedi all'accoglienza.", EN: "We cannot find an appointment with this code. Check the code or ask at the reception desk."},
	"err.appointment_used":      {IT: "Questo appuntamento è già stato registrato. Chiedi all'accoglienza.", EN: "This appointment has already been checked in. Ask at the reception desk."},
	"err.generic":               {IT: "Qualcosa non ha funzionato. Riprova o chiedi all'accoglienza.", EN: "Something went wrong. Try again or ask at the reception desk."},
	"err.network":               {IT: "Il totem non riesce a collegarsi. Riprova tra poco o chiedi all'accoglienza.", EN: "The totem cannot connect. Try again shortly or ask at the reception desk."},
	"err.report_unavailable":    {IT: "Le segnalazioni dal totem non sono disponibili in questo momento. Puoi prendere il numero per «Segnalazioni e reclami» e parlarne con un operatore.", EN: "Reports from the totem are not available right now. You can take a number for “Reports and complaints” and talk to a clerk."},
	"err.report_text":           {IT: "Scrivi una breve descrizione.", EN: "Write a short description."},

	// Reports.
	"report.kind.title":   {IT: "Segnalazione o reclamo", EN: "Report or complaint"},
	"report.kind.sub":     {IT: "Che cosa vuoi fare?", EN: "What would you like to do?"},
	"report.topic.title":  {IT: "Di cosa si tratta?", EN: "What is it about?"},
	"report.text.title":   {IT: "Descrivi brevemente", EN: "Describe it briefly"},
	"report.text.label":   {IT: "Descrizione", EN: "Description"},
	"report.text.hint":    {IT: "Non scrivere dati personali (nome, telefono, codice fiscale).", EN: "Do not write personal data (name, phone number, tax code)."},
	"report.place.title":  {IT: "Dove? (facoltativo)", EN: "Where? (optional)"},
	"report.place.label":  {IT: "Luogo: via, piazza o quartiere", EN: "Place: street, square or district"},
	"report.next":         {IT: "Avanti", EN: "Next"},
	"report.skip":         {IT: "Salta", EN: "Skip"},
	"report.review.title": {IT: "Controlla e invia", EN: "Check and send"},
	"report.review.kind":  {IT: "Tipo", EN: "Type"},
	"report.review.topic": {IT: "Argomento", EN: "Topic"},
	"report.review.place": {IT: "Luogo", EN: "Place"},
	"report.send":         {IT: "Invia", EN: "Send"},
	"report.done.title":   {IT: "Segnalazione registrata", EN: "Report filed"},
	"report.done.proto":   {IT: "Numero di protocollo", EN: "Protocol number"},
	"report.done.next":    {IT: "L'ufficio competente la prenderà in carico. Conserva questo numero (puoi fotografarlo): ti serve per chiedere notizie all'accoglienza o all'Ufficio Relazioni con il Pubblico.", EN: "The office in charge will take it up. Keep this number (you can take a photo of it): you need it to ask about your report at the reception desk or the public relations office."},
	"report.chars":        {IT: "{n} di {max} caratteri", EN: "{n} of {max} characters"},
	"kbd.label":           {IT: "Tastiera", EN: "Keyboard"},
	"kbd.shift":           {IT: "Maiuscola", EN: "Capital"},
	"kbd.space":           {IT: "Spazio", EN: "Space"},

	// Help.
	"help.sent":   {IT: "Un operatore sta arrivando.", EN: "Someone is coming."},
	"help.sub":    {IT: "Resta vicino al totem, per favore.", EN: "Please stay by the totem."},
	"help.failed": {IT: "Non è stato possibile chiamare un operatore. Rivolgiti all'accoglienza.", EN: "We could not call anyone. Please go to the reception desk."},
	"help.ok":     {IT: "Ho capito", EN: "OK"},

	// Tracking page.
	"track.title":        {IT: "Il tuo biglietto", EN: "Your ticket"},
	"track.keep":         {IT: "Tieni aperta questa pagina: si aggiorna da sola e ti avvisa quando è il tuo turno.", EN: "Keep this page open: it updates itself and tells you when it is your turn."},
	"track.sound":        {IT: "Attiva l'avviso sonoro", EN: "Turn on the sound alert"},
	"track.sound.on":     {IT: "Avviso sonoro attivo", EN: "Sound alert on"},
	"track.turn":         {IT: "È il tuo turno: {place}", EN: "It's your turn: {place}"},
	"track.turn.go":      {IT: "Vai subito allo sportello indicato.", EN: "Please go to the desk shown now."},
	"track.turn.go.room": {IT: "Vai subito alla stanza indicata.", EN: "Please go to the room shown now."},
	"track.recall":       {IT: "Ti stanno chiamando di nuovo!", EN: "You are being called again!"},
	"track.serving":      {IT: "Servizio in corso: {place}", EN: "Being served: {place}"},
	"track.done":         {IT: "Servizio concluso. Grazie per la visita!", EN: "Service completed. Thank you for your visit!"},
	"track.no_show":      {IT: "Sei stato chiamato ma non ti sei presentato. Se hai ancora bisogno, chiedi all'accoglienza.", EN: "You were called but did not come. If you still need the service, ask at the reception desk."},
	"track.cancelled":    {IT: "Hai lasciato la coda: il numero è annullato.", EN: "You have left the queue: the number is cancelled."},
	"track.leave":        {IT: "Lascia la coda", EN: "Leave the queue"},
	"track.leave.q":      {IT: "Vuoi davvero lasciare la coda? Il numero sarà annullato e non potrai recuperarlo.", EN: "Do you really want to leave the queue? The number will be cancelled and cannot be recovered."},
	"track.leave.yes":    {IT: "Sì, lascia la coda", EN: "Yes, leave the queue"},
	"track.leave.no":     {IT: "No, resto in coda", EN: "No, stay in the queue"},
	"track.leave.failed": {IT: "Non è stato possibile lasciare la coda. Riprova o chiedi all'accoglienza.", EN: "Could not leave the queue. Try again or ask at the reception desk."},
	"track.live.ok":      {IT: "Aggiornamento in tempo reale", EN: "Live updates"},
	"track.live.retry":   {IT: "Connessione persa: riprovo…", EN: "Connection lost: retrying…"},
	"track.updated":      {IT: "Aggiornato alle {t}", EN: "Updated at {t}"},
	"place.counter":      {IT: "sportello {id}", EN: "desk {id}"},
	"place.room":         {IT: "stanza {id}", EN: "room {id}"},

	// Error pages.
	"forbidden.title":   {IT: "Totem non abilitato", EN: "Totem not enrolled"},
	"forbidden.body":    {IT: "Questa pagina è riservata al totem «{id}». Chiedi all'amministratore di abilitare questo dispositivo: basta aprire una volta l'indirizzo /kiosk/{id}?token=TOKEN_DEL_DISPOSITIVO.", EN: "This page is for totem “{id}”. Ask the administrator to enrol this device: open /kiosk/{id}?token=DEVICE_TOKEN once."},
	"notfound.title":    {IT: "Totem sconosciuto", EN: "Unknown totem"},
	"notfound.body":     {IT: "In questa sede non esiste un totem «{id}». Controlla l'indirizzo.", EN: "There is no totem “{id}” at this office. Check the address."},
	"track404.title":    {IT: "Biglietto non trovato", EN: "Ticket not found"},
	"track404.body":     {IT: "Questo link non corrisponde a un biglietto di oggi. I biglietti valgono solo per il giorno in cui sono emessi: se hai bisogno, prendi un nuovo numero al totem.", EN: "This link does not match a ticket of today. Tickets are valid only on the day they are issued: if you need to, take a new number at the totem."},
	"error.home":        {IT: "Sportello Unico per il Cittadino", EN: "Citizen One-Stop Shop"},
	"track.position":    {IT: "Posizione in coda", EN: "Position in queue"},
	"track.ewt":         {IT: "Attesa stimata", EN: "Estimated wait"},
	"track.number":      {IT: "Il tuo numero", EN: "Your number"},
	"track.loading":     {IT: "Caricamento…", EN: "Loading…"},
	"track.waiting.now": {IT: "Sei il prossimo!", EN: "You are next!"},
}

// tr returns a text by key; a missing key is a bug the page tests catch.
func tr(key string) hub.Text {
	t, ok := texts[key]
	if !ok {
		t, ok = surveyTexts[key]
	}
	if !ok {
		panic("kiosk: no text " + key)
	}
	return t
}
