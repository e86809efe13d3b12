// Package peer is the reference CzRM peer: the development, test and demo
// stand-in for the Comune's Citizen Relationship Management case store,
// which Sportello (crmsync), the contact centre and the SVU web portal
// share. It speaks the two bindings crmsync uses — a Salesforce-shaped
// keyed upsert with OAuth2 client credentials, and Open311 GeoReport v2 —
// plus the records endpoint of the public contract, and serves the staff
// views of the contact centre and the SVU back office. Fault switches let
// tests make it fail the way real peers do.
//
// It keeps its own bbolt file, czrm.db, in Config.Data: buckets created at
// open, big-endian sequence keys, values copied out of transactions, an
// ordered list of migrations; everything but staff sessions survives a
// restart. It is vendor-neutral: the shapes are the public ones of each
// protocol, re-implemented from their specifications.
//
// # Go API
//
//	p, err := peer.New(peer.Config{Data: dir, Demo: true})
//	defer p.Close()
//	srv := httptest.NewServer(p.Handler())
//	p.Faults().Set(peer.KindUpsert, peer.Fault{Mode: peer.ModeDrop, Count: 1})
//	rec, err := p.Record("Sportello_Visit__c", "Visit_Ext_Id__c", ticketID)
//
// or, for the command line, peer.Run(ctx, "127.0.0.1:8090", cfg, ready).
//
// # HTTP surface
//
// Token (Salesforce shape; RFC 6749 client credentials):
//
//	POST /services/oauth2/token   form: grant_type=client_credentials, client_id, client_secret
//	                              (HTTP Basic also accepted)
//	  200 {"access_token","token_type":"Bearer","expires_in","instance_url","issued_at"}
//	  401 {"error":"invalid_client"}          unknown client or wrong secret
//	  400 {"error":"unsupported_grant_type"}  any other grant_type
//	  400 {"error":"invalid_request"}         no grant_type, not a form body
//
// Tokens are 256-bit random strings stored only as SHA-256 hashes; they
// expire after Config.TokenTTL (default 2 h) by the injected clock.
//
// Keyed upsert (Authorization: Bearer TOKEN, or "OAuth TOKEN"):
//
//	PATCH /services/data/vNN.N/sobjects/{Object}/{ExtIdField}/{value}[?updateOnly=true]
//	  body: a JSON object of fields (any JSON values; "attributes" ignored)
//	  201 {"id","success":true,"errors":[],"created":true}   new record
//	  200 {"id","success":true,"errors":[],"created":false}  existing record
//	  400 [{"errorCode":"INVALID_FIELD",...}]     Id or the ext-id field in the body, bad field name
//	  400 [{"errorCode":"JSON_PARSER_ERROR",...}] not one JSON object
//	  400 [{"errorCode":"MALFORMED_ID",...}]      bad ext-id value (1…255 characters of text)
//	  400 [{"errorCode":"INVALID_TYPE_ON_FIELD_IN_RECORD",...}]  the version field is not a non-negative integer
//	  409 [{"errorCode":"STALE_VERSION","fields":["Sync_Seq__c"],...}]  version lower than the record's: nothing changed
//	  401 [{"errorCode":"INVALID_SESSION_ID",...}]
//	  404 [{"errorCode":"NOT_FOUND",...}]         bad version/object/field; updateOnly and no record
//	  413 REQUEST_ENTITY_TOO_LARGE (over 1 MiB), 415 UNSUPPORTED_MEDIA_TYPE (not JSON)
//	GET   same path → 200 the record's fields plus "attributes", "Id" and the ext-id field;
//	                  404 [{"errorCode":"NOT_FOUND",...}]
//
// Objects and fields are schemaless: any API name (letters, digits,
// underscores). Fields in the body replace the stored ones (null stores
// null); the others stay. Values are kept as canonical JSON, so an
// identical repeat — whatever its key order or spacing — is applied
// (Record.Applies grows) but changes neither Version nor updated_at;
// Version grows by one on each upsert that changes something. Answers
// carry Sforce-Limit-Info: api-usage=N/100000.
//
// Version guard: the keyed upsert has no order of its own, so a late call
// (a slow one its sender gave up on, one left behind by a killed sender)
// could put an older state over a newer one. An upsert whose body carries
// the version field (Config.VersionField, default Sync_Seq__c: crmsync
// sends the outbox seq of the visit's state there) is refused with 409
// STALE_VERSION when the record holds a higher value, and changes
// nothing (Stats.Stale counts it, the log line says "stale version"); an
// equal value is applied (a re-delivery). An upsert without the field is
// not guarded. A real Salesforce org does the same with a validation rule
// (docs/crmsync.md).
//
// Records of the contract (bearer token of a client):
//
//	GET /api/v1/records?external_id=ID
//	  200 [{"external_id","object","fields":{...},"version","updated_at"}]  ([] when none)
//	  400 / 401 problem+json (codes invalid_external_id, invalid_token)
//
// Every record under ID: upserted records of any object and ext-id field,
// then the Open311 requests filed with attribute[external_id]=ID as object
// "ServiceRequest" (fields: the public Open311 fields), each oldest first.
// updated_at is RFC 3339 with the Europe/Rome offset.
//
// A citizen's timeline (bearer token of a client; the clerk's desk shows it):
//
//	POST /api/v1/citizens/timeline   {"fiscal_code":"…"} (in the body: never in a URL)
//	  200 {"known":bool,"entries":[{"when","kind","channel","title","number","status",
//	       "status_label","open","services","outcomes","case_id","object"}]}  newest first
//	  400 invalid_body, invalid_fiscal_code; 401 invalid_token
//
// Open311 GeoReport v2 subset, JSON only (".json"), single jurisdiction
// "reggiocalabria.it" (jurisdiction_id optional; any other is 404):
//
//	GET  /open311/v2/discovery.json
//	GET  /open311/v2/services.json            the catalogue: the hub's report topics
//	GET  /open311/v2/services/{code}.json     attributes: external_id, kind, channel, protocol, codice_fiscale
//	POST /open311/v2/requests.json            application/x-www-form-urlencoded
//	  200 [{"service_request_id":"RC-2026-000123","service_notice":"…"}]
//	  403 [{"code":403,...}] api_key missing or invalid
//	  404 [{"code":404,...}] unknown service_code or jurisdiction_id
//	  400 [{"code":400,...}] anything else (see ParseRequestForm)
//	GET  /open311/v2/requests.json            service_request_id (comma list, overrides the rest),
//	                                          service_code (comma list), start_date/end_date (RFC 3339,
//	                                          ≤ 90 days apart, default the last 90 days), status
//	                                          (open, closed), external_id (our extension: no default window)
//	GET  /open311/v2/requests/{id}.json       [request] or 404
//
// api_key is a client's secret or one of its access tokens, in the form,
// the query string or an Authorization: Bearer header. A request needs a
// location (lat+long, address_string or address_id) unless it carries
// attribute[external_id] and a description: a complaint about a service
// has no place. Open311 has no idempotency: a second POST with the same
// external id creates a second request (kept, and counted in
// Stats.Duplicates); reconcile with GET requests.json?external_id= first.
// Answers never carry the personal fields (email, names, phone, device
// and account ids, attribute[codice_fiscale]); the staff views show them.
// service_request_id is the citizen-facing protocol PREFIX-YEAR-NNNNNN,
// numbered per year in Europe/Rome.
//
// Staff views (server-rendered HTML, Italian; session cookie; every form
// carries a CSRF token and is refused, 403, when the token is wrong or the
// browser says cross-site):
//
//	GET  /                          index of the surface
//	GET  /czrm/login, POST /czrm/login, POST /czrm/logout
//	GET  /czrm/                     search form
//	POST /czrm/cerca                q = codice fiscale (→ 303 /czrm/cittadini/{handle}) or case id
//	                                (→ 303 /czrm/casi/{id}); a form post, so the code is never in a URL
//	GET  /czrm/cittadini/{handle}   the citizen's open cases and timeline across channels
//	POST /czrm/contatti             log a phone contact (cf, topic, outcome, notes)
//	GET  /czrm/casi                 every open case
//	GET  /czrm/casi/{id}            a case by service_request_id or external id
//	POST /czrm/casi/{id}/chiudi     close an Open311 request (status_notes)
//
// A citizen's handle is an HMAC of the codice fiscale under a key kept in
// czrm.db. An upserted record belongs to the citizen when a field named
// like Codice_Fiscale__c, CodiceFiscale, fiscal_code or cf holds a valid
// code; an Open311 request when attribute[codice_fiscale] does. Fields are
// read by folded name (Channel__c = channel = Canale__c; Status__c,
// Service__c, Services/Requested, Outcome__c, Steps__c, Number__c,
// Issued_At__c…), so whatever names Sportello chooses show up. A record is
// an open case when its status is set and is not done, no_show,
// cancelled, closed (or an Italian equivalent). Phone contacts are stored
// as records of object Contatto_Telefonico__c, ext-id field
// Contact_Ext_Id__c (value TEL-YYYYMMDD-…), with Channel__c "phone".
//
// Fault admin (only in Demo — secret "demo" — or with Config.AdminSecret;
// Authorization: Bearer ADMIN_SECRET, else 401):
//
//	GET    /_peer/faults               {"kind": {"mode","count","status","retry_after_s","delay_ms"}}
//	PUT    /_peer/faults/{kind}        body {"mode":"error|throttle|hang|drop|slow","count":K,
//	                                   "status":N,"retry_after_s":N,"delay_ms":N} → the active faults
//	DELETE /_peer/faults/{kind}, DELETE /_peer/faults (all)
//	GET    /_peer/stats                {"token":Stats,"upsert":Stats,"open311":Stats,"records":Stats}
//	                                   (Stats: calls, faulted, applied, created, updated, unchanged,
//	                                   duplicates, dropped, stale)
//	DELETE /_peer/stats                204, counters back to zero
//	POST   /_peer/revoke-tokens        204, every token now gets 401
//
// kind is token, upsert (the whole sObject API: PATCH and GET), open311,
// records or all; a fault on a kind wins over the one on all. The views
// and the admin endpoints are never faulted.
//
// # Data protection
//
// Log lines carry the method, the route pattern (never the path, the query
// or a body), the status and the duration: no codice fiscale, case id,
// token or secret. czrm.db is created 0600 in a 0700 directory.
package peer
