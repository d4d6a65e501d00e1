/*! nps-send.js: delivery for the NPS survey (Apache-2.0). Loaded by nps.js when the widget shows,
 * or on a page view with answers still waiting in the outbox. An entry leaves the localStorage
 * outbox only once the edge took it (2xx) or refused it for good (4xx but 429): never because a
 * beacon was queued (the edge's dedup makes a second delivery harmless). Each entry is retried on
 * its own backoff (1 s doubling to 60 s), so one stuck entry holds none of the others back; also
 * on `online` and on the next page view. pagehide hands what is waiting to sendBeacon. */
((w) => {
  if (w.__npsSend) return;
  const OUT = 'nps:outbox';
  let mem = {}, busy = {}, timer, warned;
  const get = () => {
    try {
      return JSON.parse(localStorage.getItem(OUT)) || {};
    } catch (e) {
      return mem;
    }
  };
  const put = (o) => {
    mem = o;
    try {
      localStorage.setItem(OUT, JSON.stringify(o));
    } catch (e) {}
  };
  // An entry is [url, body, next attempt (ms), its backoff (ms)]; `done` = delivered or refused.
  const settle = (k, body, done) => {
    busy[k] = 0;
    const o = get(), e = o[k];
    if (e && e[1] == body) done ? delete o[k] : ((e[2] = Date.now() + (e[3] = e[3] || 1e3)), (e[3] = Math.min(e[3] * 2, 6e4)));
    put(o);
    flush();
  };
  const flush = () => {
    clearTimeout(timer);
    const o = get(), now = Date.now();
    let wait = 0;
    for (const k in o) {
      const [url, body, next] = o[k];
      if (busy[k]) continue;
      if (next > now) {
        wait = wait ? Math.min(wait, next - now) : next - now;
        continue;
      }
      busy[k] = 1;
      fetch(url, { method: 'POST', body, keepalive: true })
        .then((r) => {
          const s = r.status;
          if (s == 429 || s > 499) throw s;
          if (s > 299 && !warned) (warned = 1), console.warn('nps: the edge refused an answer (' + s + '); dropped');
          settle(k, body, 1);
        })
        .catch(() => settle(k, body, 0));
    }
    if (wait) timer = setTimeout(flush, wait);
  };
  // `key` is the response/event id: a newer rev replaces an unsent older one.
  w.__npsSend = (url, key, body) => {
    const o = get();
    o[key] = [url, body];
    put(o);
    flush();
  };
  // nps('reset'): pending answers keep their score and comment, not who gave them.
  w.__npsScrub = () => {
    const o = get();
    for (const k in o) {
      try {
        const b = JSON.parse(o[k][1]);
        delete b.user;
        delete b.properties;
        o[k][1] = JSON.stringify(b);
      } catch (e) {}
    }
    put(o);
  };
  // Response and event ids (UUID v4, the edge's idempotency keys) for the widget.
  w.__npsId = () =>
    '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, (c) =>
      (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16)
    );
  w.addEventListener('online', () => {
    const o = get();
    for (const k in o) o[k][2] = 0;
    put(o);
    flush();
  });
  w.addEventListener('pagehide', () => {
    const o = get();
    for (const k in o) busy[k] || (navigator.onLine && navigator.sendBeacon(o[k][0], o[k][1]));
  });
  flush();
})(window);
