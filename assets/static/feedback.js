// Sportello — the counter's feedback screen: it asks the hub every few
// seconds which visit just ended at this counter, shows the faces for it,
// and goes back to rest after the answer (or when the next citizen is
// called). It never shows a rating.
(function () {
  'use strict';

  var body = document.body;
  var COUNTER = body.dataset.counter;
  var POLL = parseInt(body.dataset.pollMs, 10) || 2000;
  var RESET = parseInt(body.dataset.resetMs, 10) || 8000;
  var current = null;
  var resting = null;
  var lang = 'it';

  function $(sel) { return document.querySelector(sel); }

  function applyLang(l) {
    lang = l;
    document.documentElement.lang = l;
    Array.prototype.forEach.call(document.querySelectorAll('.tr'), function (el) { el.textContent = el.dataset[l] || el.dataset.it || ''; });
    var b = $('#lang');
    b.textContent = b.dataset[l];
    b.setAttribute('lang', l === 'it' ? 'en' : 'it');
  }

  function rest() {
    current = null;
    $('#fb-visit').hidden = true;
    $('#fb-rest').hidden = false;
    applyLang('it');
  }

  function show(v) {
    if (current === v.number) { return; }
    current = v.number;
    window.clearTimeout(resting);
    var form = document.querySelector('form.survey');
    window.SportelloSurvey.reset(form, { number: v.number });
    var n = $('#fb-number');
    n.classList.add('tr');
    n.dataset.it = 'Biglietto ' + v.number;
    n.dataset.en = 'Ticket ' + v.number;
    n.textContent = n.dataset[lang];
    $('#fb-rest').hidden = true;
    $('#fb-visit').hidden = false;
  }

  function poll() {
    fetch('/api/v1/feedback/' + encodeURIComponent(COUNTER), { cache: 'no-store', headers: { 'Accept': 'application/json' } })
      .then(function (r) {
        if (r.status === 200) { return r.json(); }
        return null;
      })
      .then(function (v) {
        var answered = document.querySelector('form.survey').hidden;
        if (v) { show(v); } else if (current !== null && !answered) { rest(); }
      })
      .catch(function () { /* the next poll retries */ })
      .then(function () { window.setTimeout(poll, POLL); });
  }

  document.addEventListener('survey:done', function () {
    window.clearTimeout(resting);
    resting = window.setTimeout(rest, RESET);
  });
  $('#lang').addEventListener('click', function () { applyLang(lang === 'it' ? 'en' : 'it'); });
  applyLang('it');
  poll();
})();
