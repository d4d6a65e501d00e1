/*! nps-send.js: delivery for the NPS survey (Apache-2.0). Loaded by nps.js when the widget shows,
 * or on a page view with answers still waiting in the outbox. One request at a time; an entry
 * leaves the localStorage outbox only once the edge took it (2xx) or refused it for good (4xx but
 * 429). 429, 5xx and network errors are retried with backoff (1 s doubling to 60 s), on `online`,
 * and on the next page view; pagehide hands what is left to sendBeacon when online. */
((w) => {
  if (w.__npsSend) return;
  const OUT = 'nps:outbox';
  let mem = {}, busy, timer, back = 1e3, warned;
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
  const flush = () => {
    const o = get(), k = Object.keys(o)[0];
    if (busy || !k) return;
    const [url, body] = o[k];
    busy = k;
    clearTimeout(timer);
    fetch(url, { method: 'POST', body, keepalive: true })
      .then((r) => {
        const s = r.status;
        if (s == 429 || s > 499) throw s;
        if (s > 299 && !warned) (warned = 1), console.warn('nps: the edge refused an answer (' + s + '); dropped');
        const o = get();
        if (o[k] && o[k][1] == body) delete o[k];
        put(o);
        back = 1e3;
        busy = 0;
        flush();
      })
      .catch(() => {
        busy = 0;
        timer = setTimeout(flush, back);
        back = Math.min(back * 2, 6e4);
      });
  };
  // `key` is the response/event id: a newer rev replaces an unsent older one.
  w.__npsSend = (url, key, body) => {
    const o = get();
    o[key] = [url, body];
    put(o);
    flush();
  };
  // Response and event ids (UUID v4, the edge's idempotency keys) for the widget.
  w.__npsId = () =>
    '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, (c) =>
      (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16)
    );
  w.addEventListener('online', flush);
  w.addEventListener('pagehide', () => {
    const o = get();
    for (const k in o) if (k != busy && navigator.onLine && navigator.sendBeacon(o[k][0], o[k][1])) delete o[k];
    put(o);
  });
  flush();
})(window);
