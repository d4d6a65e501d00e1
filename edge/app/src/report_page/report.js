// NPS report page. Served by the edge at /report under a strict CSP (script-src 'self', no inline
// code). All data goes into the DOM through textContent / createElement / setAttribute on
// attributes that are not URLs or handlers: no HTML is ever parsed from data.
//
// Token: typed by the user, or passed in the URL fragment (#token=…, never sent to a server);
// kept in sessionStorage (this tab only) and removed from the address bar at once.
'use strict';

(function () {
  const TOKEN_KEY = 'nps-report-token';
  const SVG = 'http://www.w3.org/2000/svg';
  const DAY = 86400000;
  const $ = (id) => document.getElementById(id);

  const state = {
    token: null,
    site: null,
    survey: '',
    days: 30,
    interval: 'day',
    segment: '',
    cursor: null,
    focus: null,
    summary: null,
  };

  // ---- fragment: token, site, response --------------------------------------------------------
  function readFragment() {
    const frag = new URLSearchParams(location.hash.replace(/^#/, ''));
    const token = frag.get('token');
    if (token) {
      sessionStorage.setItem(TOKEN_KEY, token);
      frag.delete('token');
      const rest = frag.toString();
      history.replaceState(null, '', location.pathname + location.search + (rest ? '#' + rest : ''));
    }
    if (frag.get('site')) state.site = frag.get('site');
    if (frag.get('response')) state.focus = frag.get('response');
    state.token = sessionStorage.getItem(TOKEN_KEY);
  }

  // ---- API --------------------------------------------------------------------------------------
  class AuthError extends Error {}

  async function api(path, accept) {
    const res = await fetch(path, {
      headers: { Authorization: 'Bearer ' + state.token, Accept: accept || 'application/json' },
      cache: 'no-store',
      credentials: 'omit',
    });
    if (res.status === 401 || res.status === 403) {
      throw new AuthError(res.status === 401 ? 'Please sign in.' : 'This token does not grant access.');
    }
    if (!res.ok) {
      let detail = res.status + ' ' + res.statusText;
      try { detail = (await res.json()).detail || detail; } catch (_) { /* not JSON */ }
      throw new Error(detail);
    }
    return accept === 'text/csv' ? res.blob() : res.json();
  }

  const enc = encodeURIComponent;
  const sitePath = (p) => '/v1/sites/' + enc(state.site) + p;

  function isoDay(ms) {
    return new Date(ms).toISOString().slice(0, 10);
  }

  function period(offsetPeriods) {
    const today = Math.floor(Date.now() / DAY) * DAY;
    const to = today - offsetPeriods * state.days * DAY;
    const from = to - (state.days - 1) * DAY;
    return { from: isoDay(from), to: isoDay(to) };
  }

  function query(extra) {
    const q = new URLSearchParams(extra);
    if (state.survey) q.set('survey', state.survey);
    return q.toString();
  }

  // ---- DOM helpers ------------------------------------------------------------------------------
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function svg(tag, attrs, parent) {
    const e = document.createElementNS(SVG, tag);
    for (const k in attrs) e.setAttribute(k, String(attrs[k]));
    if (parent) parent.appendChild(e);
    return e;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function status(msg) {
    $('status').textContent = msg || '';
  }

  const fmtNps = (v) => (v === null || v === undefined ? '–' : (v > 0 ? '+' : '') + Math.round(v));
  const fmtPct = (v) => (v === null || v === undefined ? '–' : Math.round(v * 1000) / 10 + '%');
  const num = (v) => Number(v || 0).toLocaleString('en-US');

  function segmentOf(score) {
    return score <= 6 ? 'detractor' : score <= 8 ? 'passive' : 'promoter';
  }

  function shortDate(iso) {
    const d = new Date(iso + (iso.length === 10 ? 'T00:00:00Z' : ''));
    return d.toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
  }

  // ---- views ------------------------------------------------------------------------------------
  function showLogin(message) {
    $('app').hidden = true;
    $('filters').hidden = true;
    $('login').hidden = false;
    $('login-error').textContent = message || '';
    $('token').focus();
  }

  function showApp() {
    $('login').hidden = true;
    $('app').hidden = false;
    $('filters').hidden = false;
  }

  function renderKpis(s, prev) {
    const npsEl = $('kpi-nps');
    npsEl.textContent = fmtNps(s.nps);
    npsEl.className = 'big ' + (s.nps === null ? '' : s.nps >= 30 ? 'good' : s.nps >= 0 ? 'ok' : 'bad');
    const delta = $('kpi-delta');
    if (s.nps !== null && prev && prev.nps !== null) {
      const d = Math.round(s.nps - prev.nps);
      delta.textContent = (d > 0 ? '▲ +' : d < 0 ? '▼ ' : '= ') + d + ' vs previous ' + state.days + ' days';
      delta.className = 'delta ' + (d > 0 ? 'up' : d < 0 ? 'down' : '');
    } else {
      delta.textContent = s.nps === null ? 'no answers yet' : 'no previous period to compare';
      delta.className = 'delta';
    }
    $('kpi-responses').textContent = num(s.responses);
    $('kpi-period').textContent = shortDate(s.from) + ' – ' + shortDate(s.to) + (state.survey ? ' · ' + state.survey : '');
    $('kpi-rate').textContent = fmtPct(s.response_rate);
    $('kpi-shown').textContent = num(s.shown) + ' shown · ' + num(s.dismissed) + ' dismissed';
    $('subtitle').textContent = 'Site ' + s.site + ' · updated ' + new Date().toLocaleTimeString('en-US', { hour: '2-digit', minute: '2-digit' });
  }

  function renderTrend(s) {
    const box = $('trend');
    clear(box);
    const W = Math.max(320, box.clientWidth || 640);
    const H = 260;
    const m = { l: 40, r: 12, t: 12, b: 28 };
    const iw = W - m.l - m.r;
    const ih = H - m.t - m.b;
    const root = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, width: W, height: H }, box);
    const title = svg('title', {}, root);
    title.textContent = 'NPS per ' + s.interval + ', ' + s.from + ' to ' + s.to;
    const n = s.series.length;
    const step = iw / Math.max(1, n);
    const x = (i) => m.l + step * i + step / 2;
    const y = (v) => m.t + ih * (1 - (v + 100) / 200);

    // Bands, grid and axis labels.
    svg('rect', { x: m.l, y: y(100), width: iw, height: y(0) - y(100), class: 'band-good' }, root);
    svg('rect', { x: m.l, y: y(0), width: iw, height: y(-100) - y(0), class: 'band-bad' }, root);
    for (const v of [-100, -50, 0, 50, 100]) {
      svg('line', { x1: m.l, x2: m.l + iw, y1: y(v), y2: y(v), class: v === 0 ? 'zero-line' : 'grid-line' }, root);
      const t = svg('text', { x: m.l - 8, y: y(v) + 4, 'text-anchor': 'end' }, root);
      t.textContent = (v > 0 ? '+' : '') + v;
    }
    // Volume bars (bottom quarter).
    const maxN = Math.max(1, ...s.series.map((b) => b.responses));
    s.series.forEach((b, i) => {
      if (!b.responses) return;
      const h = (ih / 4) * (b.responses / maxN);
      const bar = svg('rect', { x: x(i) - step * 0.32, y: m.t + ih - h, width: Math.max(1, step * 0.64), height: h, rx: 2, class: 'vol-bar' }, root);
      svg('title', {}, bar).textContent = b.start + ': ' + b.responses + ' responses';
    });
    // NPS line, broken where a period has no answers.
    const runs = [];
    let run = [];
    s.series.forEach((b, i) => {
      if (b.nps === null) {
        if (run.length) runs.push(run);
        run = [];
      } else {
        run.push([x(i), y(b.nps), b]);
      }
    });
    if (run.length) runs.push(run);
    for (const r of runs) {
      if (r.length > 1) {
        const d = r.map((p, i) => (i ? 'L' : 'M') + p[0].toFixed(1) + ' ' + p[1].toFixed(1)).join(' ');
        svg('path', { d: d + ' L' + r[r.length - 1][0].toFixed(1) + ' ' + y(-100) + ' L' + r[0][0].toFixed(1) + ' ' + y(-100) + ' Z', class: 'nps-area' }, root);
        svg('path', { d: d, class: 'nps-line' }, root);
      }
    }
    for (const r of runs) {
      for (const p of r) {
        const dot = svg('circle', { cx: p[0], cy: p[1], r: n > 60 ? 2.5 : 4, class: 'nps-dot' }, root);
        svg('title', {}, dot).textContent = p[2].start + ': NPS ' + fmtNps(p[2].nps) + ' (' + p[2].responses + ' responses)';
      }
    }
    // X labels: about 7 of them.
    const every = Math.max(1, Math.ceil(n / 7));
    s.series.forEach((b, i) => {
      if (i % every !== 0 && i !== n - 1) return;
      if (i !== n - 1 && n - 1 - i < every / 2) return;
      const t = svg('text', { x: x(i), y: H - 8, 'text-anchor': 'middle' }, root);
      t.textContent = shortDate(b.start);
    });
    if (!runs.length) {
      const t = svg('text', { x: m.l + iw / 2, y: m.t + ih / 2, 'text-anchor': 'middle' }, root);
      t.textContent = 'No answers in this period';
    }
  }

  function renderSplit(s) {
    const total = s.responses;
    const bar = $('split');
    const legend = $('split-legend');
    clear(bar);
    clear(legend);
    const names = { promoter: 'Promoters (9–10)', passive: 'Passives (7–8)', detractor: 'Detractors (0–6)' };
    for (const seg of ['detractor', 'passive', 'promoter']) {
      const c = s.by_segment[seg];
      const pct = total ? (100 * c) / total : 0;
      if (c) {
        const part = el('div', seg, pct >= 8 ? Math.round(pct) + '%' : '');
        part.style.width = pct + '%';
        part.title = names[seg] + ': ' + c;
        bar.appendChild(part);
      }
    }
    for (const seg of ['promoter', 'passive', 'detractor']) {
      const c = s.by_segment[seg];
      const li = el('li');
      li.appendChild(el('span', 'dot ' + seg));
      li.appendChild(el('span', null, names[seg]));
      li.appendChild(el('span', 'n', num(c) + (total ? ' · ' + Math.round((100 * c) / total) + '%' : '')));
      legend.appendChild(li);
    }
    // Score distribution 0..10.
    const box = $('scores');
    clear(box);
    const W = Math.max(240, box.clientWidth || 300);
    const H = 120;
    const root = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, width: W, height: H }, box);
    const max = Math.max(1, ...s.by_score);
    const bw = W / 11;
    s.by_score.forEach((c, score) => {
      const h = (H - 30) * (c / max);
      const r = svg('rect', { x: score * bw + bw * 0.15, y: H - 18 - h, width: bw * 0.7, height: Math.max(c ? 2 : 0, h), rx: 3, class: 'bar-' + segmentOf(score) }, root);
      svg('title', {}, r).textContent = 'Score ' + score + ': ' + c;
      const t = svg('text', { x: score * bw + bw / 2, y: H - 4, 'text-anchor': 'middle' }, root);
      t.textContent = String(score);
      if (c) {
        const v = svg('text', { x: score * bw + bw / 2, y: H - 22 - h, 'text-anchor': 'middle' }, root);
        v.textContent = String(c);
      }
    });
  }

  function commentItem(r, focused) {
    const li = el('li', 'comment' + (focused ? ' focused' : ''));
    li.dataset.id = r.id;
    const seg = r.segment || segmentOf(r.score);
    const badge = el('div', 'score ' + seg, r.score);
    badge.title = seg;
    li.appendChild(badge);
    const body = el('div');
    if (r.comment) {
      body.appendChild(el('p', 'comment-text', r.comment));
    } else {
      body.appendChild(el('p', 'comment-text none', 'No comment'));
    }
    const meta = el('div', 'meta');
    meta.appendChild(el('span', null, new Date(r.received_at).toLocaleString('en-US', { dateStyle: 'medium', timeStyle: 'short' })));
    meta.appendChild(el('span', null, r.survey));
    const u = r.user || {};
    const who = [u.email, u.id && 'user ' + u.id, u.account && 'account ' + u.account, u.order && 'order ' + u.order].filter(Boolean);
    if (who.length) meta.appendChild(el('span', null, who.join(' · ')));
    if (r.locale) meta.appendChild(el('span', null, r.locale));
    if (r.contact_ok && seg === 'detractor') meta.appendChild(el('span', 'badge contact', 'wants a call back'));
    else if (r.contact_ok) meta.appendChild(el('span', 'badge review', 'contact OK'));
    if (r.review_clicked) meta.appendChild(el('span', 'badge review', 'clicked review link'));
    if (typeof r.page === 'string' && /^https?:\/\//i.test(r.page)) {
      const a = el('a', null, r.page.replace(/^https?:\/\//i, ''));
      a.href = r.page;
      a.rel = 'noopener noreferrer';
      a.target = '_blank';
      meta.appendChild(a);
    }
    body.appendChild(meta);
    li.appendChild(body);
    return li;
  }

  async function loadComments(reset) {
    if (reset) {
      state.cursor = null;
      clear($('comments'));
    }
    const p = period(0);
    const q = { from: p.from, to: p.to, limit: '20' };
    if (state.segment) q.segment = state.segment;
    if (state.cursor) q.cursor = state.cursor;
    const page = await api(sitePath('/responses?' + query(q)));
    const list = $('comments');
    for (const r of page.items) list.appendChild(commentItem(r, r.id === state.focus));
    state.cursor = page.next_cursor;
    $('more').hidden = !state.cursor;
    $('comments-empty').hidden = list.childElementCount > 0;
  }

  async function loadFocus() {
    if (!state.focus) return;
    try {
      const r = await api(sitePath('/responses/' + enc(state.focus)));
      const box = $('focus-body');
      clear(box);
      const ol = el('ol', 'comments');
      ol.appendChild(commentItem(r, true));
      box.appendChild(ol);
      $('focus').hidden = false;
    } catch (e) {
      if (e instanceof AuthError) throw e;
      $('focus').hidden = true;
    }
  }

  async function loadSummary() {
    const p = period(0);
    const prevP = period(1);
    const [s, prev] = await Promise.all([
      api(sitePath('/summary?' + query({ from: p.from, to: p.to, interval: state.interval }))),
      api(sitePath('/summary?' + query({ from: prevP.from, to: prevP.to, interval: state.interval }))),
    ]);
    state.summary = s;
    renderKpis(s, prev);
    renderTrend(s);
    renderSplit(s);
  }

  async function loadCallbacks() {
    // Detractors who opted in to be contacted, in the period (counted over up to 500).
    const p = period(0);
    const page = await api(sitePath('/responses?' + query({ from: p.from, to: p.to, segment: 'detractor', limit: '500' })));
    const n = page.items.filter((r) => r.contact_ok).length;
    $('kpi-callback').textContent = num(n) + (page.next_cursor ? '+' : '');
  }

  async function refresh() {
    status('Loading…');
    try {
      await Promise.all([loadSummary(), loadComments(true), loadCallbacks(), loadFocus()]);
      document.body.dataset.ready = 'true';
      status('');
    } catch (e) {
      if (e instanceof AuthError) {
        sessionStorage.removeItem(TOKEN_KEY);
        showLogin(e.message);
        status('');
      } else {
        status('Could not load the report: ' + e.message);
      }
    }
  }

  async function start() {
    if (!state.token) return showLogin();
    let sites;
    try {
      sites = (await api('/v1/sites')).sites;
    } catch (e) {
      sessionStorage.removeItem(TOKEN_KEY);
      return showLogin(e.message);
    }
    showApp();
    const siteSel = $('site');
    clear(siteSel);
    for (const s of sites) siteSel.appendChild(new Option(s.id, s.id));
    if (!state.site || !sites.some((s) => s.id === state.site)) state.site = sites.length ? sites[0].id : null;
    siteSel.value = state.site;
    fillSurveys(sites);
    await refresh();
  }

  function fillSurveys(sites) {
    const sel = $('survey');
    clear(sel);
    sel.appendChild(new Option('All surveys', ''));
    const site = sites.find((s) => s.id === state.site);
    for (const sv of site ? site.surveys : []) sel.appendChild(new Option(sv, sv));
    sel.value = state.survey;
  }

  async function exportCsv() {
    const p = period(0);
    const q = { from: p.from, to: p.to, format: 'csv' };
    if (state.segment) q.segment = state.segment;
    try {
      const blob = await api(sitePath('/responses?' + query(q)), 'text/csv');
      const url = URL.createObjectURL(blob);
      const a = el('a');
      a.href = url;
      a.download = 'nps-' + state.site + '-' + p.from + '-to-' + p.to + '.csv';
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) {
      status('Export failed: ' + e.message);
    }
  }

  function wire() {
    $('login-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const t = $('token').value.trim();
      if (!t) return;
      sessionStorage.setItem(TOKEN_KEY, t);
      state.token = t;
      $('token').value = '';
      start();
    });
    $('signout').addEventListener('click', () => {
      sessionStorage.removeItem(TOKEN_KEY);
      state.token = null;
      showLogin();
    });
    $('site').addEventListener('change', async (ev) => {
      state.site = ev.target.value;
      state.survey = '';
      try { fillSurveys((await api('/v1/sites')).sites); } catch (_) { /* refresh reports it */ }
      refresh();
    });
    $('survey').addEventListener('change', (ev) => {
      state.survey = ev.target.value;
      refresh();
    });
    $('interval').addEventListener('change', (ev) => {
      state.interval = ev.target.value;
      refresh();
    });
    for (const b of $('period').querySelectorAll('button')) {
      b.addEventListener('click', () => {
        state.days = Number(b.dataset.days);
        for (const o of $('period').querySelectorAll('button')) o.classList.toggle('on', o === b);
        const iv = state.days > 90 ? 'week' : state.days <= 30 ? 'day' : state.interval;
        state.interval = iv;
        $('interval').value = iv;
        refresh();
      });
    }
    for (const b of $('tabs').querySelectorAll('button')) {
      b.addEventListener('click', () => {
        state.segment = b.dataset.seg;
        for (const o of $('tabs').querySelectorAll('button')) o.classList.toggle('on', o === b);
        loadComments(true).catch((e) => status(e.message));
      });
    }
    $('more').addEventListener('click', () => loadComments(false).catch((e) => status(e.message)));
    $('export').addEventListener('click', exportCsv);
    let resizeTimer = null;
    window.addEventListener('resize', () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => {
        if (state.summary) {
          renderTrend(state.summary);
          renderSplit(state.summary);
        }
      }, 150);
    });
    window.addEventListener('hashchange', () => {
      readFragment();
      start();
    });
  }

  document.addEventListener('DOMContentLoaded', () => {
    readFragment();
    wire();
    start();
  });
})();
