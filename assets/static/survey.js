// Sportello — the satisfaction survey: five faces (radio buttons, so the
// keyboard and screen readers handle them natively), an optional reason
// and comment. Every form.survey posts to its data-post with the fields
// of data-extra; the answer replaces the form with a thank-you (a
// status message). The counter's screen resets it with
// SportelloSurvey.reset().
(function () {
  'use strict';

  function lang() { return document.documentElement.lang === 'en' ? 'en' : 'it'; }

  function msg(form, key) {
    var T = JSON.parse(form.dataset.msgs || '{}');
    var t = T[key] || { it: key, en: key };
    return { it: t.it, en: t.en || t.it };
  }

  // say writes a two-language text that the pages' language switch
  // (class tr) keeps in the current language.
  function say(el, text) {
    el.classList.add('tr');
    el.dataset.it = text.it;
    el.dataset.en = text.en;
    el.textContent = text[lang()];
  }

  function box(form) { return form.closest('[data-survey]'); }

  function done(form, key) {
    var thanks = box(form).querySelector('.survey-thanks');
    form.hidden = true;
    thanks.hidden = false;
    say(thanks, msg(form, key));
    thanks.setAttribute('tabindex', '-1');
    thanks.focus();
    form.dispatchEvent(new CustomEvent('survey:done', { bubbles: true, detail: { key: key } }));
  }

  function send(form) {
    var err = form.querySelector('.survey-error');
    var picked = form.querySelector('input[name="score"]:checked');
    if (!picked) {
      say(err, msg(form, 'survey.pick'));
      form.querySelector('input[name="score"]').focus();
      return;
    }
    var body = JSON.parse(form.dataset.extra || '{}');
    body.score = parseInt(picked.value, 10);
    var reason = form.querySelector('select[name="reason"]').value;
    var comment = form.querySelector('textarea[name="comment"]').value.trim();
    if (reason) { body.reason = reason; }
    if (comment) { body.comment = comment; }
    var headers = { 'Content-Type': 'application/json', 'Accept': 'application/json' };
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content) { headers['X-CSRF-Token'] = meta.content; }
    var button = form.querySelector('.survey-send');
    button.disabled = true;
    say(err, { it: '', en: '' });
    fetch(form.dataset.post, { method: 'POST', headers: headers, body: JSON.stringify(body) })
      .then(function (r) {
        if (r.ok) { return { ok: true }; }
        return r.json().then(function (p) { return { ok: false, code: p.code }; }, function () { return { ok: false }; });
      })
      .then(function (res) {
        button.disabled = false;
        if (res.ok) { done(form, 'survey.thanks'); return; }
        switch (res.code) {
          case 'already_rated': done(form, 'survey.already'); break;
          case 'feedback_expired': case 'rating_closed': done(form, 'survey.expired'); break;
          default: say(err, msg(form, 'survey.failed'));
        }
      })
      .catch(function () { button.disabled = false; say(err, msg(form, 'survey.failed')); });
  }

  function reset(form, extra) {
    form.reset();
    form.dataset.extra = JSON.stringify(extra || {});
    form.hidden = false;
    var b = box(form);
    b.querySelector('.survey-thanks').hidden = true;
    var err = form.querySelector('.survey-error');
    err.textContent = '';
  }

  document.addEventListener('submit', function (e) {
    var form = e.target;
    if (!form.classList || !form.classList.contains('survey')) { return; }
    e.preventDefault();
    send(form);
  });

  window.SportelloSurvey = { reset: reset };
})();
