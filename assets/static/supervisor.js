/* The supervisor console: queues, service level and alerts computed from
 * the API's tickets with the hub's clock, places and clerks, devices,
 * the displays' message and the end of the day. */
(function () {
  'use strict';
  var S = window.Sportello;
  var D = S.data;
  var T = S.T;
  function $(id) { return document.getElementById(id); }

  var st = { queue: [], tickets: [], counters: [], totems: [], displays: [] };
  var maxWaitMs = (D.max_wait_min || 60) * 60000;
  var profile = S.profileEditor(function () { refresh(); });

  var refresh = S.serial(function () {
    return S.syncClock().then(function () {
      return Promise.all([
        S.api('GET', '/api/v1/queue'),
        S.api('GET', '/api/v1/tickets'),
        S.api('GET', '/api/v1/counters'),
        S.api('GET', '/api/v1/totems'),
        S.api('GET', '/api/v1/displays')
      ]);
    }).then(function (r) {
      st.queue = r[0] || [];
      st.tickets = r[1] || [];
      st.counters = r[2] || [];
      st.totems = r[3] || [];
      st.displays = r[4] || [];
      render();
      return S.loadAudit($('audit').tBodies[0], 25);
    });
  });

  function targetMs(id) { var s = S.services[id]; return s ? s.target_min * 60000 : 20 * 60000; }

  // stats computes, per service, what the console shows.
  function stats() {
    var now = S.now();
    var per = {};
    (D.services || []).forEach(function (s) {
      per[s.id] = { id: s.id, waiting: [], longest: 0, oldest: null, breaching: [], called: 0, within: 0, open: 0, ewt: 0 };
    });
    var near = [];
    var done = 0;
    st.tickets.forEach(function (t) {
      var steps = t.steps || [];
      if (steps.length) {
        // The first call of the visit, against the target of the service
        // the citizen took the ticket for.
        var first = steps[0];
        var p0 = per[first.service];
        if (p0) {
          p0.called++;
          if (Date.parse(first.called_at) - Date.parse(t.issued_at) <= targetMs(first.service)) p0.within++;
        }
      }
      if (t.status === 'done') done++;
      if (t.status !== 'waiting') return;
      var p = per[t.service];
      if (!p) return;
      var w = now - Date.parse(S.queuedSince(t));
      p.waiting.push(t);
      if (w > p.longest) { p.longest = w; p.oldest = t; }
      if (w > targetMs(t.service)) p.breaching.push({ t: t, w: w });
      if (w >= 0.8 * maxWaitMs) near.push({ t: t, w: w });
    });
    st.queue.forEach(function (q) { if (per[q.service]) per[q.service].ewt = q.ewt_min; });
    st.counters.forEach(function (c) {
      if (c.state !== 'open') return;
      (c.services || []).forEach(function (id) { if (per[id]) per[id].open++; });
    });
    near.sort(function (a, b) { return b.w - a.w; });
    return { per: per, near: near, done: done };
  }

  function pct(within, called) {
    if (!called) return '—';
    return Math.round(100 * within / called) + ' %';
  }

  function render() {
    var s = stats();
    renderAlerts(s);
    renderQueues(s);
    renderKPIs(s);
    renderCounters();
    renderDevices();
    renderStaffing();
    S.tick();
  }

  // hourNow is the hub's clock hour in the site's time zone.
  var hourFmt = null;
  try {
    hourFmt = new Intl.DateTimeFormat('it-IT', { hour: 'numeric', hourCycle: 'h23', timeZone: D.timezone || undefined });
  } catch (e) { hourFmt = null; }
  function hourNow() {
    var d = new Date(S.now());
    return hourFmt ? parseInt(hourFmt.format(d), 10) : d.getHours();
  }

  // renderStaffing keeps the staffing panel's current hour and "open
  // now" row current: the advice itself is the server's, computed from
  // the history.
  function renderStaffing() {
    var tbl = $('staffing');
    if (!tbl) return;
    var h = String(hourNow());
    Array.prototype.forEach.call(tbl.tBodies[0].rows, function (tr) {
      var now = tr.dataset.hour === h;
      tr.classList.toggle('sf-now', now);
      if (now) tr.setAttribute('aria-current', 'time'); else tr.removeAttribute('aria-current');
    });
    var open = {};
    st.counters.forEach(function (c) { if (c.state === 'open') open[c.id] = true; });
    var total = 0;
    Array.prototype.forEach.call(tbl.querySelectorAll('td.sf-open'), function (td) {
      var ids = (td.dataset.counters || '').split(' ').filter(Boolean);
      var n = ids.filter(function (id) { return open[id]; }).length;
      total += n;
      td.textContent = n + ' / ' + ids.length;
    });
    $('sf-open-total').textContent = String(total);
  }

  // The check by simulation of the staffing advice runs on the hub in
  // the background: while the page says it is pending, ask again every
  // few seconds and write its status and cells as the template does.
  function pollStaffingCheck() {
    var p = $('sf-check');
    if (!p || p.dataset.status !== 'pending') return;
    setTimeout(function () {
      S.api('GET', '/api/v1/staffing?day=' + encodeURIComponent(p.dataset.day)).then(function (adv) {
        if (adv && adv.check && adv.check.status !== 'pending') showStaffingCheck(adv);
        pollStaffingCheck();
      }, function () { pollStaffingCheck(); });
    }, 2000);
  }

  function pctNum(x) { return Math.round(x * 100); }

  function showStaffingCheck(adv) {
    var c = adv.check;
    var p = $('sf-check');
    var it, en;
    if (c.status === 'checked') {
      it = 'Verificato con simulazione: ' + c.days + ' giorni (politica ' + c.policy + ')' + (c.met ? '' : "; in alcune ore l'obiettivo non è raggiunto neanche con tutte le postazioni del gruppo") + '.';
      en = 'Checked by simulation: ' + c.days + ' days (policy ' + c.policy + ')' + (c.met ? '' : "; in some hours the target is missed even with all the group's places") + '.';
    } else if (c.status === 'failed') {
      it = 'Verifica con simulazione non riuscita: ' + c.error;
      en = 'Check by simulation failed: ' + c.error;
    } else {
      it = 'Nessuna visita allo sportello prevista: niente da verificare.';
      en = 'No desk visits forecast: nothing to check.';
    }
    p.textContent = it + ' ';
    var span = document.createElement('span');
    span.className = 'en';
    span.lang = 'en';
    span.textContent = en;
    p.appendChild(span);
    p.dataset.status = c.status;
    var tbl = $('staffing');
    if (!tbl) return;
    (adv.hours || []).forEach(function (h) {
      var tr = tbl.querySelector('tbody tr[data-hour="' + h.hour + '"]');
      if (!tr) return;
      (h.groups || []).forEach(function (g) {
        var td = tr.querySelector('td.sf-checked[data-group="' + g.group + '"]');
        if (!td || !g.check) return;
        var k = g.check;
        var sl = k.judged ? pctNum(k.sl_erlang) + ' %' + (k.sl_erlang !== k.sl ? ' → ' + pctNum(k.sl) + ' %' : '') : '(poche visite · few visits)';
        td.textContent = '';
        var n = document.createElement('span');
        n.className = 'sf-n';
        n.textContent = String(k.advised);
        var s = document.createElement('span');
        s.className = 'sf-sl';
        s.textContent = sl;
        td.appendChild(n);
        td.appendChild(document.createTextNode(' '));
        td.appendChild(s);
      });
      var tot = tr.querySelector('td.sf-checked-total');
      if (tot && h.checked !== undefined) tot.textContent = String(h.checked);
    });
  }

  function renderKPIs(s) {
    var waiting = 0;
    var called = 0;
    var within = 0;
    Object.keys(s.per).forEach(function (k) {
      waiting += s.per[k].waiting.length;
      called += s.per[k].called;
      within += s.per[k].within;
    });
    $('kpi-waiting').textContent = String(waiting);
    $('kpi-sl').textContent = pct(within, called);
    $('kpi-done').textContent = String(s.done);
    $('kpi-open').textContent = String(st.counters.filter(function (c) { return c.state === 'open'; }).length) + ' / ' + st.counters.length;
  }

  function renderAlerts(s) {
    var items = [];
    s.near.forEach(function (n) {
      var name = S.serviceName(n.t.service);
      var m = Math.floor(n.w / 60000);
      items.push({
        key: 'near-' + n.t.id, cls: 'alert bound', sig: String(m), kind: 'bound', text: T(
          n.t.number + ' (' + name.it + ') attende da ' + m + ' min: vicino al limite massimo di ' + D.max_wait_min + ' min.',
          n.t.number + ' (' + name.en + ') has waited ' + m + ' min: nearing the ' + D.max_wait_min + ' min hard bound.')
      });
    });
    (D.services || []).forEach(function (sv) {
      var p = s.per[sv.id];
      if (!p.breaching.length) return;
      var oldest = p.breaching.reduce(function (a, b) { return b.w > a.w ? b : a; });
      var m = Math.floor(oldest.w / 60000);
      var n = p.breaching.length;
      items.push({
        key: 'breach-' + sv.id, cls: 'alert breach', sig: n + '|' + m + '|' + oldest.t.number, kind: 'breach', service: sv.id, text: T(
          sv.name.it + ': oltre l\'obiettivo di ' + sv.target_min + ' min — ' + n + (n === 1 ? ' ticket' : ' ticket') + ' in attesa, il più lungo ' + oldest.t.number + ' da ' + m + ' min.',
          sv.name.en + ': beyond the ' + sv.target_min + ' min target — ' + n + ' waiting, the longest ' + oldest.t.number + ' for ' + m + ' min.')
      });
    });
    st.totems.forEach(function (tt) {
      var bad = tt.printer_state && ['ok', 'unknown'].indexOf(tt.printer_state) < 0;
      if (tt.connected && bad) {
        items.push({
          key: 'printer-' + tt.id, cls: 'alert device', sig: tt.printer_state, kind: 'printer', text: T(
            'Totem ' + tt.id + ': stampante — ' + S.printerState(tt.printer_state).it.toLowerCase() + (tt.last_error ? ' (' + tt.last_error + ')' : '') + '.',
            'Totem ' + tt.id + ': printer — ' + S.printerState(tt.printer_state).en.toLowerCase() + '.')
        });
      }
    });
    var ul = $('alerts');
    var existing = {};
    Array.prototype.forEach.call(ul.children, function (li) { existing[li.dataset.key] = li; });
    var prev = null;
    items.forEach(function (it) {
      var li = existing[it.key];
      if (!li || li.dataset.sig !== it.sig) {
        var n = S.el('li', { class: it.cls, dataset: { key: it.key, sig: it.sig, kind: it.kind, service: it.service || '' } }, [it.text]);
        if (li) ul.replaceChild(n, li);
        li = n;
      }
      delete existing[it.key];
      var want = prev ? prev.nextSibling : ul.firstChild;
      if (want !== li) ul.insertBefore(li, want);
      prev = li;
    });
    Object.keys(existing).forEach(function (k) { existing[k].remove(); });
    $('alerts-empty').hidden = items.length > 0;
    $('al-count').textContent = items.length ? '(' + items.length + ')' : '';
  }

  function renderQueues(s) {
    var max = 1;
    Object.keys(s.per).forEach(function (k) { max = Math.max(max, s.per[k].waiting.length); });
    var tbody = $('queues').tBodies[0];
    S.patchRows(tbody, (D.services || []).map(function (sv) {
      var p = s.per[sv.id];
      var n = p.waiting.length;
      var breach = p.breaching.length > 0;
      var oldestFrom = p.oldest ? S.queuedSince(p.oldest) : '';
      return {
        key: sv.id, sig: [n, max, breach, oldestFrom, p.ewt, p.within, p.called, p.open].join('|'), build: function () {
          var w = Math.round(100 * n / max);
          return S.el('tr', { class: breach ? 'breach' : '', dataset: { service: sv.id } }, [
            S.el('th', { scope: 'row' }, [sv.name]),
            S.el('td', { class: 'barcol' }, [
              S.el('div', { class: 'bar', role: 'img', 'aria-label': n + ' in attesa · waiting' }, [
                S.el('span', { class: 'fill' + (breach ? ' breach' : ''), style: null, dataset: { w: String(w) } })
              ]),
              S.el('span', { class: 'n', text: String(n) })
            ]),
            S.el('td', { class: breach ? 'warn-text' : '' }, [oldestFrom ? S.since(oldestFrom) : '—']),
            S.el('td', { text: n ? p.ewt + ' min' : '—' }),
            S.el('td', { text: sv.target_min + ' min' }),
            S.el('td', { text: pct(p.within, p.called) + (p.called ? ' (' + p.within + '/' + p.called + ')' : '') }),
            S.el('td', { text: String(p.open) })
          ]);
        }
      };
    }));
    // Widths through CSSOM: the page's CSP allows no inline styles.
    tbody.querySelectorAll('.fill').forEach(function (f) { f.style.width = f.dataset.w + '%'; });
  }

  function renderCounters() {
    var tbody = $('counters').tBodies[0];
    S.patchRows(tbody, st.counters.map(function (c) {
      var t = c.ticket;
      return {
        key: c.id, sig: [c.state, c.reason, c.since, c.clerk, t ? t.number + t.status : '', (c.services || []).join(',')].join('|'), build: function () {
          var state = [S.el('span', { class: 'badge ' + c.state }, [S.stateNames[c.state] || T(c.state)])];
          if (c.state === 'paused' && c.reason) state.push(' ', S.reasonName(c.reason));
          return S.el('tr', { dataset: { counter: c.id } }, [
            S.el('th', { scope: 'row' }, [c.id + ' ', S.el('span', { class: 'sub' }, [c.name || S.counterName(c.id)])]),
            S.el('td', null, state),
            S.el('td', null, [c.state !== 'closed' ? S.since(c.since) : '—']),
            S.el('td', { class: 'actor', text: c.clerk || '—' }),
            S.el('td', null, t ? [S.el('strong', { text: t.number }), ' ', S.statusNames[t.status] || T(t.status)] : ['—']),
            S.el('td', { class: 'chips' }, (c.services || []).map(function (id) {
              var sv = S.services[id];
              return S.el('span', { class: 'chip letter', title: S.plain(S.serviceName(id)) }, [
                S.el('span', { 'aria-hidden': 'true', text: sv ? sv.prefix : id }),
                S.el('span', { class: 'visually-hidden', text: S.serviceName(id).it })
              ]);
            })),
            S.el('td', { class: 'row-actions' }, [
              S.el('button', { type: 'button', class: 'btn small', id: 'profile-' + c.id, dataset: { profile: c.id } }, [T('Servizi…', 'Services…'), S.el('span', { class: 'visually-hidden', text: ' ' + c.id })]),
              c.state !== 'closed' ? S.el('button', { type: 'button', class: 'btn small danger', id: 'force-' + c.id, dataset: { force: c.id } }, [T('Chiudi', 'Force close'), S.el('span', { class: 'visually-hidden', text: ' ' + c.id })]) : null
            ])
          ]);
        }
      };
    }));
  }

  var printerStates = {
    ok: T('OK', 'OK'),
    paper_near_end: T('Carta in esaurimento', 'Paper running low'),
    paper_out: T('Senza carta', 'Out of paper'),
    cover_open: T('Coperchio aperto', 'Cover open'),
    offline: T('Non in linea', 'Offline'),
    error: T('Errore', 'Error'),
    unknown: T('Sconosciuto', 'Unknown')
  };
  S.printerState = function (s) { return printerStates[s] || T(s || '—'); };

  function renderDevices() {
    S.patchRows($('totems').tBodies[0], st.totems.map(function (tt) {
      return {
        key: tt.id, sig: [tt.connected, tt.printer_state, tt.pending_jobs, tt.last_seen, tt.last_error].join('|'), build: function () {
          var ok = tt.printer_state === 'ok';
          return S.el('tr', { dataset: { totem: tt.id } }, [
            S.el('th', { scope: 'row', text: tt.id }),
            S.el('td', null, [S.el('span', { class: 'badge ' + (tt.connected ? 'open' : 'closed') }, [tt.connected ? T('Sì', 'Yes') : T('No', 'No')])]),
            S.el('td', { class: ok || tt.printer_state === 'unknown' ? '' : 'warn-text' }, [S.printerState(tt.printer_state), tt.last_error ? ' — ' + tt.last_error : '']),
            S.el('td', { text: String(tt.pending_jobs || 0) }),
            S.el('td', { text: S.valid(tt.last_seen) ? S.dateTime(tt.last_seen) : '—' })
          ]);
        }
      };
    }));
    S.patchRows($('displays').tBodies[0], st.displays.map(function (d) {
      return {
        key: d.id, sig: [d.online, d.last_seen, d.audio].join('|'), build: function () {
          return S.el('tr', { dataset: { display: d.id } }, [
            S.el('th', { scope: 'row' }, [d.id + ' ', S.el('span', { class: 'sub', text: d.name || '' })]),
            S.el('td', null, [S.el('span', { class: 'badge ' + (d.online ? 'open' : 'closed') }, [d.online ? T('In linea', 'Online') : T('Non in linea', 'Offline')])]),
            S.el('td', null, [d.audio ? T('Sì', 'Yes') : T('No', 'No')]),
            S.el('td', { text: S.valid(d.last_seen) ? S.dateTime(d.last_seen) : '—' })
          ]);
        }
      };
    }));
  }

  $('counters').addEventListener('click', function (e) {
    var b = e.target.closest('button');
    if (!b) return;
    if (b.dataset.profile) {
      var c = st.counters.find(function (x) { return x.id === b.dataset.profile; });
      if (c && profile) profile.open(c, b);
    } else if (b.dataset.force) {
      var id = b.dataset.force;
      if (!window.confirm('Chiudere la postazione ' + id + '? Il cittadino in corso torna in attesa col suo posto.\nForce close place ' + id + '? Its current citizen goes back to waiting, keeping the place.')) return;
      S.api('POST', '/api/v1/counters/' + encodeURIComponent(id) + '/force-close').then(function () {
        S.say(T('Postazione ' + id + ' chiusa.', 'Place ' + id + ' closed.'));
        refresh();
      }, S.fail);
    }
  });

  // ---- notice -----------------------------------------------------------------

  S.api('GET', '/api/v1/notice').then(function (n) {
    if (!n) return;
    $('notice-it').value = n.it || '';
    $('notice-en').value = n.en || '';
  }).catch(function () { /* shown empty */ });

  function putNotice(it, en) {
    return S.api('PUT', '/api/v1/notice', { it: it, en: en }).then(function () {
      S.say(it ? T('Messaggio pubblicato sugli schermi.', 'Message published on the displays.') : T('Messaggio tolto dagli schermi.', 'Message removed from the displays.'));
    }, S.fail);
  }
  $('notice-form').addEventListener('submit', function (e) {
    e.preventDefault();
    putNotice($('notice-it').value.trim(), $('notice-en').value.trim());
  });
  $('notice-clear').addEventListener('click', function () {
    $('notice-it').value = '';
    $('notice-en').value = '';
    putNotice('', '');
  });

  // ---- end of day -------------------------------------------------------------

  var eod = $('eod-dialog');
  $('eod-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var reason = $('eod-reason').value.trim();
    if (!reason) {
      S.warn(T('Scrivi il motivo della chiusura.', 'Write the reason for closing.'));
      $('eod-reason').focus();
      return;
    }
    var open = st.tickets.filter(function (t) { return ['waiting', 'called', 'serving'].indexOf(t.status) >= 0; }).length;
    var body = S.clear($('eod-dialog-body'));
    body.appendChild(S.tr(T('Verranno annullati ' + open + ' ticket ancora aperti e chiuse tutte le postazioni. Motivo: «' + reason + '».',
      open + ' open tickets will be cancelled and every place closed. Reason: "' + reason + '".')));
    eod.returnValue = '';
    eod.showModal();
  });
  eod.addEventListener('close', function () {
    if (eod.returnValue !== 'confirm') { $('eod-submit').focus(); return; }
    S.api('POST', '/api/v1/day/close', { reason: $('eod-reason').value.trim() }).then(function (r) {
      S.say(T('Giornata chiusa: ' + r.closed + ' ticket annullati.', 'Day closed: ' + r.closed + ' tickets cancelled.'));
      refresh();
    }, S.fail);
    $('eod-submit').focus();
  });

  // ---- CzRM sync -------------------------------------------------------------
  // The worker's status (GET /api/v1/admin/crmsync, open to supervisors);
  // the card stays hidden on a hub without a CzRM (404).

  var breakerNames = {
    closed: T('Attivo', 'Up'), half_open: T('In prova', 'Probing'), open: T('Interrotto', 'Down')
  };
  var czOff = false;
  function refreshSync() {
    if (czOff) return Promise.resolve();
    return S.api('GET', '/api/v1/admin/crmsync').then(function (s) {
      var card = $('crmsync');
      card.hidden = false;
      card.dataset.backlog = String(s.backlog);
      card.dataset.breaker = s.breaker_state;
      card.classList.toggle('warn', s.backlog > 0 && s.breaker_state !== 'closed');
      $('cz-backlog').textContent = String(s.backlog);
      $('cz-oldest').textContent = s.backlog > 0 && s.oldest_pending_at ? S.minutes(s.oldest_pending_age_s * 1000) : '—';
      var b = $('cz-breaker');
      b.textContent = '';
      b.appendChild(S.tr(breakerNames[s.breaker_state] || s.breaker_state));
      $('cz-error').textContent = s.last_error ? S.dateTime(s.last_error_at) + ' — ' + s.last_error : '—';
    }, function (err) {
      if (err.status === 404 || err.status === 403) czOff = true;
    });
  }
  window.setInterval(refreshSync, D.refresh_ms || 15000);
  refreshSync();

  // ---- start ------------------------------------------------------------------

  var soon = S.debounce(refresh, 300);
  S.live(function (m) {
    S.catalogueChanged(m);
    if (/^(ticket|counter|day|snapshot|notice)/.test(m.type)) soon();
  });
  window.setInterval(refresh, D.refresh_ms || 15000);
  refresh().then(function () { document.body.classList.add('ready'); });
  pollStaffingCheck();
})();
