// The machxp live view: renders each state the server sends on /events (Server-Sent Events).
// Every value is set with textContent, never as HTML.
(function () {
  'use strict';

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }

  function clear(node) {
    while (node.firstChild) { node.removeChild(node.firstChild); }
    return node;
  }

  function number(v) {
    return v >= 1000 ? Math.round(v).toLocaleString('en-US') : String(v);
  }

  function chip(text, cls) {
    return el('span', 'chip' + (cls ? ' ' + cls : ''), text);
  }

  function renderRates(r) {
    document.getElementById('rate-xp').textContent = number(r.xpPerSecond);
    document.getElementById('rate-grants').textContent = number(r.grantsPerSecond);
    document.getElementById('rate-handoffs').textContent = number(r.handoffsPerSecond);
    document.getElementById('total-xp').textContent = number(r.xpTotal);
    document.getElementById('total-handoffs').textContent = number(r.handoffs);
    var box = clear(document.getElementById('routines'));
    var entries = Object.keys(r.byRoutine).map(function (k) { return [k, r.byRoutine[k]]; });
    entries.sort(function (a, b) { return b[1] - a[1]; });
    var top = entries.length ? entries[0][1] : 1;
    entries.slice(0, 8).forEach(function (e) {
      var row = el('div', 'routine');
      row.appendChild(el('span', 'name', e[0].replace(/^memory_object_/, '')));
      var bar = el('span', 'bar');
      bar.style.width = Math.max(2, Math.round(100 * e[1] / top)) + '%';
      row.appendChild(bar);
      row.appendChild(el('span', 'per', number(e[1]) + '/s'));
      box.appendChild(row);
    });
  }

  function renderKernels(kernels) {
    var box = clear(document.getElementById('kernels'));
    kernels.forEach(function (k) {
      var card = el('div', 'kernel' + (k.broken ? ' broken' : ''));
      card.setAttribute('data-kernel', k.name);
      var head = el('div', 'kernel-head');
      head.appendChild(el('span', 'kernel-name', 'kernel ' + k.name));
      head.appendChild(el('span', 'kernel-facts', 'session ' + k.sessionId + ' · holds ' + k.futexesHeld +
          ' · queued ' + k.futexesQueued + ' · ' + k.residentPages + (k.residentPages === 1 ? ' page' : ' pages') +
          (k.leaseLeftMs ? ' · lease ' + k.leaseLeftMs + ' ms' : '')));
      card.appendChild(head);
      if (k.problem) { card.appendChild(el('div', 'problem', k.problem)); }
      if (k.threads.length) {
        var t = el('table', 'grid threads');
        var hr = el('tr');
        ['tid', 'task', 'priority', 'state'].forEach(function (h) { hr.appendChild(el('th', null, h)); });
        t.appendChild(el('thead')).appendChild(hr);
        var body = t.appendChild(el('tbody'));
        k.threads.forEach(function (th) {
          var tr = el('tr', th.boosted ? 'boosted' : '');
          tr.appendChild(el('td', 'mono', th.tid));
          tr.appendChild(el('td', null, th.task));
          var p = el('td');
          p.appendChild(document.createTextNode(String(th.basePriority)));
          if (th.boosted) {
            p.appendChild(chip('boosted to ' + th.effectivePriority, 'boost'));
          }
          tr.appendChild(p);
          var state = el('td');
          if (th.blockedIn) {
            state.appendChild(chip(th.blockedIn.replace(/^vm_/, ''), 'blocked'));
            if (th.waitsFor) { state.appendChild(document.createTextNode(' ' + th.waitsFor)); }
          } else {
            state.appendChild(chip('running', 'running'));
          }
          if (th.boostedBy.length) { // futexes it owns that others wait for: the source of a boost
            state.appendChild(el('span', 'hint', (th.boosted ? ' by ' : ' holds ') +
                th.boostedBy.join(', ')));
          }
          tr.appendChild(state);
          body.appendChild(tr);
        });
        card.appendChild(t);
      }
      if (k.threadsOmitted) { // past the reply's bound (3 MiB of threads): counted, not listed
        card.appendChild(el('div', 'hint', k.threadsOmitted + ' more ' + (k.threadsOmitted === 1 ? 'thread' : 'threads') +
            ' not listed (a kernel lists at most 3 MiB of threads)'));
      }
      box.appendChild(card);
    });
  }

  // Rows past the first SHOWN, and those the pager's reply counted without listing them (a reply
  // lists at most 2 MiB of futexes and pages): one line says how many are not shown.
  var SHOWN = 24;
  function notShown(body, listed, omitted, columns) {
    var more = Math.max(0, listed - SHOWN) + omitted;
    if (more > 0) {
      var td = body.appendChild(el('tr')).appendChild(el('td', 'hint', 'and ' + more + ' more, not shown'));
      td.colSpan = columns;
    }
  }

  function renderFutexes(futexes, omitted) {
    var body = clear(document.querySelector('#futexes tbody'));
    futexes.slice(0, SHOWN).forEach(function (f) {
      var tr = el('tr');
      tr.appendChild(el('td', 'mono', f.futex));
      tr.appendChild(el('td', null, f.holder || '—'));
      tr.appendChild(el('td', 'mono', f.fencingToken));
      var w = el('td');
      if (!f.waiters.length) { w.textContent = '—'; }
      f.waiters.forEach(function (x) { w.appendChild(chip(x.kernel + '/' + x.priority, 'waiter')); });
      if (f.ownerDied) { w.appendChild(chip('owner died', 'died')); }
      tr.appendChild(w);
      body.appendChild(tr);
    });
    notShown(body, futexes.length, omitted, 4);
    if (!futexes.length && !omitted) { body.appendChild(el('tr')).appendChild(el('td', 'hint', 'no futex held or waited for')); }
  }

  function renderPages(pages, omitted) {
    var body = clear(document.querySelector('#pages tbody'));
    pages.slice(0, SHOWN).forEach(function (p) {
      var tr = el('tr');
      tr.appendChild(el('td', 'mono', p.page));
      tr.appendChild(el('td', null, p.writer || '—'));
      tr.appendChild(el('td', null, p.readers.length ? p.readers.join(' ') : '—'));
      body.appendChild(tr);
    });
    notShown(body, pages.length, omitted, 3);
    if (!pages.length && !omitted) { body.appendChild(el('tr')).appendChild(el('td', 'hint', 'no page held by a kernel')); }
  }

  function time(micros) {
    var d = new Date(micros / 1000);
    return d.toISOString().substring(11, 23);
  }

  function renderMessages(messages, missed) {
    var box = clear(document.getElementById('messages'));
    messages.slice().reverse().forEach(function (m) {
      var li = el('li', m.handoffFrom ? 'handoff' : (m.toKernel ? 'down' : 'up'));
      li.appendChild(el('span', 'seq mono', '#' + m.sequence));
      li.appendChild(el('span', 'at mono', time(m.unixMicros)));
      li.appendChild(el('span', 'dir', m.toKernel ? 'pager → ' + m.kernel : m.kernel + ' → pager'));
      li.appendChild(el('span', 'routine', m.routine.replace(/^memory_object_/, '')));
      li.appendChild(el('span', 'mono', m.target));
      if (m.detail) { li.appendChild(el('span', 'hint', m.detail)); }
      if (m.handoffFrom) { li.appendChild(chip('handoff from ' + m.handoffFrom, 'boost')); }
      box.appendChild(li);
    });
    document.getElementById('missed').textContent = missed ? missed + ' messages went by too fast to list' : '';
  }

  function renderHandoffs(handoffs) {
    var box = clear(document.getElementById('handoffs'));
    handoffs.slice(-6).reverse().forEach(function (h) {
      var li = el('li', 'handoff');
      li.setAttribute('data-handoff', h.target);
      li.appendChild(el('span', 'mono', h.target));
      li.appendChild(el('span', 'move', h.handoffFrom + ' → ' + h.kernel));
      li.appendChild(el('span', 'at mono', time(h.unixMicros)));
      box.appendChild(li);
    });
    if (!handoffs.length) { box.appendChild(el('li', 'hint', 'none yet: a futex granted to another kernel than its last holder shows here')); }
  }

  function render(s) {
    if (!s.rates) { return; }
    document.getElementById('pager').textContent = s.pager;
    var c = document.getElementById('connection');
    c.textContent = s.problem ? s.problem : 'live';
    c.className = 'connection ' + (s.problem ? 'problem' : 'live');
    renderRates(s.rates);
    renderKernels(s.kernels);
    renderFutexes(s.futexes, s.futexesOmitted);
    renderPages(s.pages, s.pagesOmitted);
    renderHandoffs(s.handoffs);
    renderMessages(s.messages, s.messagesMissed);
  }

  var source = new EventSource('events');
  source.onmessage = function (e) { render(JSON.parse(e.data)); };
  source.onerror = function () {
    var c = document.getElementById('connection');
    c.textContent = 'the view server does not answer; retrying';
    c.className = 'connection problem';
  };
}());
