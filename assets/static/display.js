/* Sportello waiting-room display (/display/{id}).
 *
 * Follows the hub's public live feed and keeps the screen up to date: the
 * latest call, the previous calls, the queue per service, the clock and the
 * information line. New calls are announced (chime + voice clips chosen by
 * the hub, GET /display/{id}/phrase) one after the other with Web Audio.
 * Unattended: reconnects with backoff and full jitter, resumes with since=,
 * reloads when the hub's version changes, shifts the picture against
 * burn-in and reports its health with a heartbeat.
 *
 * Test hooks: window.__sportello (announced, shown, connections, ...).
 * No framework, no build step. */
(function () {
  'use strict';

  var cfg = JSON.parse(document.body.getAttribute('data-config'));
  var loadedAt = Date.now();
  var S = window.__sportello = {
    version: cfg.version,
    announced: [], // one entry per announcement: {number, counter, kind, recall, seq, startedAt, endedAt, durationMs, audio, clips}
    shown: [],     // one entry per call put on screen: {number, counter, seq, t}
    connections: [], // {at, since}
    online: false,
    offlineShown: false,
    heartbeats: 0,
    heartbeatStatus: null,
    shift: { x: 0, y: 0, n: 0 },
    audio: 'none',
    reloads: 0,
    reloadBlocked: false,
    skipped: [],   // announcements dropped in a burst (more than 20 waiting)
    errors: []
  };

  // ---- storage (survives reloads of this tab) ----
  var storeKey = 'sportello.display.' + cfg.id + '.';
  function load(k) {
    try { return window.sessionStorage.getItem(storeKey + k); } catch (e) { return null; }
  }
  function save(k, v) {
    try { window.sessionStorage.setItem(storeKey + k, String(v)); } catch (e) { /* private mode */ }
  }
  S.reloads = Number(load('reloads') || 0);

  // ---- state ----
  var calls = [];          // newest first, one per ticket number, at most maxCalls + 1
  var queue = {};          // service -> {waiting, ewt_min}
  var notice = cfg.notice || { it: '', en: '' };
  var lastSeq = cfg.seq;   // last feed seq applied
  var offset = cfg.serverNow - Date.now(); // hub clock - local clock
  var storedSeen = load('seen');
  // seen: the highest call seq already decided (shown and maybe spoken).
  // After a reload in the same tab, calls made while reloading are still
  // announced when fresh; on a first load nothing old is spoken.
  var seen = (storedSeen !== null && Number(storedSeen) <= cfg.seq) ? Number(storedSeen) : cfg.seq;
  var flashUntil = 0;

  function serverNow() { return Date.now() + offset; }
  function fresh(c) { return serverNow() - Date.parse(c.at) < cfg.announceMaxAgeMs; }
  function shows(c) {
    return (!cfg.counters.length || cfg.counters.indexOf(c.counter) >= 0) &&
      (!cfg.services.length || cfg.services.indexOf(c.service) >= 0);
  }
  function setSeen(n) { seen = n; save('seen', n); }

  // ---- DOM ----
  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text, lang) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (lang) e.setAttribute('lang', lang);
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function dest(c) {
    var d = cfg.dest[c.counter];
    if (d) return d;
    return c.kind === 'room' ? { it: 'Stanza ' + c.counter, en: 'Room ' + c.counter } : { it: 'Sportello ' + c.counter, en: 'Desk ' + c.counter };
  }
  function destInto(parent, c) {
    var d = dest(c);
    parent.appendChild(el('span', 'it', d.it, 'it'));
    parent.appendChild(el('span', 'en', d.en, 'en'));
    return parent;
  }
  function now() { return (window.performance && performance.timeOrigin) ? performance.timeOrigin + performance.now() : Date.now(); }

  function renderHero() {
    var hero = $('hero');
    var c = calls[0];
    hero.textContent = '';
    if (!c) {
      hero.className = 'hero empty';
      ['data-number', 'data-counter', 'data-seq'].forEach(function (a) { hero.removeAttribute(a); });
      var idle = el('p', 'idle');
      idle.appendChild(el('span', null, 'In attesa della prossima chiamata', 'it'));
      idle.appendChild(el('span', 'en', 'Waiting for the next call', 'en'));
      hero.appendChild(idle);
      return;
    }
    hero.className = 'hero' + (Date.now() < flashUntil ? ' flash' : '');
    hero.setAttribute('data-number', c.number);
    hero.setAttribute('data-counter', c.counter);
    hero.setAttribute('data-seq', String(c.seq));
    var num = el('p', 'num', c.number);
    num.id = 'hero-number';
    hero.appendChild(num);
    var arrow = el('p', 'arrow', '\u279C');
    arrow.setAttribute('aria-hidden', 'true');
    hero.appendChild(arrow);
    hero.appendChild(destInto(el('p', 'dest'), c));
    var rc = el('p', 'recall');
    rc.appendChild(el('span', null, 'Chiamata ripetuta', 'it'));
    rc.appendChild(document.createTextNode(' \u00B7 '));
    rc.appendChild(el('span', null, 'Called again', 'en'));
    rc.hidden = !c.recall;
    hero.appendChild(rc);
  }

  function renderList() {
    var ol = $('calls');
    var frag = document.createDocumentFragment();
    calls.slice(1).forEach(function (c) {
      var li = el('li');
      li.setAttribute('data-number', c.number);
      li.setAttribute('data-counter', c.counter);
      li.setAttribute('data-seq', String(c.seq));
      if (speaking && speaking.number === c.number) li.className = 'speaking';
      li.appendChild(el('span', 'num', c.number));
      li.appendChild(destInto(el('span', 'dest'), c));
      frag.appendChild(li);
    });
    ol.textContent = '';
    ol.appendChild(frag);
  }

  function renderCalls() {
    renderHero();
    renderList();
    var c = calls[0];
    if (c) S.shown.push({ number: c.number, counter: c.counter, seq: c.seq, t: now() });
  }

  function renderQueue() {
    var rows = document.querySelectorAll('#queue tbody tr[data-service]');
    for (var i = 0; i < rows.length; i++) {
      var tr = rows[i];
      var q = queue[tr.getAttribute('data-service')] || { waiting: 0, ewt_min: 0 };
      tr.querySelector('td.n').textContent = String(q.waiting);
      tr.querySelector('td.ewt').textContent = q.waiting > 0 ? '~' + q.ewt_min + ' min' : '\u2014';
      tr.classList.toggle('zero', !q.waiting);
    }
  }

  // fitQueue pages the queue table when the site has more services than
  // fit on the screen: one page at a time, turned every few seconds.
  var qpage = { per: 0, pages: 1, at: 0 };
  function fitQueue() {
    var box = document.querySelector('.queue');
    var tbody = document.querySelector('#queue tbody');
    var rows = tbody.querySelectorAll('tr');
    for (var i = 0; i < rows.length; i++) rows[i].hidden = false;
    qpage.pages = 1;
    var bottom = box.getBoundingClientRect().bottom;
    if (!rows.length || rows[rows.length - 1].getBoundingClientRect().bottom <= bottom + 1) {
      $('queue-page').hidden = true;
      S.queuePages = 1;
      return;
    }
    var h = 0;
    for (var j = 0; j < rows.length; j++) h = Math.max(h, rows[j].getBoundingClientRect().height);
    qpage.per = Math.max(1, Math.floor((bottom - tbody.getBoundingClientRect().top) / h));
    qpage.pages = Math.ceil(rows.length / qpage.per);
    qpage.at = 0;
    S.queuePages = qpage.pages;
    showQueuePage();
  }
  function showQueuePage() {
    if (qpage.pages <= 1) return;
    var rows = document.querySelectorAll('#queue tbody tr');
    for (var i = 0; i < rows.length; i++) rows[i].hidden = Math.floor(i / qpage.per) !== qpage.at;
    var ind = $('queue-page');
    ind.textContent = (qpage.at + 1) + '/' + qpage.pages;
    ind.hidden = false;
  }
  function turnQueuePage() {
    if (qpage.pages <= 1) return;
    qpage.at = (qpage.at + 1) % qpage.pages;
    showQueuePage();
  }

  function renderNotice() {
    var it = (notice && notice.it) || '';
    var en = (notice && notice.en) || '';
    $('notice-it').textContent = it;
    $('notice-en').textContent = en;
    $('notice-en').hidden = !en;
    $('notice').hidden = !it && !en;
    fitQueue(); // the notice may take one line more or less
  }

  // ---- calls ----
  function callOf(m) {
    var d = m.data || {};
    return { number: d.number, service: d.service, counter: d.counter, kind: d.kind || '', at: m.at, recall: d.recall || 0, seq: m.seq };
  }
  function addCall(c) {
    calls = calls.filter(function (x) { return x.number !== c.number; });
    calls.unshift(c);
    if (calls.length > cfg.maxCalls + 1) calls.length = cfg.maxCalls + 1;
  }
  // consider decides a call the screen has not seen yet: shown if it is
  // for this screen, spoken if it is also fresh.
  function consider(c, speak) {
    if (c.seq <= seen) return false;
    setSeen(c.seq);
    if (!shows(c)) return false;
    if (speak && fresh(c)) enqueue(c);
    return true;
  }

  function onCall(m) {
    var c = callOf(m);
    if (c.seq <= seen || !shows(c)) { if (c.seq > seen) setSeen(c.seq); return; }
    addCall(c);
    flashUntil = Date.now() + cfg.highlightMs;
    renderCalls();
    consider(c, true);
  }

  function onSnapshot(m) {
    var d = m.data || {};
    if (m.at) offset = Date.parse(m.at) - Date.now();
    synced = true;
    if (d.version && d.version !== cfg.hubVersion) versionChanged(d.version);
    if (m.seq < seen) setSeen(0); // another store: start over
    var list = (d.calls || []).slice(); // newest first
    var next = [];
    list.forEach(function (c) {
      if (shows(c) && !next.some(function (x) { return x.number === c.number; }) && next.length < cfg.maxCalls + 1) next.push(c);
    });
    var newest = next[0];
    var isNew = newest && (!calls[0] || calls[0].seq !== newest.seq);
    calls = next;
    if (isNew && newest.seq > seen) flashUntil = Date.now() + cfg.highlightMs;
    list.slice().reverse().forEach(function (c) { consider(c, true); });
    if (m.seq > seen) setSeen(m.seq);
    queue = {};
    (d.queue || []).forEach(function (q) { queue[q.service] = q; });
    notice = d.notice || { it: '', en: '' };
    renderCalls();
    renderQueue();
    renderNotice();
  }

  function handle(m) {
    if (m.type === 'snapshot') {
      lastSeq = m.seq;
      onSnapshot(m);
      return;
    }
    if (m.seq > lastSeq) lastSeq = m.seq;
    switch (m.type) {
      case 'ticket.called':
      case 'ticket.recalled':
        onCall(m);
        break;
      case 'notice.changed':
        notice = (m.data && m.data.notice) || { it: '', en: '' };
        renderNotice();
        break;
    }
    if (m.data && m.data.queue && m.data.queue.service) {
      queue[m.data.queue.service] = m.data.queue;
      renderQueue();
    }
  }

  // ---- version ----
  function versionChanged(v) {
    S.versionSeen = v;
    var last = Number(load('reloadAt') || 0);
    if (Date.now() - last < 60000) { S.reloadBlocked = true; return; } // at most one reload a minute
    save('reloadAt', Date.now());
    save('reloads', S.reloads + 1);
    save('seen', seen);
    window.location.reload();
  }
  function checkVersion() {
    fetch(cfg.versionUrl, { cache: 'no-store', credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (j) {
        if (j && ((j.version && j.version !== cfg.version) || (j.hub && j.hub !== cfg.hubVersion))) versionChanged(j.version);
      })
      .catch(function () { /* the feed will tell */ });
  }

  // ---- live feed ----
  var ws = null;
  var attempt = 0;
  var openedAt = 0;
  var offlineSince = null;
  var connects = 0;
  var synced = false; // a snapshot came: later connections resume with since=

  function connect() {
    var url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + cfg.liveUrl + (synced ? '?since=' + lastSeq : '');
    var sock;
    try { sock = new WebSocket(url); } catch (e) { lost(); return; }
    ws = sock;
    S.connections.push({ at: Date.now(), since: synced ? lastSeq : null });
    sock.onopen = function () {
      if (ws !== sock) return;
      openedAt = Date.now();
      connects++;
      offlineSince = null;
      S.online = true;
      showOffline(false);
      // A resume with since= brings no snapshot: ask for the version.
      if (synced) checkVersion();
    };
    sock.onmessage = function (ev) {
      if (ws !== sock) return;
      var m;
      try { m = JSON.parse(ev.data); } catch (e) { return; }
      try { handle(m); } catch (e) { S.errors.push(String(e)); }
    };
    sock.onclose = function () { if (ws === sock) lost(); };
    sock.onerror = function () { /* onclose follows */ };
  }

  function lost() {
    if (ws) {
      var old = ws;
      ws = null;
      old.onopen = old.onmessage = old.onclose = old.onerror = null;
      try { old.close(); } catch (e) { /* already closed */ }
    }
    S.online = false;
    if (offlineSince === null) {
      offlineSince = Date.now();
      setTimeout(checkOffline, cfg.offlineAfterMs + 20);
    }
    if (openedAt && Date.now() - openedAt > 60000) attempt = 0; // it was stable
    openedAt = 0;
    var cap = Math.min(cfg.reconnectMaxMs, cfg.reconnectBaseMs * Math.pow(2, attempt));
    attempt++;
    setTimeout(connect, cfg.reconnectMinMs + Math.random() * cap);
  }

  function checkOffline() {
    if (offlineSince !== null && Date.now() - offlineSince >= cfg.offlineAfterMs) showOffline(true);
  }
  function showOffline(on) {
    if (on && !S.offlineShown) S.offlineCount = (S.offlineCount || 0) + 1;
    S.offlineShown = on;
    $('offline').hidden = !on;
  }

  // ---- announcements ----
  var actx = null;
  var buffers = new Map(); // url -> Promise<AudioBuffer>
  var keep = {};
  var pending = [];
  var playing = false;
  var speaking = null;

  function audioInit() {
    if (cfg.preview) return;
    var AC = window.AudioContext || window.webkitAudioContext;
    if (!AC) { S.audio = 'unsupported'; return; }
    try { actx = new AC(); } catch (e) { S.audio = 'failed'; return; }
    S.audio = actx.state;
    actx.onstatechange = function () { S.audio = actx.state; };
    if (actx.state !== 'running') actx.resume().catch(function () { /* needs a gesture */ });
    var wake = function () { if (actx.state !== 'running') actx.resume().catch(function () {}); };
    ['pointerdown', 'keydown', 'touchstart'].forEach(function (t) { document.addEventListener(t, wake, { passive: true }); });
    cfg.preload.forEach(function (u) { keep[u] = true; loadClip(u); });
  }

  function loadClip(url) {
    var p = buffers.get(url);
    if (p) return p;
    p = fetch(url).then(function (r) {
      if (!r.ok) throw new Error('clip ' + url + ': ' + r.status);
      return r.arrayBuffer();
    }).then(function (b) { return actx.decodeAudioData(b); });
    p.catch(function () { buffers.delete(url); });
    buffers.set(url, p);
    if (buffers.size > 400) {
      var it = buffers.keys();
      for (var k = it.next(); !k.done && buffers.size > 300; k = it.next()) if (!keep[k.value]) buffers.delete(k.value);
    }
    return p;
  }

  function planFor(item) {
    if (!item.plan) {
      var c = item.call;
      var q = '?number=' + encodeURIComponent(c.number) + '&kind=' + encodeURIComponent(c.kind) + '&counter=' + encodeURIComponent(c.counter);
      item.plan = fetch(cfg.phraseUrl + q, { cache: 'no-store', credentials: 'same-origin' })
        .then(function (r) { if (!r.ok) throw new Error('phrase ' + r.status); return r.json(); })
        .then(function (j) { return j.clips; });
      item.plan.catch(function () {});
    }
    return item.plan;
  }

  // At most this many announcements wait; in a burst the oldest waiting
  // one is dropped (it is still on screen).
  var MAX_PENDING = 20;
  function enqueue(c) {
    if (!actx) return;
    pending.push({ call: c, plan: null });
    while (pending.length > MAX_PENDING) {
      var drop = pending.shift();
      S.skipped.push({ number: drop.call.number, counter: drop.call.counter, seq: drop.call.seq });
    }
    pump();
  }

  function pump() {
    if (playing || !pending.length) return;
    playing = true;
    var item = pending.shift();
    planFor(item);
    if (pending.length) planFor(pending[0]); // the next one, while this plays
    play(item).catch(function (e) { S.errors.push(String(e)); }).then(function () {
      playing = false;
      pump();
    });
  }

  function markSpeaking(c) {
    speaking = c;
    var lis = document.querySelectorAll('#calls li');
    for (var i = 0; i < lis.length; i++) lis[i].classList.toggle('speaking', !!c && lis[i].getAttribute('data-number') === c.number);
  }

  // play schedules the clips back to back on the audio clock and resolves
  // when the last one has ended. The length comes from the decoded clips,
  // so the queue keeps its timing even when no sound can come out (a
  // suspended AudioContext): one announcement never overlaps the next.
  function play(item) {
    var c = item.call;
    var entry = { number: c.number, counter: c.counter, kind: c.kind, recall: c.recall, seq: c.seq, startedAt: 0, endedAt: 0, durationMs: 0, audio: false, clips: [] };
    return planFor(item).then(function (segs) {
      return Promise.all(segs.map(function (s) { return loadClip(s.url); })).then(function (bufs) { return { segs: segs, bufs: bufs }; });
    }).then(function (p) {
      return new Promise(function (resolve) {
        var rate = cfg.speechRate || 1;
        var running = actx.state === 'running';
        var lead = 0.05;
        var t0 = actx.currentTime + lead;
        var t = t0;
        var last = null;
        for (var i = 0; i < p.segs.length; i++) {
          t += (p.segs[i].pause_ms || 0) / 1000 / rate;
          if (running) {
            var src = actx.createBufferSource();
            src.buffer = p.bufs[i];
            src.playbackRate.value = rate;
            src.connect(actx.destination);
            src.start(t);
            last = src;
          }
          t += p.bufs[i].duration / rate;
        }
        var total = t - t0;
        entry.startedAt = Date.now() + lead * 1000;
        entry.durationMs = Math.round(total * 1000);
        entry.audio = running;
        entry.clips = p.segs.map(function (s) { return s.clip; });
        S.announced.push(entry);
        markSpeaking(c);
        var done = false;
        var finish = function () {
          if (done) return;
          done = true;
          entry.endedAt = Date.now();
          markSpeaking(null);
          resolve();
        };
        if (last) last.onended = finish;
        // The fallback when no sound plays, or if onended never comes.
        setTimeout(finish, (lead + total) * 1000 + (last ? 1500 : 0));
      });
    }, function (e) {
      entry.startedAt = entry.endedAt = Date.now();
      entry.error = String(e);
      S.announced.push(entry);
    });
  }

  // ---- heartbeat ----
  function layout() { return window.innerWidth >= window.innerHeight ? 'landscape' : 'portrait'; }
  function heartbeat() {
    if (!cfg.heartbeats) return;
    fetch(cfg.heartbeatUrl, {
      method: 'POST', cache: 'no-store', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ version: cfg.version, audio: !!actx && actx.state === 'running', layout: layout() })
    }).then(function (r) {
      S.heartbeats++;
      S.heartbeatStatus = r.status;
    }).catch(function () {
      S.heartbeatStatus = 0;
      // The hub is unreachable: a socket that still looks open is
      // half-open (JS cannot see pings). Start over.
      if (ws && ws.readyState === 1) lost();
    });
  }

  // ---- clock ----
  var fmt = {};
  function mkFmt(locale, opts) {
    try { opts.timeZone = cfg.tz || undefined; return new Intl.DateTimeFormat(locale, opts); } catch (e) {
      delete opts.timeZone;
      return new Intl.DateTimeFormat(locale, opts);
    }
  }
  fmt.time = mkFmt('it-IT', { hour: '2-digit', minute: '2-digit', hour12: false });
  fmt.hour = mkFmt('it-IT', { hour: '2-digit', hour12: false });
  fmt.it = mkFmt('it-IT', { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
  fmt.en = mkFmt('en-GB', { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
  function tick() {
    var d = new Date(serverNow());
    $('clock').textContent = fmt.time.format(d);
    $('date-it').textContent = fmt.it.format(d);
    $('date-en').textContent = fmt.en.format(d);
    var hero = $('hero');
    if (hero.classList.contains('flash') && Date.now() >= flashUntil) hero.classList.remove('flash');
    checkOffline();
    // Nightly reload at 03:00 (site time): a fresh page every day.
    if (Date.now() - loadedAt > 3600e3 && Number(fmt.hour.format(d)) === 3) window.location.reload();
  }

  // ---- burn-in ----
  var shifts = [[0, 0], [3, 1], [4, 3], [2, 4], [-1, 3], [-3, 4], [-4, 1], [-3, -2], [-1, -4], [2, -3], [4, -1]];
  function shift() {
    S.shift.n++;
    var s = shifts[S.shift.n % shifts.length];
    S.shift.x = s[0];
    S.shift.y = s[1];
    var root = document.documentElement.style;
    root.setProperty('--shift-x', s[0] + 'px');
    root.setProperty('--shift-y', s[1] + 'px');
  }

  // ---- start ----
  S.feed = function (m) { handle(m); }; // tests feed synthetic messages
  (cfg.calls || []).forEach(function (c) { calls.push(c); });
  (cfg.queue || []).forEach(function (q) { queue[q.service] = q; });
  if (calls[0] && serverNow() - Date.parse(calls[0].at) < cfg.highlightMs) flashUntil = Date.now() + cfg.highlightMs - (serverNow() - Date.parse(calls[0].at));
  audioInit();
  renderCalls();
  renderQueue();
  renderNotice();
  // Calls made while this tab was reloading are still announced.
  (cfg.calls || []).slice().reverse().forEach(function (c) { consider(c, true); });
  if (cfg.seq > seen) setSeen(cfg.seq);
  fitQueue();
  window.addEventListener('resize', fitQueue);
  setInterval(turnQueuePage, 8000);
  tick();
  setInterval(tick, 1000);
  setInterval(shift, cfg.pixelShiftMs);
  if (cfg.heartbeats) {
    heartbeat();
    setInterval(heartbeat, cfg.heartbeatMs);
  }
  connect();
})();
