/* The admin page: users, the catalogue (read-only), places' profiles,
 * device enrolment, the login audit and the action audit. */
(function () {
  'use strict';
  var S = window.Sportello;
  var D = S.data;
  var T = S.T;
  function $(id) { return document.getElementById(id); }

  var st = { counters: [] };
  var profile = S.profileEditor(function () { loadCounters(); });

  // ---- users --------------------------------------------------------------------

  function loadUsers() {
    return S.api('GET', '/api/v1/admin/users').then(function (users) {
      S.patchRows($('users').tBodies[0], (users || []).map(function (u) {
        return {
          key: u.username, sig: u.role + '|' + u.locked, build: function () {
            return S.el('tr', { dataset: { user: u.username } }, [
              S.el('th', { scope: 'row', text: u.username }),
              S.el('td', null, [(D.roles || {})[u.role] || T(u.role)]),
              S.el('td', null, [S.el('span', { class: 'badge ' + (u.locked ? 'paused' : 'open') }, [u.locked ? T('Bloccato', 'Locked') : T('Attivo', 'Active')])])
            ]);
          }
        };
      }));
    }, S.fail);
  }

  $('user-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var body = { username: $('user-name').value.trim(), role: $('user-role').value, password: $('user-password').value };
    if (!body.username) { S.warn(T('Scrivi il nome utente.', 'Write the username.')); $('user-name').focus(); return; }
    if (body.password.length < 8 || body.password.length > 72) {
      S.warn(T('La password deve avere da 8 a 72 caratteri.', 'The password must be 8 to 72 characters.'));
      $('user-password').focus();
      return;
    }
    S.api('PUT', '/api/v1/admin/users', body).then(function (u) {
      $('user-password').value = '';
      S.say(T('Utente ' + u.username + ' salvato.', 'User ' + u.username + ' saved.'));
      loadUsers();
      loadLogins();
    }, S.fail);
  });

  // ---- places ---------------------------------------------------------------------

  function loadCounters() {
    return S.api('GET', '/api/v1/counters').then(function (cs) {
      st.counters = cs || [];
      // The catalogue's "places" column follows the live profiles.
      document.querySelectorAll('#services tr[data-service]').forEach(function (tr) {
        var id = tr.dataset.service;
        var at = st.counters.filter(function (c) { return (c.services || []).indexOf(id) >= 0; }).map(function (c) { return c.id; });
        var cell = tr.querySelector('td.places');
        if (!cell) return;
        S.clear(cell);
        if (at.length) cell.textContent = at.join(', ');
        else cell.appendChild(S.el('span', { class: 'warn-text', text: 'nessuna · none' }));
      });
      S.patchRows($('counters').tBodies[0], st.counters.map(function (c) {
        return {
          key: c.id, sig: [c.state, (c.services || []).join(',')].join('|'), build: function () {
            return S.el('tr', { dataset: { counter: c.id } }, [
              S.el('th', { scope: 'row' }, [c.id + ' ', S.el('span', { class: 'sub' }, [c.name || S.counterName(c.id)])]),
              S.el('td', null, [c.kind === 'room' ? T('Stanza', 'Room') : T('Sportello', 'Desk')]),
              S.el('td', null, [S.el('span', { class: 'badge ' + c.state }, [S.stateNames[c.state] || T(c.state)])]),
              S.el('td', { class: 'chips' }, (c.services || []).map(function (id) { return S.el('span', { class: 'chip', text: S.serviceName(id).it }); })),
              S.el('td', null, [S.el('button', { type: 'button', class: 'btn small', id: 'profile-' + c.id, dataset: { profile: c.id } }, [T('Modifica servizi', 'Edit services'), S.el('span', { class: 'visually-hidden', text: ' ' + c.id })])])
            ]);
          }
        };
      }));
    }, S.fail);
  }

  $('counters').addEventListener('click', function (e) {
    var b = e.target.closest('button[data-profile]');
    if (!b) return;
    var c = st.counters.find(function (x) { return x.id === b.dataset.profile; });
    if (c && profile) profile.open(c, b);
  });

  // ---- devices --------------------------------------------------------------------

  function loadHealth() {
    return Promise.all([S.api('GET', '/api/v1/totems'), S.api('GET', '/api/v1/displays')]).then(function (r) {
      (r[0] || []).forEach(function (t) {
        var cell = $('health-totem-' + t.id);
        if (!cell) return;
        S.clear(cell).appendChild(S.tr(t.connected ? T('Collegato, stampante ' + t.printer_state, 'Connected, printer ' + t.printer_state) : T('Non collegato', 'Not connected')));
      });
      (r[1] || []).forEach(function (d) {
        var cell = $('health-display-' + d.id);
        if (!cell) return;
        S.clear(cell).appendChild(S.tr(d.online ? T('In linea', 'Online') : T('Non in linea', 'Offline')));
      });
    }, S.fail);
  }

  $('devices').addEventListener('click', function (e) {
    var b = e.target.closest('button.enrol');
    if (!b) return;
    var id = b.dataset.id;
    var kind = b.dataset.kind;
    S.api('POST', '/api/v1/admin/devices', { id: id, kind: kind }).then(function (d) {
      var page = kind === 'totem' ? '/kiosk/' : '/display/';
      $('enrolled-token').textContent = d.token;
      $('enrolled-url').textContent = window.location.origin + page + encodeURIComponent(d.id) + '?token=' + encodeURIComponent(d.token);
      var box = $('enrolled');
      box.dataset.device = d.id;
      box.hidden = false;
      box.focus();
      S.say(T('Dispositivo ' + d.id + ' registrato: il vecchio token non vale più.', 'Device ' + d.id + ' enrolled: the old token no longer works.'));
    }, S.fail);
  });

  // ---- audits ---------------------------------------------------------------------

  var loginNames = {
    login: T('Accesso', 'Login'),
    login_failed: T('Accesso non riuscito', 'Failed login'),
    locked: T('Tentativo su account bloccato', 'Attempt while locked'),
    logout: T('Uscita', 'Logout')
  };

  function loadLogins() {
    return S.api('GET', '/api/v1/audit/logins?limit=100').then(function (recs) {
      S.patchRows($('logins').tBodies[0], (recs || []).map(function (r, i) {
        return {
          key: r.at + '|' + r.username + '|' + r.action + '|' + i, sig: '1', build: function () {
            return S.el('tr', { class: r.action === 'login' || r.action === 'logout' ? '' : 'warn-row', dataset: { action: r.action } }, [
              S.el('td', { text: S.dateTime(r.at) }),
              S.el('td', { class: 'actor', text: r.username }),
              S.el('td', null, [loginNames[r.action] || T(r.action)]),
              S.el('td', { text: r.detail || '' })
            ]);
          }
        };
      }));
    }, S.fail);
  }

  function loadAudit() {
    return S.loadAudit($('audit').tBodies[0], 200, $('audit-actor').value.trim()).catch(S.fail);
  }
  $('audit-form').addEventListener('submit', function (e) { e.preventDefault(); loadAudit(); });

  // ---- start ----------------------------------------------------------------------

  var soonCounters = S.debounce(function () { loadCounters(); loadAudit(); }, 500);
  var first = true;
  S.live(function (m) {
    if (m.type === 'snapshot' && first) { first = false; loadAudit(); return; }
    if (/^(counter|day|snapshot)/.test(m.type)) soonCounters();
  });
  window.setInterval(function () { loadHealth(); loadLogins(); }, Math.max(D.refresh_ms || 15000, 5000));
  Promise.all([loadUsers(), loadCounters(), loadHealth(), loadLogins(), loadAudit()]).then(function () {
    document.body.classList.add('ready');
  });
})();
