/* Sportello: the supervisor's page of the waiting-room displays
 * (/admin/displays). Polls GET /api/v1/displays and sets the information
 * line with PUT /api/v1/notice (with the session's CSRF token). Plain JS. */
(function () {
  'use strict';

  function $(id) { return document.getElementById(id); }

  if (!document.body.classList.contains('admin')) return;

  // ---- health ----
  var version = document.body.getAttribute('data-version');
  var pollMs = Number(document.body.getAttribute('data-poll-ms')) || 5000;
  var fmt = new Intl.DateTimeFormat('it-IT', { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  window.__sportelloAdmin = { polls: 0, displays: [] };

  function set(tile, f, text, state) {
    var dd = tile.querySelector('[data-f="' + f + '"]');
    if (!dd) return;
    dd.textContent = text;
    if (state) dd.setAttribute('data-state', state); else dd.removeAttribute('data-state');
  }

  function poll() {
    fetch('/api/v1/displays', { cache: 'no-store', credentials: 'same-origin' }).then(function (r) {
      if (!r.ok) throw new Error(String(r.status));
      return r.json();
    }).then(function (list) {
      window.__sportelloAdmin.polls++;
      window.__sportelloAdmin.displays = list;
      $('poll-status').textContent = 'Aggiornato alle / Updated at ' + fmt.format(new Date());
      list.forEach(function (d) {
        var tile = document.querySelector('.tile[data-display="' + CSS.escape(d.id) + '"]');
        if (!tile) return;
        tile.setAttribute('data-online', d.online ? 'true' : 'false');
        set(tile, 'online', d.online ? 'in linea / online' : 'non in linea / offline', d.online ? 'ok' : 'bad');
        var seen = d.last_seen && !/^0001-/.test(d.last_seen) ? new Date(d.last_seen) : null;
        set(tile, 'last_seen', seen ? fmt.format(seen) : 'mai / never', seen ? null : 'bad');
        set(tile, 'version', d.version || '—', d.version && d.version !== version ? 'warn' : null);
        set(tile, 'audio', !seen ? '—' : (d.audio ? 'attivo / on' : 'bloccato / blocked'), seen && !d.audio ? 'warn' : null);
        set(tile, 'layout', d.layout || '—');
      });
    }).catch(function (e) {
      $('poll-status').textContent = 'Stato non disponibile / Status unavailable (' + e.message + ')';
    });
  }
  poll();
  setInterval(poll, pollMs);

  // ---- information line ----
  var nf = $('notice-form');
  nf.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var st = $('notice-status');
    st.textContent = '…';
    fetch('/api/v1/notice', {
      method: 'PUT', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': document.body.getAttribute('data-csrf') || '' },
      body: JSON.stringify({ it: $('notice-it').value, en: $('notice-en').value })
    }).then(function (r) {
      st.textContent = r.ok ? 'Salvato / Saved' : 'Non salvato / Not saved (' + r.status + ')';
    }).catch(function () { st.textContent = 'Hub non raggiungibile / Hub unreachable'; });
  });
})();
