// Sportello — the citizen's tracking page (the QR code of a ticket). It
// follows the live feed, refetches the ticket on each relevant event (and
// every 20 s as a fallback) and tells the citizen, with a sound and a
// vibration, when it is their turn.
(function () {
  'use strict';

  var body = document.body;
  var T = JSON.parse(body.dataset.msgs || '{}');
  var COUNTERS = JSON.parse(body.dataset.counters || '{}');
  var TOKEN = body.dataset.token;
  var NUMBER = body.dataset.number;
  var service = body.dataset.service;
  var status = body.dataset.status;
  var lang = 'it';
  var lastSeq = null;
  var ws = null;
  var backoff = 1000;
  var finished = false;
  var refetchTimer = 0;
  var pollTimer = 0;
  var reconnectTimer = 0;
  var audio = null;
  var calledAt = null;
  var POLL_MS = 20000;

  function $(sel) { return document.querySelector(sel); }
  function $$(sel) { return Array.prototype.slice.call(document.querySelectorAll(sel)); }

  function both(key, vars) {
    var t = T[key] || { it: key, en: key };
    var out = { it: t.it, en: t.en || t.it };
    Object.keys(vars || {}).forEach(function (k) {
      var v = vars[k];
      var vi = typeof v === 'object' ? v.it : String(v);
      var ve = typeof v === 'object' ? v.en : String(v);
      out.it = out.it.split('{' + k + '}').join(vi);
      out.en = out.en.split('{' + k + '}').join(ve);
    });
    return out;
  }
  function plain(s) { return { it: String(s), en: String(s) }; }

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
    var b = $('#lang');
    b.textContent = b.dataset[l];
    b.setAttribute('lang', l === 'it' ? 'en' : 'it');
    try { window.localStorage.setItem('sportello-lang', l); } catch (e) { /* private mode */ }
  }

  function announce(text) {
    var a = $('#announce');
    a.textContent = '';
    window.setTimeout(function () { a.textContent = text[lang]; }, 50);
  }

  function lowerFirst(s) { return s ? s.charAt(0).toLowerCase() + s.slice(1) : s; }

  // place names the counter or room in both languages: "sportello 5".
  function place(t) {
    var n = COUNTERS[t.counter];
    if (n) { return { it: lowerFirst(n.it), en: lowerFirst(n.en || n.it), bigIt: n.it, bigEn: n.en || n.it }; }
    var p = both(t.counter_kind === 'room' ? 'place.room' : 'place.counter', { id: t.counter });
    return { it: p.it, en: p.en, bigIt: p.it, bigEn: p.en };
  }

  function ewtText(m) {
    if (m <= 0) { return both('ewt.soon'); }
    if (m === 1) { return both('ewt.one'); }
    return both('ewt.min', { m: m });
  }

  // Sound and vibration. Browsers allow sound only after a touch: the
  // sound button (or any touch) unlocks it.
  function ensureAudio() {
    var AC = window.AudioContext || window.webkitAudioContext;
    if (!audio && AC) { try { audio = new AC(); } catch (e) { audio = null; } }
    if (audio && audio.state === 'suspended') { audio.resume().catch(function () {}); }
    return audio;
  }
  function chime(times) {
    var a = ensureAudio();
    if (!a) { return; }
    var t0 = a.currentTime + 0.05;
    for (var i = 0; i < times; i++) {
      [880, 660].forEach(function (f, j) {
        var at = t0 + i * 0.9 + j * 0.3;
        var o = a.createOscillator();
        var g = a.createGain();
        o.type = 'sine';
        o.frequency.value = f;
        g.gain.setValueAtTime(0.0001, at);
        g.gain.exponentialRampToValueAtTime(0.5, at + 0.02);
        g.gain.exponentialRampToValueAtTime(0.0001, at + 0.28);
        o.connect(g);
        g.connect(a.destination);
        o.start(at);
        o.stop(at + 0.3);
      });
    }
  }
  function alertTurn() {
    chime(3);
    if (navigator.vibrate) { try { navigator.vibrate([400, 150, 400, 150, 400]); } catch (e) { /* not allowed */ } }
  }

  function showState(s) {
    $$('.state').forEach(function (el) { el.hidden = el.id !== 'st-' + s; });
  }

  function render(t) {
    var prev = status;
    status = t.status;
    service = t.service || service;
    showState(status);
    setTr($('#tk-error'), plain(''));
    if (t.service_name) { setTr($('#tk-service'), t.service_name); }
    if (status === 'waiting') {
      setTr($('#tk-position'), plain(t.position > 0 ? t.position : '—'));
      setTr($('#tk-ewt'), ewtText(t.ewt_min));
      $('#tk-next').hidden = t.position !== 1;
      $('#tk-recall').hidden = true;
      document.title = NUMBER + ' — Sportello Unico';
    } else if (status === 'called') {
      var p = place(t);
      setTr($('#tk-turn'), both('track.turn', { place: p }));
      setTr($('#tk-place'), { it: p.bigIt, en: p.bigEn });
      setTr($('#tk-go'), both(t.counter_kind === 'room' ? 'track.turn.go.room' : 'track.turn.go'));
      if (prev !== 'called' || (calledAt !== null && t.called_at !== calledAt)) {
        alertTurn();
        announce(both('track.turn', { place: p }));
      }
      calledAt = t.called_at;
      document.title = '❗ ' + NUMBER + ' — ' + p.bigIt;
    } else if (status === 'serving') {
      setTr($('#tk-serving'), both('track.serving', { place: place(t) }));
      document.title = NUMBER + ' — Sportello Unico';
    } else {
      finish();
    }
    var now = new Date();
    setTr($('#tk-conn'), both('track.updated', { t: ('0' + now.getHours()).slice(-2) + ':' + ('0' + now.getMinutes()).slice(-2) }));
  }

  function refresh() {
    window.clearTimeout(refetchTimer);
    return fetch('/api/v1/track/' + encodeURIComponent(TOKEN), { cache: 'no-store', headers: { 'Accept': 'application/json' } })
      .then(function (r) {
        if (r.status === 404) { finish(); window.location.reload(); return null; }
        if (!r.ok) { throw new Error('HTTP ' + r.status); }
        return r.json();
      })
      .then(function (t) { if (t) { render(t); } })
      .catch(function () { /* the next event or poll retries */ });
  }

  function soon(ms) {
    window.clearTimeout(refetchTimer);
    refetchTimer = window.setTimeout(refresh, ms);
  }

  // The live feed: reconnect with backoff, resuming with since=.
  function connect() {
    if (finished || ws) { return; }
    var url = (window.location.protocol === 'https:' ? 'wss://' : 'ws://') + window.location.host + '/api/v1/live' +
      (lastSeq !== null ? '?since=' + lastSeq : '');
    try { ws = new WebSocket(url); } catch (e) { ws = null; retry(); return; }
    ws.onopen = function () { backoff = 1000; };
    ws.onmessage = function (ev) {
      var m;
      try { m = JSON.parse(ev.data); } catch (e) { return; }
      if (typeof m.seq === 'number') { lastSeq = m.seq; }
      onEvent(m);
    };
    ws.onclose = function () {
      ws = null;
      if (!finished) { setTr($('#tk-conn'), both('track.live.retry')); retry(); }
    };
  }
  function retry() {
    window.clearTimeout(reconnectTimer);
    var d = backoff * (0.8 + Math.random() * 0.4);
    backoff = Math.min(backoff * 2, 30000);
    reconnectTimer = window.setTimeout(connect, d);
  }

  function onEvent(m) {
    var d = m.data || {};
    if (m.type === 'snapshot') { soon(50); return; }
    if (d.number === NUMBER) {
      if (m.type === 'ticket.recalled') {
        $('#tk-recall').hidden = false;
        alertTurn();
        announce(both('track.recall'));
      }
      soon(0);
      return;
    }
    // Someone else's ticket or a counter changed: the position or the
    // estimate may have moved. Spread the refetches of many phones.
    if (status === 'waiting' && ((m.type.indexOf('ticket.') === 0 && d.service === service) || m.type.indexOf('counter.') === 0)) {
      soon(200 + Math.random() * 800);
    }
  }

  function finish() {
    finished = true;
    window.clearInterval(pollTimer);
    window.clearTimeout(reconnectTimer);
    if (ws) { ws.onclose = null; ws.close(); ws = null; }
  }

  // Leaving the queue.
  function leave() {
    var dlg = $('#confirm');
    $('#confirm-yes').disabled = true;
    fetch('/api/v1/track/' + encodeURIComponent(TOKEN) + '/cancel', { method: 'POST', headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' }, body: '{}' })
      .then(function (r) {
        if (!r.ok) { throw new Error('HTTP ' + r.status); }
        return r.json();
      })
      .then(function (t) { dlg.close(); render(t); announce(both('track.cancelled')); })
      .catch(function () { dlg.close(); setTr($('#tk-error'), both('track.leave.failed')); refresh(); })
      .then(function () { $('#confirm-yes').disabled = false; });
  }

  document.addEventListener('click', function (e) {
    var b = e.target.closest('button');
    if (!b) { return; }
    switch (b.id) {
      case 'lang': applyLang(lang === 'it' ? 'en' : 'it'); break;
      case 'sound':
        ensureAudio();
        chime(1);
        b.setAttribute('aria-pressed', 'true');
        setTr(b, both('track.sound.on'));
        break;
      case 'leave': $('#confirm').showModal(); break;
      case 'confirm-no': $('#confirm').close(); break;
      case 'confirm-yes': leave(); break;
    }
  });
  document.addEventListener('pointerdown', function () { if (audio === null) { ensureAudio(); } }, { once: true });
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'visible' && !finished) { refresh(); connect(); }
  });

  var saved = null;
  try { saved = window.localStorage.getItem('sportello-lang'); } catch (e) { saved = null; }
  applyLang(saved === 'en' ? 'en' : 'it');
  if (status === 'done' || status === 'no_show' || status === 'cancelled') {
    finish();
  } else {
    refresh();
    connect();
    pollTimer = window.setInterval(refresh, POLL_MS);
  }
})();
