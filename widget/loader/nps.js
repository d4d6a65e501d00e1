/*! nps.js: NPS survey loader (Apache-2.0). Decides sampling, recontact, suppression and trigger in
 * plain JS and only when the survey is due fetches the Leptos/WASM widget that sits next to it.
 * No cookies. localStorage keeps a random visitor id and when this visitor last answered or
 * dismissed each survey ("nps:<site>"), plus undelivered answers ("nps:outbox", see send.js). */
((w, d) => {
  const S = d.currentScript;
  if (!S || w.__npsLoader) return;
  w.__npsLoader = 1;
  const A = S.dataset,
    base = S.src.replace(/[^/]*$/, ''),
    endpoint = (A.endpoint || base).replace(/\/+$/, ''),
    site = A.site,
    survey = A.survey || 'nps',
    trig = (A.trigger || 'load').split(':'),
    KEY = 'nps:' + site,
    rnd = () => 'v' + Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => (b + 256).toString(16).slice(1)).join(''),
    js = (f) =>
      new Promise((ok, ko) => {
        const s = d.createElement('script');
        s.src = base + f;
        s.nonce = S.nonce;
        s.onload = ok;
        s.onerror = ko;
        d.head.appendChild(s);
      }),
    put = () => {
      try {
        localStorage.setItem(KEY, JSON.stringify(st));
      } catch (e) {}
    };
  let st, user = {}, props, shown, loading, manual, host, prev, lib, off, warned;
  const warn = (m) => warned || (warned = console.warn('nps: ' + m) || 1);
  try {
    st = JSON.parse(localStorage.getItem(KEY)) || 0;
    (localStorage.getItem('nps:outbox') || '').length > 2 && js('nps-send.js').catch(() => 0);
  } catch (e) {}
  st && st.v || put((st = { v: rnd() }));

  // ---- decisions, all before any widget byte is fetched
  const recent = (k, days) => Date.now() - ((st[k] || {})[survey] || 0) < days * 864e5;
  const answered = () => recent('a', +(A.recontactAnswered || 90));
  const due = () => {
    let h = 0;
    for (const c of st.v + survey) h = (h * 31 + c.charCodeAt(0)) | 0;
    return (
      Math.abs(h) % 100 < +(A.sample || 100) &&
      // An identified user who answered asks the edge: it asks again after a resolved case.
      (user.id || !answered()) &&
      !recent('x', +(A.recontactDismissed || 30))
    );
  };
  const disarm = () => (off = off && off());
  const on = (t, ev, f) => {
    t.addEventListener(ev, f);
    off = () => t.removeEventListener(ev, f);
  };
  const arm = () => {
    disarm();
    if (shown || !site || !due()) return;
    const n = +trig[1] || 0, t = trig[0];
    if (t == 'delay') {
      const id = setTimeout(fire, n * 1e3);
      off = () => clearTimeout(id);
    } else if (t == 'scroll') {
      const f = () => (scrollY + innerHeight) * 100 >= n * d.documentElement.scrollHeight && fire();
      on(w, 'scroll', f);
      f();
    } else if (t == 'exit') on(d, 'mouseout', (e) => e.relatedTarget || e.clientY > 0 || fire());
    else if (t != 'manual') fire();
  };
  // A background tab waits until the visitor is back; leaving the page (or SPA route) cancels.
  const fire = () => (disarm(), d.hidden ? on(d, 'visibilitychange', fire) : show());

  const show = (force) => {
    if (!site || loading || (host && host.isConnected) || (!force && (shown || !due()))) return;
    loading = 1;
    manual = force;
    const e = encodeURIComponent;
    // Suppression: an identified user sees the survey only when the edge says {"show":true}.
    // Any failure (non-2xx, network, bad JSON) means "don't show": never survey an open case.
    (user.id || user.account
      ? fetch(
          endpoint + '/v1/sites/' + e(site) + '/eligibility?survey=' + e(survey) +
            (user.id ? '&user=' + e(user.id) : '') + (user.account ? '&account=' + e(user.account) : '') +
            (user.signature ? '&signature=' + e(user.signature) : '')
        )
          .then((r) => r.ok && r.json())
          .then((j) => j && j.show === true && (force || !answered() || j.reason == 'resurvey'))
      : Promise.resolve(1)
    )
      .then((ok) => ok && load().then(mount))
      .catch(() => warn('survey not shown (eligibility check or widget load failed)'))
      .then(() => (loading = 0));
  };
  // The wasm streams in parallel with the two scripts; a failure is retried on the next show.
  const load = () =>
    (lib =
      lib ||
      Promise.all([fetch(base + 'nps-widget_bg.wasm'), js('nps-send.js'), js('nps-widget.js')])
        // A wasm trap in the widget hides it (widget/build/trap-guard.js).
        .then(([wasm]) => ((__npsWidget.ontrap = hide), __npsWidget({ module_or_path: wasm })))
        .catch((e) => {
          lib = 0;
          throw e;
        }));
  const mount = () => {
    const into = A.mode == 'inline' ? d.querySelector(A.target) : d.body;
    if (!into) return warn('data-target not found');
    host = d.createElement('nps-survey');
    into.appendChild(host);
    shown = 1;
    __npsWidget.mount(
      host,
      {
        site,
        survey,
        visitor: st.v,
        locale: A.locale || d.documentElement.lang || navigator.language,
        brand: A.brand,
        review: A.review,
        accent: A.accent,
        theme: A.theme,
        mode: A.mode,
        position: A.position,
        // The query and fragment can carry tokens or e-mails: kept only on request.
        page: A.page == 'full' ? location.href : location.origin + location.pathname,
        user,
        properties: props,
        autofocus: manual,
      },
      {
        id: __npsId,
        send: (path, key, body) => __npsSend(endpoint + path, key, body),
        emit: (name, detail) => {
          const k = { answered: 'a', dismissed: 'x' }[name];
          if (k) (st[k] = st[k] || {})[survey] = Date.now(), put();
          // After the widget's call returns: page listeners never run inside the wasm call.
          queueMicrotask(() => d.dispatchEvent(new CustomEvent('nps:' + name, { detail })));
        },
        close: hide,
      }
    ) || hide();
  };
  const hide = () => {
    if (!host) return;
    const h = host, inside = d.activeElement == h;
    host = 0;
    try {
      __npsWidget.unmount();
    } catch (e) {}
    h.remove();
    inside && prev && prev.isConnected && prev.focus && prev.focus();
  };

  // ---- SPA: a route change cancels a pending trigger and evaluates again for the new page
  let path = location.pathname + location.search;
  const route = () => {
    const p = location.pathname + location.search;
    if (p != path) (path = p), arm();
  };
  for (const k of ['pushState', 'replaceState']) {
    const f = history[k];
    history[k] = function () {
      const r = f.apply(this, arguments);
      route();
      return r;
    };
  }
  w.addEventListener('popstate', route);
  // Where focus goes back when the widget closes: the last page element that had it.
  d.addEventListener('focusin', (e) => e.target != host && (prev = e.target));
  w.addEventListener('pagehide', disarm);
  w.addEventListener('pageshow', (e) => e.persisted && arm());

  // ---- JS API; commands queued before the loader arrived run first, in order
  const cmd = ([c, o = {}]) => {
    if (c == 'identify') {
      user = { id: o.id, account: o.account, order: o.order, email: o.email, signature: o.signature };
      props = o.properties;
    } else if (c == 'show') disarm(), show(1);
    else if (c == 'hide') hide();
    else if (c == 'reset') hide(), (user = {}), (props = 0), put((st = { v: rnd() })), w.__npsScrub && __npsScrub();
  };
  const q = (w.nps && w.nps.q) || [];
  w.nps = (...a) => cmd(a);
  q.forEach((a) => cmd(a));
  site ? arm() : warn('data-site is required');
})(window, document);
