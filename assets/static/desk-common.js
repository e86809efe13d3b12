/* Sportello staff pages: what the desk, the supervisor console and the
 * admin page share. The API is called with the session cookie and the
 * session's CSRF token (meta csrf-token); waits are counted with the hub's
 * clock (GET /desk/clock), not the PC's; the live feed only says "something
 * changed", the pages then ask the API. */
(function () {
  'use strict';

  var S = {};
  window.Sportello = S;

  var meta = document.querySelector('meta[name="csrf-token"]');
  S.csrf = meta ? meta.getAttribute('content') : '';
  S.data = (function () {
    var el = document.getElementById('page-data');
    if (!el) return {};
    try { return JSON.parse(el.textContent); } catch (e) { return {}; }
  })();

  // ---- texts ------------------------------------------------------------

  S.T = function (it, en) { return { it: it, en: en || it }; };

  // tr returns a fragment: the Italian text, then the English one.
  S.tr = function (t) {
    var f = document.createDocumentFragment();
    if (t === null || t === undefined) return f;
    if (typeof t === 'string') { f.appendChild(document.createTextNode(t)); return f; }
    var it = document.createElement('span');
    it.className = 'it';
    it.textContent = t.it;
    f.appendChild(it);
    if (t.en && t.en !== t.it) {
      f.appendChild(document.createTextNode(' '));
      var en = document.createElement('span');
      en.className = 'en';
      en.lang = 'en';
      en.textContent = t.en;
      f.appendChild(en);
    }
    return f;
  };

  S.plain = function (t) {
    if (!t) return '';
    if (typeof t === 'string') return t;
    return t.en && t.en !== t.it ? t.it + ' · ' + t.en : t.it;
  };

  // el builds an element: attrs (class, id, text, html-free), children.
  S.el = function (tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === undefined || v === null || v === false) return;
        if (k === 'text') e.textContent = v;
        else if (k === 'class') e.className = v;
        else if (k === 'dataset') Object.keys(v).forEach(function (d) { e.dataset[d] = v[d]; });
        else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), v);
        else if (v === true) e.setAttribute(k, '');
        else e.setAttribute(k, v);
      });
    }
    (children || []).forEach(function (c) {
      if (c === null || c === undefined || c === false) return;
      if (typeof c === 'string') c = document.createTextNode(c);
      else if (!(c instanceof Node)) c = S.tr(c);
      e.appendChild(c);
    });
    return e;
  };

  S.clear = function (e) { while (e.firstChild) e.removeChild(e.firstChild); return e; };

  // ---- messages -----------------------------------------------------------

  function put(id, t) {
    var box = document.getElementById(id);
    if (!box) return;
    S.clear(box);
    if (t) box.appendChild(S.tr(t));
  }
  var msgTimer = 0;
  S.say = function (t) {
    put('err', null);
    put('msg', t);
    window.clearTimeout(msgTimer);
    msgTimer = window.setTimeout(function () { put('msg', null); }, 8000);
  };
  S.warn = function (t) {
    put('msg', null);
    put('err', t);
  };
  S.fail = function (err) {
    put('msg', null);
    put('err', S.errText(err));
  };

  var errTexts = {
    not_at_counter: S.T('Questa postazione è tenuta da un altro operatore.', 'This place is held by another clerk.'),
    clerk_elsewhere: S.T('Hai già un\'altra postazione aperta: chiudila prima.', 'You already hold another place: close it first.'),
    counter_closed: S.T('La postazione non è aperta (o è in pausa).', 'The place is not open (or is paused).'),
    counter_busy: S.T('C\'è ancora un cittadino alla postazione: concludi o segna «non presentato».', 'A citizen is still at the place: finish or mark as no-show.'),
    no_current_ticket: S.T('Nessun cittadino alla postazione.', 'No citizen at the place.'),
    ticket_not_called: S.T('Il ticket non è in chiamata.', 'The ticket is not being called.'),
    ticket_not_served: S.T('Il ticket non è in servizio.', 'The ticket is not being served.'),
    ticket_not_waiting: S.T('Il ticket non è più in attesa.', 'The ticket is no longer waiting.'),
    not_eligible: S.T('Questa postazione non serve quel ticket.', 'This place does not serve that ticket.'),
    duplicate_service: S.T('La visita ha già quel servizio.', 'The visit already has that service.'),
    csrf_failed: S.T('La pagina è scaduta: ricaricala.', 'The page has expired: reload it.'),
    forbidden: S.T('Il tuo ruolo non può farlo.', 'Your role may not do this.'),
    unauthorized: S.T('La sessione è scaduta: accedi di nuovo.', 'Your session has expired: log in again.'),
    session_expired: S.T('La sessione è scaduta: accedi di nuovo.', 'Your session has expired: log in again.'),
    invalid_token: S.T('La sessione è terminata: accedi di nuovo.', 'Your session has ended: log in again.'),
    invalid_password: S.T('La password deve avere da 8 a 72 caratteri.', 'The password must be 8 to 72 characters.'),
    invalid_username: S.T('Il nome utente deve avere da 1 a 64 caratteri.', 'The username must be 1 to 64 characters.'),
    prefix_taken: S.T('Il prefisso è già di un altro servizio.', 'The prefix belongs to another service.'),
    service_in_use: S.T('Postazioni dell\'altro tipo servono questo servizio: togliglielo prima.', 'Places of the other kind serve this service: remove it from them first.'),
    invalid_prefix: S.T('Il prefisso è di 1-3 lettere maiuscole.', 'The prefix is 1-3 capital letters.'),
    kind_fixed: S.T('Una postazione non cambia tipo: creane una nuova.', 'A place keeps its kind: create a new one.'),
    last_admin: S.T('È l\'ultimo amministratore attivo: creane prima un altro.', 'This is the last active administrator: make another one first.'),
    service_inactive: S.T('Il servizio è disattivato: niente nuovi ticket.', 'The service is switched off: no new tickets.'),
    invalid_services: S.T('Profilo non valido: almeno un servizio, adatto al tipo di postazione.', 'Invalid profile: at least one service, fit for the kind of place.'),
    network: S.T('Hub non raggiungibile: riprovo.', 'Hub unreachable: retrying.')
  };
  S.errText = function (err) {
    if (err && err.code && errTexts[err.code]) {
      var t = errTexts[err.code];
      if (err.code === 'clerk_elsewhere' && err.message) return S.T(t.it + ' (' + err.message + ')', t.en);
      return t;
    }
    var d = (err && err.message) || String(err);
    return S.T('Errore: ' + d, 'Error: ' + d);
  };

  // ---- the API ------------------------------------------------------------

  S.goLogin = function () {
    if (S.leaving) return;
    S.leaving = true;
    window.location.assign('/login?reason=expired&next=' + encodeURIComponent(window.location.pathname + window.location.search));
  };

  S.api = function (method, path, body) {
    var opts = { method: method, headers: { 'Accept': 'application/json' }, credentials: 'same-origin', cache: 'no-store' };
    if (method !== 'GET' && method !== 'HEAD') opts.headers['X-CSRF-Token'] = S.csrf;
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    return fetch(path, opts).then(function (r) {
      if (r.status === 204) return null;
      return r.text().then(function (txt) {
        var data = null;
        if (txt) { try { data = JSON.parse(txt); } catch (e) { data = null; } }
        if (r.status === 401) S.goLogin();
        if (!r.ok) {
          var err = new Error((data && (data.detail || data.title)) || ('HTTP ' + r.status));
          err.status = r.status;
          err.code = data && data.code;
          err.field = data && data.field;
          throw err;
        }
        return data;
      });
    }, function () {
      var err = new Error('network');
      err.code = 'network';
      throw err;
    });
  };

  // ---- the hub's clock ------------------------------------------------------

  var offset = 0;
  S.now = function () { return Date.now() + offset; };
  S.syncClock = function () {
    var t0 = Date.now();
    return S.api('GET', '/desk/clock').then(function (d) {
      var t1 = Date.now();
      var hub = Date.parse(d.now);
      if (!isNaN(hub)) offset = hub - (t0 + t1) / 2;
    });
  };

  S.time = function (iso) {
    if (!iso) return '—';
    var d = new Date(iso);
    if (isNaN(d.getTime()) || d.getFullYear() < 2000) return '—';
    try {
      return d.toLocaleTimeString('it-IT', { hour: '2-digit', minute: '2-digit', timeZone: S.data.timezone || undefined });
    } catch (e) {
      return d.toLocaleTimeString('it-IT', { hour: '2-digit', minute: '2-digit' });
    }
  };
  S.dateTime = function (iso) {
    if (!iso) return '—';
    var d = new Date(iso);
    if (isNaN(d.getTime())) return '—';
    var o = { day: '2-digit', month: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' };
    try { o.timeZone = S.data.timezone || undefined; return d.toLocaleString('it-IT', o); } catch (e) { delete o.timeZone; return d.toLocaleString('it-IT', o); }
  };

  // minutes formats a duration in ms for people: "< 1 min", "12 min", "1 h 05".
  S.minutes = function (ms) {
    if (!(ms >= 0)) ms = 0;
    var m = Math.floor(ms / 60000);
    if (m < 1) return '< 1 min';
    if (m < 60) return m + ' min';
    var h = Math.floor(m / 60);
    var r = m % 60;
    return h + ' h ' + (r < 10 ? '0' : '') + r;
  };
  S.valid = function (iso) {
    if (!iso) return false;
    var t = Date.parse(iso);
    return !isNaN(t) && new Date(t).getFullYear() >= 2000;
  };

  // tick refreshes every element that shows a time since data-from (to
  // data-to when set), so that tables need no rebuild to stay current.
  S.tick = function () {
    var now = S.now();
    document.querySelectorAll('[data-from]').forEach(function (e) {
      var from = Date.parse(e.dataset.from);
      if (isNaN(from)) return;
      var to = e.dataset.to ? Date.parse(e.dataset.to) : now;
      e.textContent = S.minutes(to - from);
    });
  };
  S.since = function (iso, to) {
    if (!S.valid(iso)) return S.el('span', { text: '—' });
    return S.el('span', { class: 'since', dataset: to ? { from: iso, to: to } : { from: iso }, text: S.minutes((to ? Date.parse(to) : S.now()) - Date.parse(iso)) });
  };
  window.setInterval(S.tick, 5000);

  // queuedSince is when a waiting ticket joined its current queue: its
  // issue, or the end of its last passage at a counter (a transfer, a
  // park).
  S.queuedSince = function (t) {
    var st = t.steps || [];
    for (var i = st.length - 1; i >= 0; i--) {
      if (st[i].ended_at) return st[i].ended_at;
    }
    return t.issued_at;
  };
  S.parked = function (t) {
    if (t.parked) return t.status === 'waiting';
    var st = t.steps || [];
    return t.status === 'waiting' && st.length > 0 && st[st.length - 1].ended_by === 'parked';
  };

  // ---- the site -------------------------------------------------------------

  S.services = {};
  (S.data.services || []).forEach(function (s) { S.services[s.id] = s; });
  S.counterDefs = {};
  (S.data.counters || []).forEach(function (c) { S.counterDefs[c.id] = c; });
  S.serviceName = function (id) { var s = S.services[id]; return s ? s.name : S.T(id); };
  S.counterName = function (id) { var c = S.counterDefs[id]; return c ? c.name : S.T(id); };

  S.stateNames = {
    open: S.T('Aperto', 'Open'),
    paused: S.T('In pausa', 'Paused'),
    closed: S.T('Chiuso', 'Closed')
  };
  S.statusNames = {
    waiting: S.T('In attesa', 'Waiting'),
    called: S.T('Chiamato', 'Called'),
    serving: S.T('In servizio', 'Being served'),
    done: S.T('Concluso', 'Done'),
    no_show: S.T('Non presentato', 'No-show'),
    cancelled: S.T('Annullato', 'Cancelled')
  };
  S.reasonName = function (code) {
    var r = (S.data.pauses || []).find(function (p) { return p.code === code; });
    return r ? r.text : (code ? S.T(code) : null);
  };

  // ---- live feed ------------------------------------------------------------

  S.seq = null;
  function setLive(on) {
    var box = document.getElementById('live');
    var txt = document.getElementById('live-text');
    if (!box || !txt) return;
    box.dataset.state = on ? 'on' : 'off';
    S.clear(txt).appendChild(S.tr(on ? S.T('In diretta', 'Live') : S.T('Riconnessione…', 'Reconnecting…')));
  }
  // live calls onMessage for every message of the feed, reconnecting with
  // backoff and resuming with since=.
  S.live = function (onMessage) {
    var delay = 500;
    var timer = 0;
    function retry() {
      window.clearTimeout(timer);
      timer = window.setTimeout(connect, delay);
      delay = Math.min(delay * 2, 15000);
    }
    function connect() {
      var url = (window.location.protocol === 'https:' ? 'wss://' : 'ws://') + window.location.host + '/api/v1/live' +
        (S.seq !== null ? '?since=' + S.seq : '');
      var ws;
      try { ws = new WebSocket(url); } catch (e) { retry(); return; }
      ws.onopen = function () { delay = 500; setLive(true); };
      ws.onmessage = function (ev) {
        var m;
        try { m = JSON.parse(ev.data); } catch (e) { return; }
        if (typeof m.seq === 'number') S.seq = m.seq;
        onMessage(m);
      };
      ws.onclose = function () { setLive(false); retry(); };
      ws.onerror = function () { try { ws.close(); } catch (e) { /* closing */ } };
    }
    connect();
  };

  // catalogueChanged offers a reload when an admin has added or changed a
  // service or added a place: the page's lists of services and counters
  // come with the page, and reloading by itself could lose what the
  // clerk or supervisor is typing.
  S.catalogueChanged = function (m) {
    if (!/^service\.|^counter\.created$/.test(m.type) || document.getElementById('catalogue-banner')) return;
    var main = document.querySelector('main') || document.body;
    var banner = S.el('div', { id: 'catalogue-banner', class: 'catalogue-banner', role: 'status' }, [
      S.el('p', null, [S.T('L\'amministratore ha modificato servizi o sportelli.', 'An administrator changed services or desks.')]),
      S.el('button', { type: 'button', id: 'catalogue-reload', class: 'btn', onclick: function () { window.location.reload(); } },
        [S.T('Ricarica la pagina', 'Reload the page')])
    ]);
    main.insertBefore(banner, main.firstChild);
  };

  // debounce runs fn at most once per ms, and always after the last call.
  S.debounce = function (fn, ms) {
    var timer = 0;
    return function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(fn, ms);
    };
  };

  // serial wraps an async refresh so that calls never overlap: a call
  // while one runs schedules exactly one more.
  S.serial = function (fn) {
    var running = null;
    var again = false;
    function run() {
      if (running) { again = true; return running; }
      running = Promise.resolve().then(fn).catch(function (e) {
        if (e && e.status !== 401) S.fail(e);
      }).then(function () {
        running = null;
        if (again) { again = false; return run(); }
      });
      return running;
    }
    return run;
  };

  // ---- tables ---------------------------------------------------------------

  // patchRows brings a tbody to rows [{key, sig, build}] rebuilding only
  // the rows whose signature changed, so that focus and screen-reader
  // position survive refreshes.
  S.patchRows = function (tbody, rows) {
    var existing = {};
    Array.prototype.forEach.call(tbody.children, function (tr) { existing[tr.dataset.key] = tr; });
    var active = document.activeElement;
    var activeId = active && tbody.contains(active) ? active.id : '';
    var prev = null;
    rows.forEach(function (r) {
      var tr = existing[r.key];
      if (!tr || tr.dataset.sig !== r.sig) {
        var n = r.build();
        n.dataset.key = r.key;
        n.dataset.sig = r.sig;
        if (tr) tbody.replaceChild(n, tr);
        tr = n;
      }
      delete existing[r.key];
      var want = prev ? prev.nextSibling : tbody.firstChild;
      if (want !== tr) tbody.insertBefore(tr, want);
      prev = tr;
    });
    Object.keys(existing).forEach(function (k) { existing[k].remove(); });
    if (activeId && !tbody.contains(document.activeElement)) {
      var again = document.getElementById(activeId);
      if (again) again.focus();
    }
  };

  S.cell = function (tag, children, attrs) { return S.el(tag || 'td', attrs, children); };

  // ---- audit ----------------------------------------------------------------

  S.actionNames = {
    'ticket.issued': S.T('Ticket emesso', 'Ticket issued'),
    'ticket.called': S.T('Chiamato', 'Called'),
    'ticket.recalled': S.T('Richiamato', 'Recalled'),
    'ticket.started': S.T('Servizio iniziato', 'Service started'),
    'ticket.finished': S.T('Servizio concluso', 'Service finished'),
    'ticket.no_show': S.T('Non presentato', 'No-show'),
    'ticket.transferred': S.T('Trasferito', 'Transferred'),
    'ticket.cancelled': S.T('Annullato', 'Cancelled'),
    'ticket.parked': S.T('Parcheggiato', 'Parked'),
    'ticket.updated': S.T('Visita aggiornata', 'Visit updated'),
    'ticket.printed': S.T('Stampato', 'Printed'),
    'ticket.print_failed': S.T('Stampa non riuscita', 'Print failed'),
    'ticket.reprint': S.T('Ristampa', 'Reprint'),
    'counter.opened': S.T('Postazione aperta', 'Place opened'),
    'counter.closed': S.T('Postazione chiusa', 'Place closed'),
    'counter.paused': S.T('Postazione in pausa', 'Place paused'),
    'counter.updated': S.T('Profilo cambiato', 'Profile changed'),
    'notice.changed': S.T('Messaggio schermi', 'Display message'),
    'day.closed': S.T('Giornata chiusa', 'Day closed'),
    'appointment.booked': S.T('Appuntamento prenotato', 'Appointment booked'),
    'totem.help': S.T('Richiesta di aiuto', 'Help request'),
    'report.filed': S.T('Segnalazione', 'Report filed'),
    'service.created': S.T('Servizio creato', 'Service created'),
    'service.updated': S.T('Servizio modificato', 'Service changed'),
    'counter.created': S.T('Postazione creata', 'Place created'),
    'user.created': S.T('Utente creato', 'User created'),
    'user.updated': S.T('Utente modificato', 'User changed'),
    'device.enrolled': S.T('Dispositivo registrato', 'Device enrolled')
  };

  // loadAudit fills tbody with the latest actions (newest first): the
  // trail is read forward from a seq, so it starts from the feed's seq.
  S.loadAudit = function (tbody, count, actor) {
    var since = S.seq !== null ? Math.max(0, S.seq - count) : 0;
    var q = '?since=' + since + '&limit=' + count + (actor ? '&actor=' + encodeURIComponent(actor) : '');
    return S.api('GET', '/api/v1/audit' + q).then(function (entries) {
      entries = (entries || []).slice().reverse();
      S.patchRows(tbody, entries.map(function (a) {
        return {
          key: String(a.seq), sig: '1', build: function () {
            return S.el('tr', { dataset: { action: a.action, actor: a.actor || '' } }, [
              S.el('td', { text: S.dateTime(a.at) }),
              S.el('td', { class: 'actor', text: a.actor || '—' }),
              S.el('td', null, [S.actionNames[a.action] || S.T(a.action), ' ', S.el('code', { class: 'id', text: a.action })]),
              S.el('td', { text: a.target || '' }),
              S.el('td', { text: a.detail || '' })
            ]);
          }
        };
      }));
      return entries;
    });
  };

  // ---- the service profile editor (supervisor, admin) ---------------------

  S.profileEditor = function (onSaved) {
    var dlg = document.getElementById('profile-dialog');
    if (!dlg) return null;
    var form = document.getElementById('profile-form');
    var box = document.getElementById('profile-services');
    var errBox = document.getElementById('profile-error');
    var current = null;
    var opener = null;
    document.getElementById('profile-cancel').addEventListener('click', function () { dlg.close(); });
    dlg.addEventListener('close', function () {
      if (opener && document.body.contains(opener)) opener.focus();
      current = null;
    });
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      if (!current) return;
      var chosen = Array.prototype.filter.call(box.querySelectorAll('input[type=checkbox]'), function (i) { return i.checked; })
        .map(function (i) { return i.value; });
      errBox.hidden = true;
      var id = current.id;
      S.api('PUT', '/api/v1/counters/' + encodeURIComponent(id) + '/services', { services: chosen }).then(function () {
        dlg.close();
        S.say(S.T('Servizi della postazione ' + id + ' aggiornati.', 'Services of place ' + id + ' updated.'));
        if (onSaved) onSaved();
      }, function (err) {
        S.clear(errBox).appendChild(S.tr(S.errText(err)));
        errBox.hidden = false;
      });
    });
    return {
      open: function (counter, from) {
        current = counter;
        opener = from || document.activeElement;
        S.clear(document.getElementById('profile-counter')).textContent = counter.id;
        S.clear(box);
        errBox.hidden = true;
        var room = counter.kind === 'room';
        (S.data.services || []).filter(function (s) { return !!s.room === room; }).forEach(function (s) {
          var input = S.el('input', { type: 'checkbox', name: 'service', value: s.id, id: 'profile-svc-' + s.id });
          input.checked = (counter.services || []).indexOf(s.id) >= 0;
          box.appendChild(S.el('label', { class: 'choice', for: 'profile-svc-' + s.id }, [input, ' ', s.name]));
        });
        dlg.showModal();
        var first = box.querySelector('input');
        if (first) first.focus();
      }
    };
  };
})();
