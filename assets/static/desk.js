/* The desk terminal of a counter or consultation room: take a place,
 * call, serve and end visits, from the keyboard as well as the mouse. */
(function () {
  'use strict';
  var S = window.Sportello;
  var D = S.data;
  var T = S.T;
  function $(id) { return document.getElementById(id); }

  var st = {
    id: D.held || null,   // the place shown: held, or chosen in the select
    counters: [],
    counter: null,
    waiting: [],
    parked: [],
    parkedFor: '',
    parkedStale: true,
    curSig: '',
    panel: null,
    opener: null,
    busy: false
  };

  var sel = $('counter-select');
  var curTitle = $('cur-title');
  var btn = {
    open: $('btn-open'), resume: $('btn-resume'), pause: $('btn-pause'), backoffice: $('btn-backoffice'), close: $('btn-close'),
    next: $('btn-next'), recall: $('btn-recall'), start: $('btn-start'), finish: $('btn-finish'), noshow: $('btn-noshow'),
    transfer: $('btn-transfer'), park: $('btn-park'), add: $('btn-add')
  };

  function mine(c) { return !!c && c.state !== 'closed' && c.clerk === D.user; }
  function held() { return st.counters.find(mine) || null; }
  function ticket() { return st.counter && st.counter.ticket ? st.counter.ticket : null; }
  function canCall() { var c = st.counter; return mine(c) && c.state === 'open' && !c.ticket; }
  function path(action) { return '/api/v1/counters/' + encodeURIComponent(st.id) + '/' + action; }

  // ---- refresh ------------------------------------------------------------

  var refresh = S.serial(function () {
    return Promise.all([S.api('GET', '/api/v1/counters'), S.syncClock()]).then(function (res) {
      st.counters = res[0] || [];
      renderSelect();
      var h = held();
      st.id = h ? h.id : (sel.value || null);
      st.counter = st.counters.find(function (c) { return c.id === st.id; }) || null;
      if (!st.id) { st.waiting = []; st.parked = []; return; }
      var id = encodeURIComponent(st.id);
      var t = ticket();
      // Parked tickets are not in the counter's list (they are called back
      // by name): they need the whole waiting list, fetched only when
      // something may have parked or unparked one.
      var wantParked = st.parkedStale || st.parkedFor !== st.id;
      st.parkedStale = false;
      var jobs = [
        S.api('GET', '/api/v1/tickets?status=waiting&counter=' + id),
        wantParked ? S.api('GET', '/api/v1/tickets?status=waiting') : Promise.resolve(null)
      ];
      return Promise.all(jobs).then(function (r) {
        st.waiting = r[0] || [];
        var here = st.id;
        if (r[1]) {
          st.parked = r[1].filter(function (x) { return x.target === here && S.parked(x); });
          st.parkedFor = here;
        }
      });
    }).then(render);
  });

  // ---- rendering ------------------------------------------------------------

  var selSig = '';
  function renderSelect() {
    var h = held();
    var opts = st.counters.filter(function (c) { return c.state === 'closed' || c.clerk === D.user; });
    var sig = opts.map(function (c) { return c.id; }).join(',') + '|' + (h ? h.id : '');
    if (sig !== selSig) {
      var keep = h ? h.id : sel.value;
      S.clear(sel);
      if (!h) sel.appendChild(S.el('option', { value: '', text: '— Scegli · Choose —' }));
      var groups = [
        { kind: 'counter', label: 'Sportelli · Desks' },
        { kind: 'room', label: 'Stanze di consulenza · Consultation rooms' }
      ];
      groups.forEach(function (g) {
        var og = S.el('optgroup', { label: g.label });
        opts.filter(function (c) { return c.kind === g.kind; }).forEach(function (c) {
          var name = c.name || S.counterName(c.id);
          og.appendChild(S.el('option', { value: c.id, text: c.id + ' — ' + name.it + ' · ' + name.en }));
        });
        if (og.children.length) sel.appendChild(og);
      });
      if (keep && opts.some(function (c) { return c.id === keep; })) sel.value = keep;
      selSig = sig;
    }
    if (h) sel.value = h.id;
    sel.disabled = !!h;
  }

  function render() {
    var c = st.counter;
    var h = held();
    var t = ticket();
    var isMine = mine(c);

    // The place's state.
    var badge = $('state');
    var state = c ? c.state : 'closed';
    badge.className = 'badge ' + state;
    S.clear(badge).appendChild(S.tr(S.stateNames[state]));
    if (state === 'paused' && c.reason) {
      badge.appendChild(document.createTextNode(': '));
      badge.appendChild(S.tr(S.reasonName(c.reason)));
    }
    var since = S.clear($('state-since'));
    if (c && state !== 'closed' && S.valid(c.since)) {
      since.appendChild(S.tr(T('da', 'for')));
      since.appendChild(document.createTextNode(' '));
      since.appendChild(S.since(c.since));
    }
    if (c && !isMine && c.state !== 'closed') {
      since.appendChild(document.createTextNode(' — ' + c.clerk));
    }
    var sl = S.clear($('services-line'));
    if (c) {
      sl.appendChild(S.tr(T('Servizi:', 'Services:')));
      (c.services || []).forEach(function (id, i) {
        sl.appendChild(document.createTextNode(i ? ', ' : ' '));
        sl.appendChild(S.el('span', { class: 'svc', text: S.serviceName(id).it }));
      });
    }

    // The buttons.
    var status = t ? t.status : '';
    var active = status === 'called' || status === 'serving';
    btn.open.disabled = !!h || !sel.value;
    btn.resume.disabled = !(isMine && c.state === 'paused');
    btn.pause.disabled = !(isMine && c.state === 'open');
    btn.backoffice.disabled = !(isMine && c.state === 'open');
    btn.close.disabled = !(isMine && !t);
    btn.next.disabled = !canCall();
    btn.recall.disabled = !(isMine && status === 'called');
    btn.start.disabled = !(isMine && status === 'called');
    btn.finish.disabled = !(isMine && active);
    btn.noshow.disabled = !(isMine && status === 'called');
    btn.transfer.disabled = !(isMine && active);
    btn.park.disabled = !(isMine && active);
    btn.add.disabled = !(isMine && active);
    if (st.panel && !(isMine && active)) closePanel(true);

    renderCurrent(t);
    renderWaiting();
    S.tick();
  }

  function fact(dt, dd, cls) {
    return S.el('div', { class: cls || null }, [S.el('dt', null, [dt]), S.el('dd', null, dd)]);
  }

  function renderCurrent(t) {
    var box = $('current');
    var requested = t && t.requested ? t.requested : [];
    var sig = t ? [t.id, t.status, t.recalls, requested.join(','), t.case_id || '', t.citizen ? t.citizen.name + t.citizen.fiscal_code : ''].join('|') : 'none';
    if (sig === st.curSig) return;
    st.curSig = sig;
    S.clear(box);
    if (!t) {
      box.appendChild(S.el('p', { class: 'empty' }, [T('Nessun cittadino alla postazione.', 'No citizen at the place.')]));
      renderHistory(null);
      return;
    }
    var called = t.called_at;
    var steps = t.steps || [];
    var cur = steps.length ? steps[steps.length - 1] : null;
    var waitedFrom = t.issued_at;
    for (var i = steps.length - 2; i >= 0; i--) { if (steps[i].ended_at) { waitedFrom = steps[i].ended_at; break; } }
    var prio = t.priority && t.priority !== 'none';
    var notes = steps.filter(function (s) { return s.notes && s.ended_at; }).map(function (s) { return s.counter + ': ' + s.notes; });
    var services = [t.service].concat(requested);

    box.appendChild(S.el('div', { class: 'ticket-head' }, [
      S.el('p', { class: 'number', id: 'cur-number', text: t.number }),
      S.el('div', null, [
        S.el('p', { class: 'service', id: 'cur-service' }, [S.serviceName(t.service)]),
        S.el('p', { class: 'status badge ' + t.status, id: 'cur-status' }, [S.statusNames[t.status] || T(t.status)])
      ])
    ]));
    box.appendChild(S.el('dl', { class: 'facts' }, [
      fact(T('Attesa prima della chiamata', 'Waited before the call'), [S.since(waitedFrom, called)]),
      fact(T('Alla postazione da', 'At the place for'), [S.since(cur && cur.started_at ? cur.started_at : called)]),
      fact(T('Priorità', 'Priority'), [S.el('span', { id: 'cur-priority', class: prio ? 'prio' : '' }, [(D.priorities || {})[t.priority] || T(t.priority || '—')])], prio ? 'prio-fact' : null),
      fact(T('Appuntamento', 'Appointment'), [S.el('span', { id: 'cur-appointment', text: t.appointment || '—' })]),
      fact(T('Canale', 'Channel'), [(D.channels || {})[t.channel] || T(t.channel || '—')]),
      fact(T('Servizi richiesti', 'Requested services'), [S.el('span', { id: 'cur-services' }, services.map(function (id, i) {
        return S.el('span', { class: 'svc' }, [i ? ', ' : '', S.serviceName(id).it]);
      }))]),
      t.citizen && (t.citizen.name || t.citizen.fiscal_code) ? fact(T('Cittadino', 'Citizen'), [S.el('span', { id: 'cur-citizen', text: [t.citizen.name, t.citizen.fiscal_code].filter(Boolean).join(' · ') })]) : null,
      t.case_id ? fact(T('Pratica CzRM', 'CzRM case'), [S.el('span', { id: 'cur-case', text: t.case_id })]) : null,
      fact(T('Richiami', 'Recalls'), [S.el('span', { id: 'cur-recalls', text: String(t.recalls || 0) })]),
      fact(T('Note', 'Notes'), [S.el('span', { id: 'cur-notes', text: notes.length ? notes.join(' · ') : '—' })])
    ]));
    renderHistory(t);
  }

  // renderHistory fills the history card with the citizen's contacts with
  // the city on every channel, as the CzRM has them (GET /desk/history:
  // the hub asks the CzRM; the fiscal code does not travel in a URL).
  var historyFor = null;
  function renderHistory(t) {
    var box = $('czrm-history');
    var list = $('czrm-history-list');
    var note = $('czrm-history-note');
    S.clear(list);
    S.clear(note);
    var has = !!(t && t.citizen && t.citizen.fiscal_code);
    historyFor = has ? t.id : null;
    box.hidden = !has;
    $('history-empty').hidden = has;
    delete box.dataset.state;
    if (!has) return;
    var id = t.id;
    note.appendChild(S.tr(T('Caricamento…', 'Loading…')));
    S.api('GET', '/desk/history?ticket=' + encodeURIComponent(id)).then(function (h) {
      if (historyFor !== id) return; // another citizen meanwhile
      S.clear(note);
      box.dataset.state = h.error ? 'error' : (h.known ? 'known' : 'unknown');
      if (h.error) { note.appendChild(S.tr(h.error)); return; }
      if (!h.available) { note.appendChild(S.tr(T('Storico non disponibile.', 'No history available.'))); return; }
      if (!h.entries.length) { note.appendChild(S.tr(T('Nessun contatto precedente nel CzRM.', 'No earlier contact in the CzRM.'))); return; }
      h.entries.forEach(function (e) {
        list.appendChild(S.el('li', { class: e.open ? 'open' : null, dataset: { caseId: e.case_id } }, [
          S.el('span', { class: 'when', text: S.dateTime(e.when) }), ' ',
          S.el('b', { text: e.kind }), e.title ? ' — ' + e.title : '', e.number ? ' (' + e.number + ')' : '',
          e.status_label ? S.el('span', { class: 'badge', text: e.status_label }) : null,
          e.outcomes && e.outcomes.length ? ' · ' + e.outcomes.join(', ') : ''
        ]));
      });
    }, function () { S.clear(note); note.appendChild(S.tr(T('Storico non disponibile.', 'No history available.'))); });
  }

  function callButton(t, label) {
    return S.el('button', {
      type: 'button', class: 'btn small call', id: 'call-' + t.id, disabled: !canCall(),
      dataset: { ticket: t.id }, 'aria-label': 'Chiama ' + t.number + ' · Call ' + t.number
    }, [label]);
  }

  function transferNote(t) {
    var steps = t.steps || [];
    var last = steps.length ? steps[steps.length - 1] : null;
    var bits = [];
    if (last && last.ended_by === 'transferred') bits.push('da ' + last.counter + ' · from ' + last.counter);
    if (last && last.notes) bits.push(last.notes);
    if (t.appointment) bits.push('app. ' + t.appointment);
    return bits.join(' — ');
  }

  function renderWaiting() {
    var can = canCall();
    var wbody = $('waiting').tBodies[0];
    S.patchRows(wbody, st.waiting.map(function (t) {
      var prio = t.priority && t.priority !== 'none';
      return {
        key: t.id, sig: [t.number, t.service, t.position, transferNote(t), prio, can].join('|'), build: function () {
          return S.el('tr', { dataset: { number: t.number } }, [
            S.el('th', { scope: 'row' }, [S.el('span', { class: 'num', text: t.number }),
              prio ? S.el('span', { class: 'tag prio', title: 'Con priorità · With priority' }, ['P']) : null]),
            S.el('td', null, [S.serviceName(t.service).it]),
            S.el('td', null, [S.since(S.queuedSince(t))]),
            S.el('td', { text: t.position ? String(t.position) : '—' }),
            S.el('td', { class: 'note', text: transferNote(t) }),
            S.el('td', null, [callButton(t, T('Chiama', 'Call'))])
          ]);
        }
      };
    }));
    $('waiting-choose').hidden = !!st.id;
    $('waiting-empty').hidden = st.waiting.length > 0 || !st.id;
    $('waiting').hidden = st.waiting.length === 0;
    $('q-count').textContent = st.waiting.length ? '(' + st.waiting.length + ')' : '';

    var pbody = $('parked').tBodies[0];
    S.patchRows(pbody, st.parked.map(function (t) {
      var last = (t.steps || [])[t.steps.length - 1] || {};
      return {
        key: t.id, sig: [t.number, last.notes, can].join('|'), build: function () {
          return S.el('tr', { dataset: { number: t.number } }, [
            S.el('th', { scope: 'row', text: t.number }),
            S.el('td', null, [S.serviceName(t.service).it]),
            S.el('td', null, [S.since(last.ended_at)]),
            S.el('td', { class: 'note', text: last.notes || '' }),
            S.el('td', null, [callButton(t, T('Richiama', 'Call back'))])
          ]);
        }
      };
    }));
    $('parked-empty').hidden = st.parked.length > 0;
    $('parked').hidden = st.parked.length === 0;
    $('p-count').textContent = st.parked.length ? '(' + st.parked.length + ')' : '';
  }

  // ---- actions --------------------------------------------------------------

  function run(promise, ok) {
    st.busy = true;
    document.body.classList.add('busy');
    return promise.then(function (res) {
      if (ok) S.say(ok(res));
      return res;
    }, function (err) {
      if (err.status !== 401) S.fail(err);
      return undefined;
    }).then(function (res) {
      st.busy = false;
      document.body.classList.remove('busy');
      return refresh().then(function () { return res; });
    });
  }

  function post(action, body, ok) {
    if (st.busy || !st.id) return Promise.resolve();
    st.parkedStale = true;
    return run(S.api('POST', path(action), body), ok);
  }

  // An action's answer comes back after its refresh; by then the clerk may
  // have opened a form and started typing in it: never take the focus
  // away from an open form.
  function focusCurrent() { if (!st.panel) curTitle.focus(); }

  function openPlace() {
    var id = sel.value;
    if (!id || held() || st.busy) return;
    st.id = id;
    post('open', undefined, function () { return T('Postazione ' + id + ' aperta.', 'Place ' + id + ' open.'); }).then(focusCurrent);
  }

  $('open-form').addEventListener('submit', function (e) { e.preventDefault(); openPlace(); });
  sel.addEventListener('change', function () {
    if (held()) return;
    st.id = sel.value;
    btn.open.disabled = !sel.value;
    st.curSig = '';
    refresh();
  });
  sel.addEventListener('keydown', function (e) {
    if (e.key === 'Enter') { e.preventDefault(); openPlace(); }
  });
  btn.resume.addEventListener('click', function () {
    post('open', undefined, function () { return T('Postazione ' + st.id + ' di nuovo aperta.', 'Place ' + st.id + ' open again.'); }).then(focusCurrent);
  });
  [btn.pause, btn.backoffice].forEach(function (b) {
    b.addEventListener('click', function () {
      var reason = b.dataset.reason;
      post('pause', { reason: reason }, function () {
        var r = S.reasonName(reason);
        return T('Postazione in pausa: ' + r.it + '.', 'Place paused: ' + r.en + '.');
      });
    });
  });
  btn.close.addEventListener('click', function () {
    var id = st.id;
    post('close', undefined, function () { return T('Postazione ' + id + ' chiusa.', 'Place ' + id + ' closed.'); }).then(function () { sel.focus(); });
  });
  btn.next.addEventListener('click', function () {
    post('call-next', undefined, function (t) {
      return t ? T('Chiamato ' + t.number + '.', 'Called ' + t.number + '.') : T('Nessuno in attesa per questa postazione.', 'Nobody is waiting for this place.');
    }).then(focusCurrent);
  });
  btn.recall.addEventListener('click', function () {
    post('recall', undefined, function (t) {
      return t.status === 'no_show' ? T(t.number + ' segnato come non presentato dopo i richiami.', t.number + ' marked as no-show after the recalls.') :
        T('Richiamato ' + t.number + '.', 'Recalled ' + t.number + '.');
    });
  });
  btn.start.addEventListener('click', function () {
    post('start', undefined, function (t) { return T('Servizio di ' + t.number + ' iniziato.', 'Service of ' + t.number + ' started.'); });
  });
  btn.noshow.addEventListener('click', function () {
    post('no-show', undefined, function (t) { return T(t.number + ' non presentato.', t.number + ' did not show up.'); }).then(focusCurrent);
  });
  $('main').addEventListener('click', function (e) {
    var b = e.target.closest('button.call');
    if (!b || b.disabled) return;
    var id = b.dataset.ticket;
    post('call', { ticket: id }, function (t) { return T('Chiamato ' + t.number + '.', 'Called ' + t.number + '.'); }).then(focusCurrent);
  });

  // ---- panels (finish, transfer, park, add service) ------------------------

  var panels = {
    finish: { form: $('finish-form'), opener: btn.finish, prepare: prepareFinish },
    transfer: { form: $('transfer-form'), opener: btn.transfer, prepare: prepareTransfer },
    // The notes are cleared when the form closes, never while it opens:
    // the first keystrokes typed into a just-focused form must stay.
    park: { form: $('park-form'), opener: btn.park, prepare: function () { return $('park-notes'); }, reset: function () { $('park-notes').value = ''; } },
    add: { form: $('add-form'), opener: btn.add, prepare: prepareAdd }
  };

  // openPanel fills the form while it is hidden, then shows and focuses
  // it, and only then marks it ready (data-ready): nothing touches its
  // fields after that, so what the clerk types from then on is kept.
  function openPanel(name) {
    if (st.panel) closePanel(false);
    var p = panels[name];
    var first = p.prepare();
    p.form.hidden = false;
    st.panel = name;
    p.form.scrollIntoView({ block: 'nearest' });
    (first || p.form.querySelector('input, select, textarea, button')).focus();
    p.form.dataset.ready = 'true';
  }

  function closePanel(restore) {
    if (!st.panel) return;
    var p = panels[st.panel];
    p.form.hidden = true;
    delete p.form.dataset.ready;
    if (p.reset) p.reset();
    st.panel = null;
    if (restore) {
      if (!p.opener.disabled) p.opener.focus();
      else focusCurrent();
    }
  }

  Object.keys(panels).forEach(function (name) {
    var p = panels[name];
    p.opener.addEventListener('click', function () { openPanel(name); });
    p.form.querySelectorAll('[data-close]').forEach(function (b) {
      b.addEventListener('click', function () { closePanel(true); });
    });
  });

  function serviceOptions(select, ids) {
    S.clear(select);
    ids.forEach(function (id) {
      var n = S.serviceName(id);
      select.appendChild(S.el('option', { value: id, text: n.it + ' · ' + n.en }));
    });
  }

  function prepareFinish() {
    var t = ticket();
    var f = panels.finish.form;
    f.reset();
    var box = S.clear($('finish-services'));
    var visitSvcs = [t.service].concat(t.requested || []);
    var others = (st.counter.services || []).filter(function (id) { return visitSvcs.indexOf(id) < 0; });
    visitSvcs.concat(others).forEach(function (id) {
      var input = S.el('input', { type: 'checkbox', name: 'services', value: id, id: 'delivered-' + id });
      input.checked = visitSvcs.indexOf(id) >= 0;
      box.appendChild(S.el('label', { class: 'choice', for: 'delivered-' + id }, [input, ' ', S.serviceName(id)]));
    });
    return f.querySelector('input[name=outcome]');
  }

  panels.finish.form.addEventListener('submit', function (e) {
    e.preventDefault();
    var f = panels.finish.form;
    var chosen = f.querySelector('input[name=outcome]:checked');
    if (!chosen) {
      S.warn(T('Scegli un esito (tasti 1–' + D.outcomes.length + ').', 'Choose an outcome (keys 1–' + D.outcomes.length + ').'));
      f.querySelector('input[name=outcome]').focus();
      return;
    }
    var services = Array.prototype.filter.call(f.querySelectorAll('input[name=services]'), function (i) { return i.checked; })
      .map(function (i) { return i.value; });
    var outcome = D.outcomes.find(function (o) { return o.code === chosen.value; });
    var body = { outcome: chosen.value, services: services, notes: $('finish-notes').value.trim() };
    closePanel(false);
    post('finish', body, function (t) {
      return T(t.number + ' concluso: ' + outcome.text.it + '.', t.number + ' finished: ' + outcome.text.en + '.');
    }).then(focusCurrent);
  });

  function prepareTransfer() {
    var t = ticket();
    var dest = S.clear($('transfer-dest'));
    var sv = S.el('optgroup', { label: 'Servizi (qualsiasi postazione) · Services (any place)' });
    (D.services || []).forEach(function (s) {
      sv.appendChild(S.el('option', { value: 'service:' + s.id, text: s.name.it + ' · ' + s.name.en + (s.id === t.service ? ' (attuale · current)' : '') }));
    });
    var desks = S.el('optgroup', { label: 'Sportelli · Desks' });
    var rooms = S.el('optgroup', { label: 'Stanze di consulenza · Consultation rooms' });
    (D.counters || []).forEach(function (c) {
      if (c.id === st.id) return;
      var live = st.counters.find(function (x) { return x.id === c.id; }) || c;
      var stt = S.stateNames[live.state] || T('');
      var label = c.id + ' — ' + c.name.it + ' · ' + c.name.en + ' (' + stt.it.toLowerCase() + ')';
      (c.kind === 'room' ? rooms : desks).appendChild(S.el('option', { value: 'counter:' + c.id, text: label }));
    });
    dest.appendChild(sv);
    dest.appendChild(desks);
    dest.appendChild(rooms);
    $('transfer-back').checked = false;
    $('transfer-notes').value = '';
    return dest;
  }

  panels.transfer.form.addEventListener('submit', function (e) {
    e.preventDefault();
    var v = $('transfer-dest').value || '';
    var i = v.indexOf(':');
    if (i < 0) return;
    var kind = v.slice(0, i);
    var id = v.slice(i + 1);
    var body = { back: $('transfer-back').checked, notes: $('transfer-notes').value.trim() };
    body[kind === 'service' ? 'service' : 'counter'] = id;
    var where = kind === 'service' ? S.serviceName(id) : T('postazione ' + id, 'place ' + id);
    closePanel(false);
    post('transfer', body, function (t) {
      return T(t.number + ' trasferito a ' + where.it + '.', t.number + ' transferred to ' + where.en + '.');
    }).then(focusCurrent);
  });

  panels.park.form.addEventListener('submit', function (e) {
    e.preventDefault();
    var notes = $('park-notes').value.trim();
    closePanel(false);
    post('park', { notes: notes }, function (t) {
      return T(t.number + ' parcheggiato: lo trovi in «Parcheggiati qui».', t.number + ' parked: see «Parked here».');
    }).then(focusCurrent);
  });

  function prepareAdd() {
    var t = ticket();
    var have = [t.service].concat(t.requested || []);
    serviceOptions($('add-service'), (D.services || []).map(function (s) { return s.id; }).filter(function (id) { return have.indexOf(id) < 0; }));
    return $('add-service');
  }

  panels.add.form.addEventListener('submit', function (e) {
    e.preventDefault();
    var id = $('add-service').value;
    if (!id) return;
    closePanel(false);
    post('add-service', { service: id }, function (t) {
      var n = S.serviceName(id);
      return T(n.it + ' aggiunto alla visita di ' + t.number + '.', n.en + ' added to the visit of ' + t.number + '.');
    }).then(focusCurrent);
  });

  // ---- keyboard -------------------------------------------------------------

  var keys = {
    n: btn.next, r: btn.recall, s: btn.start, f: btn.finish, x: btn.noshow, t: btn.transfer, p: btn.park, a: btn.add,
    b: btn.pause, k: btn.backoffice, c: btn.close
  };

  function typing(el) {
    if (!el || !el.tagName) return false;
    var tag = el.tagName;
    if (tag === 'TEXTAREA' || tag === 'SELECT' || el.isContentEditable) return true;
    return tag === 'INPUT' && ['radio', 'checkbox', 'button', 'submit', 'reset'].indexOf(el.type) < 0;
  }

  document.addEventListener('keydown', function (e) {
    if (e.defaultPrevented || e.metaKey || e.altKey || e.isComposing) return;
    var tg = e.target;
    if (st.panel) {
      var form = panels[st.panel].form;
      if (e.key === 'Escape') { e.preventDefault(); closePanel(true); return; }
      if (e.key === 'Enter' && form.contains(tg) && tg.tagName !== 'BUTTON' && (tg.tagName !== 'TEXTAREA' || e.ctrlKey)) {
        e.preventDefault();
        form.requestSubmit();
        return;
      }
      if (st.panel === 'finish' && !e.ctrlKey && !typing(tg) && /^[1-9]$/.test(e.key)) {
        var radios = form.querySelectorAll('input[name=outcome]');
        var r = radios[Number(e.key) - 1];
        if (r) { e.preventDefault(); r.checked = true; r.focus(); }
      }
      return;
    }
    if (e.ctrlKey || typing(tg)) return;
    if (tg && tg.tagName === 'BUTTON' && (e.key === 'Enter' || e.key === ' ')) return;
    var k = (e.key || '').toLowerCase();
    if (k === 'l') {
      e.preventDefault();
      var first = document.querySelector('#waiting button.call:not([disabled]), #parked button.call:not([disabled])');
      (first || $('q-title')).focus();
      return;
    }
    var b = k === 'o' ? (held() ? btn.resume : btn.open) : keys[k];
    if (!b) return;
    e.preventDefault();
    if (st.busy) return;
    if (b.disabled) {
      S.say(T('Azione non disponibile ora.', 'Action not available now.'));
      return;
    }
    // The shortcut may open a form and focus its first field: the key's
    // own character (delivered after keydown by some input paths) must
    // not land in it.
    st.swallow = k;
    b.click();
  });
  document.addEventListener('keypress', function (e) {
    if (st.swallow && (e.key || '').toLowerCase() === st.swallow) e.preventDefault();
    st.swallow = '';
  }, true);
  document.addEventListener('keyup', function () { st.swallow = ''; }, true);

  // ---- start --------------------------------------------------------------------

  var soon = S.debounce(refresh, 150);
  S.live(function (m) {
    S.catalogueChanged(m);
    if (!/^(ticket|counter|day|snapshot)/.test(m.type)) return;
    var d = m.data || {};
    if (m.type === 'ticket.parked' || m.type === 'snapshot' || m.type === 'day.closed' || m.type === 'ticket.cancelled' ||
        (m.type === 'ticket.called' && d.counter === st.id)) st.parkedStale = true;
    soon();
  });
  window.setInterval(function () { st.parkedStale = true; refresh(); }, D.refresh_ms || 15000);
  refresh().then(function () {
    if (!held() && !sel.disabled) sel.focus();
    else focusCurrent();
    document.body.classList.add('ready');
  });
})();
