/* The admin page: users, the catalogue of services and places (created
 * and edited here, no file editing), places' profiles, device enrolment,
 * the login audit and the action audit. */
(function () {
  'use strict';
  var S = window.Sportello;
  var D = S.data;
  var T = S.T;
  function $(id) { return document.getElementById(id); }

  var st = { counters: [], services: [], editingService: null, editingCounter: null };
  var profile = S.profileEditor(function () { loadCounters(); });

  // showError puts an API error, or a bilingual text of the page's own
  // checks, in a form's alert box.
  function showError(box, err) {
    S.clear(box).appendChild(S.tr(err && err.it ? err : S.errText(err)));
    box.hidden = false;
  }

  // ---- users --------------------------------------------------------------------

  function loadUsers() {
    return S.api('GET', '/api/v1/admin/users').then(function (users) {
      S.patchRows($('users').tBodies[0], (users || []).map(function (u) {
        return {
          key: u.username, sig: u.role + '|' + u.locked + '|' + u.disabled, build: function () {
            var state = u.disabled ? T('Disattivato', 'Disabled') : (u.locked ? T('Bloccato', 'Locked') : T('Attivo', 'Active'));
            return S.el('tr', { dataset: { user: u.username, disabled: String(!!u.disabled) } }, [
              S.el('th', { scope: 'row', text: u.username }),
              S.el('td', null, [(D.roles || {})[u.role] || T(u.role)]),
              S.el('td', null, [S.el('span', { class: 'badge ' + (u.disabled ? 'closed' : (u.locked ? 'paused' : 'open')) }, [state])]),
              S.el('td', null, [S.el('button', { type: 'button', class: 'btn small', dataset: { toggleUser: u.username, disable: String(!u.disabled) } },
                [u.disabled ? T('Riattiva', 'Enable') : T('Disattiva', 'Disable'), S.el('span', { class: 'visually-hidden', text: ' ' + u.username })])])
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
    var chars = Array.from(body.password).length; // characters, as the hub counts them
    if (chars < 8 || chars > 72) {
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

  $('users').addEventListener('click', function (e) {
    var b = e.target.closest('button[data-toggle-user]');
    if (!b) return;
    var name = b.dataset.toggleUser;
    var disable = b.dataset.disable === 'true';
    S.api('PATCH', '/api/v1/admin/users/' + encodeURIComponent(name), { disabled: disable }).then(function () {
      S.say(disable ? T('Utente ' + name + ' disattivato: le sue sessioni sono chiuse.', 'User ' + name + ' disabled: their sessions are closed.') :
        T('Utente ' + name + ' riattivato.', 'User ' + name + ' enabled.'));
      loadUsers();
    }, S.fail);
  });

  // ---- services -------------------------------------------------------------------

  var categories = {
    informativo: T('Informativo', 'Information'),
    dispositivo: T('Dispositivo', 'Formal act'),
    segnalazione: T('Segnalazione', 'Report')
  };

  // The pages' shared catalogue (names, the profile editor) follows the
  // hub's, so a service created here can be given to a place at once.
  function adoptServices(list) {
    st.services = list || [];
    D.services = st.services.map(function (s) {
      return { id: s.id, prefix: s.prefix, name: s.name, category: s.category, target_min: s.target_wait_min, room: s.room };
    });
    S.services = {};
    D.services.forEach(function (s) { S.services[s.id] = s; });
  }

  function placesOf(id) {
    return st.counters.filter(function (c) { return (c.services || []).indexOf(id) >= 0; }).map(function (c) { return c.id; });
  }

  function renderServices() {
    S.patchRows($('services').tBodies[0], st.services.map(function (s) {
      var at = placesOf(s.id);
      return {
        key: s.id, sig: JSON.stringify([s, at]), build: function () {
          return S.el('tr', { dataset: { service: s.id, active: String(s.active) } }, [
            S.el('th', { scope: 'row' }, [s.name, ' ', S.el('code', { class: 'id', text: s.id })]),
            S.el('td', { text: s.prefix }),
            S.el('td', null, [categories[s.category] || T(s.category)]),
            S.el('td', { text: s.target_wait_min + ' min' }),
            S.el('td', null, [s.room ? T('Stanza', 'Room') : T('Sportello', 'Desk')]),
            S.el('td', null, [S.el('span', { class: 'badge ' + (s.active ? 'open' : 'closed') }, [s.active ? T('Attivo', 'Active') : T('Disattivato', 'Off')]),
              s.priority ? '' : S.el('span', { class: 'sub' }, [' ', T('senza priorità', 'no priority')])]),
            S.el('td', { class: 'places' }, at.length ? [at.join(', ')] : [S.el('span', { class: 'warn-text', text: 'nessuna · none' })]),
            S.el('td', null, [S.el('button', { type: 'button', class: 'btn small', id: 'edit-service-' + s.id, dataset: { editService: s.id } },
              [T('Modifica', 'Edit'), S.el('span', { class: 'visually-hidden', text: ' ' + s.id })])])
          ]);
        }
      };
    }));
  }

  function loadServices() {
    return S.api('GET', '/api/v1/services').then(function (list) {
      adoptServices(list);
      renderServices();
      renderCounterServices();
    }, S.fail);
  }

  function editService(s) {
    st.editingService = s ? s.id : null;
    var title = $('svc-form-title');
    S.clear(title).appendChild(S.tr(s ? T('Modifica il servizio ' + s.id, 'Edit service ' + s.id) : T('Nuovo servizio', 'New service')));
    $('svc-id').value = s ? s.id : '';
    $('svc-id').readOnly = !!s;
    $('svc-prefix').value = s ? s.prefix : '';
    $('svc-category').value = s ? s.category : 'informativo';
    $('svc-name-it').value = s ? s.name.it : '';
    $('svc-name-en').value = s ? s.name.en : '';
    $('svc-target').value = s ? s.target_wait_min : '';
    $('svc-time').value = s ? s.service_time_min : '';
    $('svc-room').checked = s ? s.room : false;
    $('svc-active').checked = s ? s.active : true;
    $('svc-priority').checked = s ? s.priority : true;
    $('svc-error').hidden = true;
  }

  $('services').addEventListener('click', function (e) {
    var b = e.target.closest('button[data-edit-service]');
    if (!b) return;
    var s = st.services.find(function (x) { return x.id === b.dataset.editService; });
    if (!s) return;
    editService(s);
    $('svc-prefix').focus();
  });
  $('svc-new').addEventListener('click', function () { editService(null); $('svc-id').focus(); });

  $('service-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var id = $('svc-id').value.trim();
    var err = $('svc-error');
    err.hidden = true;
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(id)) {
      showError(err, T('Il codice è 1-32 tra lettere, cifre, _ e -.', 'The code is 1-32 letters, digits, _ and -.'));
      $('svc-id').focus();
      return;
    }
    var body = {
      prefix: $('svc-prefix').value.trim(),
      name: { it: $('svc-name-it').value.trim(), en: $('svc-name-en').value.trim() },
      category: $('svc-category').value,
      room: $('svc-room').checked,
      active: $('svc-active').checked,
      priority: $('svc-priority').checked
    };
    var tw = parseFloat($('svc-target').value);
    var stm = parseFloat($('svc-time').value);
    if (!(tw > 0) || !(stm > 0)) {
      showError(err, T('Attesa obiettivo e durata tipica sono minuti, più di 0.', 'Target wait and typical length are minutes, more than 0.'));
      (tw > 0 ? $('svc-time') : $('svc-target')).focus();
      return;
    }
    body.target_wait_min = tw;
    body.service_time_min = stm;
    S.api('PUT', '/api/v1/admin/services/' + encodeURIComponent(id), body).then(function (s) {
      S.say(T('Servizio ' + s.id + ' salvato.', 'Service ' + s.id + ' saved.'));
      editService(null);
      return Promise.all([loadServices(), loadCounters()]);
    }, function (e2) {
      showError(err, e2);
      var f = e2.field && document.querySelector('#service-form [name="' + e2.field.replace(/\..*$/, '').replace('name', 'name_it') + '"]');
      if (f) f.focus();
    });
  });

  // ---- places ---------------------------------------------------------------------

  // renderCounterServices lists, in the place form, the services a place
  // of the chosen kind may serve, keeping what was ticked.
  function renderCounterServices(chosen) {
    var box = $('ctr-services');
    var keep = chosen || Array.prototype.filter.call(box.querySelectorAll('input'), function (i) { return i.checked; }).map(function (i) { return i.value; });
    var room = $('ctr-kind').value === 'room';
    S.clear(box);
    st.services.filter(function (s) { return !!s.room === room; }).forEach(function (s) {
      var input = S.el('input', { type: 'checkbox', name: 'service', value: s.id, id: 'ctr-svc-' + s.id });
      input.checked = keep.indexOf(s.id) >= 0;
      box.appendChild(S.el('label', { class: 'choice', for: 'ctr-svc-' + s.id }, [input, ' ', s.name]));
    });
  }
  $('ctr-kind').addEventListener('change', function () { renderCounterServices(); });

  function editCounter(c) {
    st.editingCounter = c ? c.id : null;
    S.clear($('ctr-form-title')).appendChild(S.tr(c ? T('Modifica la postazione ' + c.id, 'Edit place ' + c.id) : T('Nuova postazione', 'New place')));
    $('ctr-id').value = c ? c.id : '';
    $('ctr-id').readOnly = !!c;
    $('ctr-kind').value = c ? c.kind : 'counter';
    $('ctr-kind').disabled = !!c; // a place keeps its kind
    $('ctr-name-it').value = c && c.name ? c.name.it : '';
    $('ctr-name-en').value = c && c.name ? c.name.en : '';
    $('ctr-error').hidden = true;
    renderCounterServices(c ? (c.services || []) : []);
  }
  $('ctr-new').addEventListener('click', function () { editCounter(null); $('ctr-id').focus(); });

  $('counter-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var id = $('ctr-id').value.trim();
    var err = $('ctr-error');
    err.hidden = true;
    var services = Array.prototype.filter.call($('ctr-services').querySelectorAll('input'), function (i) { return i.checked; }).map(function (i) { return i.value; });
    var body = { name: { it: $('ctr-name-it').value.trim(), en: $('ctr-name-en').value.trim() }, services: services };
    if (!st.editingCounter) body.kind = $('ctr-kind').value;
    S.api('PUT', '/api/v1/admin/counters/' + encodeURIComponent(id), body).then(function (c) {
      S.say(T('Postazione ' + c.id + ' salvata.', 'Place ' + c.id + ' saved.'));
      editCounter(null);
      return loadCounters();
    }, function (e2) { showError(err, e2); });
  });

  function loadCounters() {
    return S.api('GET', '/api/v1/counters').then(function (cs) {
      st.counters = cs || [];
      (st.counters || []).forEach(function (c) { S.counterDefs[c.id] = { id: c.id, kind: c.kind, name: c.name, services: c.services }; });
      // The catalogue's "places" column follows the live profiles.
      renderServices();
      S.patchRows($('counters').tBodies[0], st.counters.map(function (c) {
        return {
          key: c.id, sig: [c.state, (c.services || []).join(',')].join('|'), build: function () {
            return S.el('tr', { dataset: { counter: c.id } }, [
              S.el('th', { scope: 'row' }, [c.id + ' ', S.el('span', { class: 'sub' }, [c.name || S.counterName(c.id)])]),
              S.el('td', null, [c.kind === 'room' ? T('Stanza', 'Room') : T('Sportello', 'Desk')]),
              S.el('td', null, [S.el('span', { class: 'badge ' + c.state }, [S.stateNames[c.state] || T(c.state)])]),
              S.el('td', { class: 'chips' }, (c.services || []).map(function (id) { return S.el('span', { class: 'chip', text: S.serviceName(id).it }); })),
              S.el('td', { class: 'row-actions' }, [
                S.el('button', { type: 'button', class: 'btn small', id: 'profile-' + c.id, dataset: { profile: c.id } }, [T('Modifica servizi', 'Edit services'), S.el('span', { class: 'visually-hidden', text: ' ' + c.id })]),
                ' ',
                S.el('button', { type: 'button', class: 'btn small', id: 'edit-counter-' + c.id, dataset: { editCounter: c.id } }, [T('Nome e profilo', 'Name and profile'), S.el('span', { class: 'visually-hidden', text: ' ' + c.id })])
              ])
            ]);
          }
        };
      }));
    }, S.fail);
  }

  $('counters').addEventListener('click', function (e) {
    var ed = e.target.closest('button[data-edit-counter]');
    if (ed) {
      var cc = st.counters.find(function (x) { return x.id === ed.dataset.editCounter; });
      if (cc) { editCounter(cc); $('ctr-name-it').focus(); }
      return;
    }
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
    disabled: T('Tentativo su account disattivato', 'Attempt on a disabled account'),
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
    if (/^service\./.test(m.type)) loadServices();
  });
  window.setInterval(function () { loadHealth(); loadLogins(); }, Math.max(D.refresh_ms || 15000, 5000));
  Promise.all([loadUsers(), loadServices().then(loadCounters), loadHealth(), loadLogins(), loadAudit()]).then(function () {
    document.body.classList.add('ready');
  });
})();
