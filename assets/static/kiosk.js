// Sportello — the totem's self-service page. Plain JS, no build step.
// The server renders every screen in Italian with the English beside it
// (class "tr" with data-it/data-en); this script switches screens and
// languages, calls the hub's API and resets the totem when left idle.
(function () {
  'use strict';

  var body = document.body;
  var T = JSON.parse(body.dataset.msgs || '{}');
  var SERVICES = JSON.parse(body.dataset.services || '{}');
  var TOTEM = body.dataset.totem;
  var TZ = body.dataset.tz || undefined;
  var IDLE_MS = Number(body.dataset.idleMs) || 30000;
  var TICKET_MS = Number(body.dataset.ticketMs) || 30000;
  var PRINT_MS = Number(body.dataset.printMs) || 10000;

  var lang = 'it';
  var current = 's-start';
  var trail = [];
  var state = {};
  var busy = false;
  var version = null;
  var timers = { idle: 0, ticket: 0, print: 0, alert: 0 };
  var printGen = 0;
  // visit counts the people served: an answer that arrives after a reset
  // belongs to the previous person and is dropped.
  var visit = 0;

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  // both returns a message in both languages, with {name} filled in.
  function both(key, vars) {
    var t = T[key] || { it: key, en: key };
    var out = { it: t.it, en: t.en || t.it };
    Object.keys(vars || {}).forEach(function (k) {
      out.it = out.it.split('{' + k + '}').join(String(vars[k]));
      out.en = out.en.split('{' + k + '}').join(String(vars[k]));
    });
    return out;
  }
  function plain(s) { return { it: String(s), en: String(s) }; }

  // setTr gives an element a text in both languages and shows the current.
  function setTr(el, text) {
    if (!el) { return; }
    el.classList.add('tr');
    el.dataset.it = text.it;
    el.dataset.en = text.en || text.it;
    el.textContent = el.dataset[lang];
  }

  function applyLang(l) {
    lang = l;
    document.documentElement.lang = l;
    $$('.tr').forEach(function (el) { el.textContent = el.dataset[l] || el.dataset.it || ''; });
    $$('[data-tra]').forEach(function (el) {
      el.setAttribute(el.dataset.tra, l === 'en' ? el.dataset.traEn : el.dataset.traIt);
    });
    var b = $('#lang');
    b.textContent = b.dataset[l];
    b.setAttribute('lang', l === 'it' ? 'en' : 'it');
  }

  function setMode(cls, btn, on) {
    document.documentElement.classList.toggle(cls, on);
    btn.setAttribute('aria-pressed', on ? 'true' : 'false');
  }

  function announce(text) {
    var a = $('#announce');
    a.textContent = '';
    window.setTimeout(function () { a.textContent = text[lang]; }, 50);
  }

  function showAlert(text) {
    var a = $('#alert');
    setTr(a, text);
    a.hidden = false;
    window.clearTimeout(timers.alert);
    timers.alert = window.setTimeout(function () { a.hidden = true; }, 10000);
  }
  function clearAlert() { $('#alert').hidden = true; }

  // Screens.
  function show(id, opts) {
    var next = document.getElementById(id);
    if (!next) { return; }
    opts = opts || {};
    if (!opts.back && current !== id && current !== 's-ticket') { trail.push(current); }
    if (current === 's-ticket' && id !== 's-ticket') { leaveTicket(); }
    $$('.screen').forEach(function (s) { s.hidden = s !== next; });
    current = id;
    $('#foot').hidden = id === 's-start' || next.hasAttribute('data-nonav');
    clearAlert();
    enter(id, next);
    var f = next.querySelector('[data-focus]') || next.querySelector('h1, .label');
    if (id === 's-checkin') { f = $('#code'); }
    if (id === 's-priority') { f = $('#prio-no'); }
    if (id === 's-report-text') { f = $('#r-text'); }
    if (id === 's-report-place') { f = $('#r-place'); }
    if (f) { f.focus({ preventScroll: true }); }
    $('#main').scrollTop = 0;
    window.scrollTo(0, 0);
  }

  function back() {
    var prev = trail.pop() || 's-start';
    show(prev, { back: true });
  }

  function home() {
    trail = [];
    state = {};
    show('s-start', { back: true });
  }

  function enter(id, el) {
    if (id.indexOf('s-group-') === 0) { loadQueue(el); }
    if (id === 's-checkin') {
      $('#code').value = '';
      setTr($('#checkin-error'), plain(''));
    }
    if (id === 's-report-text') { countChars(); }
    if (id === 's-report-review') { fillReview(); }
  }

  // reset makes the totem ready for the next person: start screen,
  // Italian, default contrast and size, nothing left of the last visit.
  function reset() {
    visit++;
    var dlg = $('#help-dlg');
    if (dlg.open) { dlg.close(); }
    leaveTicket();
    state = {};
    trail = [];
    $$('input, textarea').forEach(function (i) { i.value = ''; });
    $$('.error').forEach(function (e) { setTr(e, plain('')); });
    setMode('hc', $('#contrast'), false);
    setMode('big', $('#bigtext'), false);
    applyLang('it');
    show('s-start', { back: true });
    checkVersion();
  }

  function poke() {
    window.clearTimeout(timers.idle);
    timers.idle = window.setTimeout(onIdle, IDLE_MS);
  }
  function onIdle() {
    // The ticket screen has its own timer.
    if (current !== 's-ticket') {
      var dirty = current !== 's-start' || lang !== 'it' || $('#help-dlg').open ||
        document.documentElement.classList.contains('hc') || document.documentElement.classList.contains('big');
      if (dirty) { reset(); }
    }
    poke();
  }

  // An upgraded hub serves new assets: reload when the version changes,
  // between two visitors only.
  function checkVersion() {
    fetch('/healthz', { cache: 'no-store' }).then(function (r) { return r.json(); }).then(function (j) {
      if (version === null) { version = j.version; } else if (j.version !== version) { window.location.reload(); }
    }).catch(function () {});
    // Likewise when the admin page changed what the totem offers: a
    // service added or switched off, priorities taken or refused.
    fetch('/api/v1/services', { cache: 'no-store' }).then(function (r) { return r.json(); }).then(function (list) {
      var sig = (list || []).filter(function (s) { return s.active !== false; })
        .map(function (s) { return s.id + (s.priority === false ? '!' : ''); }).sort().join(',');
      // Once per catalogue: a page that still differs after reloading for
      // it (it cannot, but a loop would lock the totem) stays as it is.
      if (sig !== offeredSig() && sessionStorage.getItem('sportello-catalogue') !== sig) {
        sessionStorage.setItem('sportello-catalogue', sig);
        window.location.reload();
      }
    }).catch(function () {});
  }

  // offeredSig is what this page offers: its service buttons, and which of
  // them skip the priority question.
  function offeredSig() {
    var seen = {};
    $$('button.service[data-service]').forEach(function (b) {
      var id = b.dataset.service;
      seen[id + ((SERVICES[id] || {}).no_priority ? '!' : '')] = true;
    });
    return Object.keys(seen).sort().join(',');
  }

  // API calls.
  function api(method, url, data, headers) {
    var h = { 'Accept': 'application/json' };
    if (data !== undefined) { h['Content-Type'] = 'application/json'; }
    Object.keys(headers || {}).forEach(function (k) { h[k] = headers[k]; });
    return fetch(url, { method: method, headers: h, credentials: 'same-origin', cache: 'no-store', body: data === undefined ? undefined : JSON.stringify(data) })
      .then(function (r) {
        return r.text().then(function (txt) {
          var j = null;
          try { j = txt ? JSON.parse(txt) : null; } catch (e) { j = null; }
          if (!r.ok) {
            var err = new Error((j && j.detail) || ('HTTP ' + r.status));
            err.status = r.status;
            err.code = (j && j.code) || '';
            throw err;
          }
          return j;
        });
      });
  }

  function errorText(e) {
    if (!e.status) { return both('err.network'); }
    if (e.code && T['err.' + e.code]) { return both('err.' + e.code); }
    return both('err.generic');
  }

  function setBusy(on) {
    busy = on;
    $('#main').setAttribute('aria-busy', on ? 'true' : 'false');
    body.classList.toggle('busy', on);
  }

  function newKey() {
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return ('0' + x.toString(16)).slice(-2); }).join('');
  }

  // Queue figures on the service buttons.
  function loadQueue(el) {
    api('GET', '/api/v1/queue').then(function (q) {
      (q || []).forEach(function (e) {
        var span = el.querySelector('[data-queue="' + e.service + '"]');
        if (!span) { return; }
        setTr(span, e.waiting > 0 ? both('queue.info', { n: e.waiting, m: e.ewt_min }) : both('queue.empty'));
      });
    }).catch(function () {});
  }

  // Taking a ticket.
  function issue(priority) {
    if (busy || !state.service) { return; }
    setBusy(true);
    var v = visit;
    api('POST', '/api/v1/tickets', { service: state.service, priority: priority }, { 'Idempotency-Key': state.key })
      .then(function (t) { if (v === visit) { showTicket(t); } })
      .catch(function (e) { if (v === visit) { showAlert(errorText(e)); } })
      .then(function () { setBusy(false); });
  }

  function ewtText(m) {
    if (m <= 0) { return both('ewt.soon'); }
    if (m === 1) { return both('ewt.one'); }
    return both('ewt.min', { m: m });
  }

  function fmtTime(iso) {
    try {
      return new Date(iso).toLocaleTimeString('it-IT', { hour: '2-digit', minute: '2-digit', timeZone: TZ });
    } catch (e) {
      return new Date(iso).toLocaleTimeString('it-IT', { hour: '2-digit', minute: '2-digit' });
    }
  }

  function showTicket(t) {
    state = {};
    $('#t-number').textContent = t.number;
    var sv = SERVICES[t.service];
    setTr($('#t-service'), sv ? sv.name : plain(t.service));
    var slot = $('#t-slot');
    slot.hidden = !t.slot;
    if (t.slot) { setTr(slot, both('ticket.slot', { t: fmtTime(t.slot) })); }
    if (t.position > 0) {
      setTr($('#t-position'), plain(t.position));
      setTr($('#t-ewt'), ewtText(t.ewt_min));
    } else {
      setTr($('#t-position'), both('position.none'));
      setTr($('#t-ewt'), plain('—'));
    }
    var advice = $('#t-advice');
    advice.hidden = !(t.position > 0 && t.ewt_min > Number(advice.getAttribute('data-over')));
    $('#t-qr').src = '/qr.png?data=' + encodeURIComponent(t.track_url);
    var token = String(t.track_url || '').split('/t/').pop();
    trail = [];
    show('s-ticket');
    announce(both('announce.ticket', { n: t.number }));
    switch (t.print) {
      case 'pending': setTr($('#t-print'), both('print.pending')); pollPrint(token); break;
      case 'printed': setTr($('#t-print'), both('print.done')); break;
      case 'failed': setTr($('#t-print'), both('print.failed')); break;
      default: setTr($('#t-print'), both('print.none'));
    }
    var left = Math.round(TICKET_MS / 1000);
    var tick = function () {
      setTr($('#t-countdown'), both('ticket.return', { s: left }));
      if (left <= 0) { reset(); return; }
      left--;
      timers.ticket = window.setTimeout(tick, 1000);
    };
    tick();
  }

  function pollPrint(token) {
    var gen = ++printGen;
    var started = Date.now();
    var el = $('#t-print');
    var failedShown = false;
    var step = function () {
      if (gen !== printGen) { return; }
      api('GET', '/api/v1/track/' + encodeURIComponent(token)).then(function (j) {
        if (gen !== printGen) { return; }
        if (j && j.print === 'printed') { setTr(el, both('print.done')); return true; }
        if (j && j.print === 'failed') { setTr(el, both('print.failed')); return true; }
        return false;
      }).catch(function () { return false; }).then(function (settled) {
        if (gen !== printGen || settled) { return; }
        if (!failedShown && Date.now() - started >= PRINT_MS) {
          failedShown = true;
          setTr(el, both('print.failed'));
        }
        if (Date.now() - started < 120000) { timers.print = window.setTimeout(step, 1000); }
      });
    };
    step();
  }

  function leaveTicket() {
    printGen++;
    window.clearTimeout(timers.print);
    window.clearTimeout(timers.ticket);
  }

  // Check-in.
  function keypad(e) {
    var k = e.target.closest('[data-key]');
    if (!k) { return; }
    var input = $('#code');
    var key = k.dataset.key;
    if (key === 'del') { input.value = input.value.slice(0, -1); } else if (key === 'clear') { input.value = ''; } else if (input.value.length < 512) { input.value += key; }
    if (e.detail > 0) { input.focus({ preventScroll: true }); }
  }

  function checkin(ev) {
    ev.preventDefault();
    var input = $('#code');
    var v = input.value.trim();
    var err = $('#checkin-error');
    if (!v) { setTr(err, both('err.missing_field')); input.focus(); return; }
    if (busy) { return; }
    setBusy(true);
    setTr(err, plain(''));
    var n = visit;
    api('POST', '/kiosk/' + encodeURIComponent(TOTEM) + '/checkin', { scan: v })
      .then(function (t) {
        if (n !== visit) { return; }
        if (t.survey) { showSurvey(t.survey); } else { showTicket(t); }
      })
      .catch(function (e) {
        if (n !== visit) { return; }
        setTr(err, errorText(e));
        input.select();
        input.focus();
      })
      .then(function () { setBusy(false); });
  }

  // A scanned paper ticket: the survey of that visit (survey.js sends it
  // to the ticket's tracking link as this totem).
  function showSurvey(sv) {
    var form = document.querySelector('#s-survey form.survey');
    window.SportelloSurvey.reset(form, {});
    form.dataset.post = '/api/v1/track/' + encodeURIComponent(sv.token) + '/rating';
    setTr($('#sv-number'), plain(sv.number));
    var why = '';
    if (sv.rated) { why = 'survey.already'; } else if (sv.status === 'no_show' || sv.status === 'cancelled') { why = 'survey.notserved'; } else if (sv.status !== 'done') { why = 'survey.notyet'; }
    form.hidden = why !== '';
    setTr($('#sv-state'), why ? both(why) : plain(''));
    show('s-survey');
  }

  // The on-screen keyboard of the report's text fields.
  function keyboard(e) {
    var k = e.target.closest('[data-key]');
    var kbd = e.target.closest('.kbd');
    if (!k || !kbd) { return; }
    var field = document.getElementById(kbd.dataset.for);
    var key = k.dataset.key;
    var s = field.selectionStart, end = field.selectionEnd;
    if (s === null || s === undefined) { s = end = field.value.length; }
    if (key === 'shift') {
      var on = k.getAttribute('aria-pressed') !== 'true';
      k.setAttribute('aria-pressed', on ? 'true' : 'false');
      kbd.classList.toggle('upper', on);
    } else if (key === 'del') {
      if (s === end && s > 0) { s--; }
      field.setRangeText('', s, end, 'end');
    } else {
      var max = Number(field.getAttribute('maxlength')) || 1000;
      if (field.value.length - (end - s) + key.length <= max) {
        var shift = kbd.querySelector('[data-key="shift"]');
        if (shift.getAttribute('aria-pressed') === 'true' && key.toUpperCase() !== key) {
          key = key.toUpperCase();
          shift.setAttribute('aria-pressed', 'false');
          kbd.classList.remove('upper');
        }
        field.setRangeText(key, s, end, 'end');
      }
    }
    field.dispatchEvent(new Event('input', { bubbles: true }));
    if (e.detail > 0) { field.focus({ preventScroll: true }); }
  }

  function countChars() {
    var f = $('#r-text'), c = $('#r-text-count');
    setTr(c, both('report.chars', { n: f.value.length, max: c.dataset.max }));
  }

  function labelOf(btn) {
    var el = btn.querySelector('.big .tr') || btn.querySelector('.tr');
    return el ? { it: el.dataset.it, en: el.dataset.en } : plain(btn.textContent);
  }

  function fillReview() {
    var r = state.report || {};
    setTr($('#rv-kind'), r.kindLabel || plain(''));
    setTr($('#rv-topic'), r.topicLabel || plain(''));
    $('#rv-text').textContent = r.description || '';
    $('#rv-place').textContent = r.location || '—';
    setTr($('#r-send-error'), plain(''));
  }

  function sendReport() {
    if (busy) { return; }
    var r = state.report || {};
    var err = $('#r-send-error');
    setBusy(true);
    var n = visit;
    api('POST', '/api/v1/reports', { kind: r.kind, topic: r.topic, description: r.description, location: r.location || '' })
      .then(function (rep) {
        if (n !== visit) { return; }
        $('#r-protocol').textContent = rep.protocol;
        state = {};
        trail = [];
        show('s-report-done');
        announce(both('report.done.title'));
      })
      .catch(function (e) {
        if (n !== visit) { return; }
        setTr(err, e.status === 404 && e.code !== 'totem_not_found' ? both('err.report_unavailable') : errorText(e));
      })
      .then(function () { setBusy(false); });
  }

  // Help.
  function help() {
    var dlg = $('#help-dlg');
    api('POST', '/api/v1/totems/' + encodeURIComponent(TOTEM) + '/help', {}).then(function () { return true; }, function () { return false; })
      .then(function (ok) {
        var t = both(ok ? 'help.sent' : 'help.failed');
        $('#help-title').textContent = t.it;
        $('#help-title-en').textContent = t.en;
        var sub = both('help.sub');
        $('#help-sub').textContent = ok ? sub.it + ' / ' + sub.en : '';
        if (!dlg.open) { dlg.showModal(); }
        announce(t);
      });
  }

  // Wiring.
  document.addEventListener('click', function (e) {
    var el = e.target.closest('button');
    if (!el || el.disabled) { return; }
    if (el.closest('.keypad')) { keypad(e); return; }
    if (el.closest('.kbd')) { keyboard(e); return; }
    if (el.hasAttribute('data-home')) { if (current === 's-report-done') { reset(); } else { home(); } return; }
    if (el.dataset.go) { show(el.dataset.go); return; }
    if (el.dataset.service) {
      state = { service: el.dataset.service, key: newKey() };
      // A service that takes no priority categories skips the question.
      if ((SERVICES[state.service] || {}).no_priority) { issue('none'); return; }
      show('s-priority');
      return;
    }
    if (el.dataset.priority) { issue(el.dataset.priority); return; }
    if (el.dataset.kind) {
      state.report = { kind: el.dataset.kind, kindLabel: labelOf(el) };
      show('s-report-topic');
      return;
    }
    if (el.dataset.topic) {
      state.report = state.report || {};
      state.report.topic = el.dataset.topic;
      state.report.topicLabel = labelOf(el);
      show('s-report-text');
      return;
    }
    switch (el.id) {
      case 'lang': applyLang(lang === 'it' ? 'en' : 'it'); break;
      case 'contrast': setMode('hc', el, el.getAttribute('aria-pressed') !== 'true'); break;
      case 'bigtext': setMode('big', el, el.getAttribute('aria-pressed') !== 'true'); break;
      case 'help': help(); break;
      case 'help-ok': $('#help-dlg').close(); break;
      case 'nav-back': back(); break;
      case 't-done': reset(); break;
      case 'r-text-next': {
        var d = $('#r-text').value.trim();
        if (!d) { setTr($('#r-text-error'), both('err.report_text')); $('#r-text').focus(); break; }
        setTr($('#r-text-error'), plain(''));
        state.report = state.report || {};
        state.report.description = d;
        show('s-report-place');
        break;
      }
      case 'r-place-skip': state.report = state.report || {}; state.report.location = ''; $('#r-place').value = ''; show('s-report-review'); break;
      case 'r-place-next': state.report = state.report || {}; state.report.location = $('#r-place').value.trim(); show('s-report-review'); break;
      case 'r-send': sendReport(); break;
    }
  });

  $('#checkin-form').addEventListener('submit', checkin);
  $('#r-text').addEventListener('input', countChars);

  // A QR scanner types like a keyboard: keys typed on the start screen, or
  // on the check-in screen while the focus is elsewhere, go to the code
  // field (the focus moves before the character lands).
  document.addEventListener('keydown', function (e) {
    if (e.ctrlKey || e.altKey || e.metaKey || e.key.length !== 1 || e.key === ' ' || $('#help-dlg').open) { return; }
    if (current === 's-start') { show('s-checkin'); return; }
    if (current === 's-checkin' && document.activeElement !== $('#code')) { $('#code').focus(); }
  }, true);
  $('#help-dlg').addEventListener('cancel', function () { /* Escape closes it */ });

  ['pointerdown', 'keydown', 'input', 'wheel', 'touchstart'].forEach(function (t) {
    document.addEventListener(t, poke, { capture: true, passive: true });
  });

  $$('.kbd').forEach(function (k) { k.addEventListener('mousedown', function (e) { e.preventDefault(); }); });
  $$('.keypad').forEach(function (k) { k.addEventListener('mousedown', function (e) { e.preventDefault(); }); });

  applyLang('it');
  poke();
  checkVersion();
  body.classList.add('ready');
})();
