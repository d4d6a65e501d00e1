// nps-widget: the NPS survey for sites built with a bundler. A thin typed layer over the same
// loader (`nps.js`) a script tag would load, with the same delivery, glue and wasm behind it:
// `init` adds the loader once, the other calls go through its command queue, `on` listens to its
// DOM events. Safe to import where there is no `window` (server-side rendering): every call is a
// no-op there.

const browser = () => typeof window !== 'undefined' && typeof document !== 'undefined';

/** The loader's command queue (it replays what was queued before it arrived). */
function send(...args) {
  if (!browser()) return;
  const w = window;
  if (typeof w.nps !== 'function') {
    w.nps = function () {
      (w.nps.q = w.nps.q || []).push(arguments);
    };
  }
  w.nps(...args);
}

/** Options that become the loader's `data-*` attributes (camelCase → kebab-case). */
const ATTRS = ['site', 'survey', 'endpoint', 'locale', 'brand', 'mode', 'target', 'position', 'trigger',
  'sample', 'recontactAnswered', 'recontactDismissed', 'theme', 'accent', 'page', 'review'];

/**
 * Adds the loader to the page, once (a second call, e.g. a component mounted again, does
 * nothing). `assets` is where `nps.js` and its files are served: the edge (default) or your own
 * copy of this package's `assets/` directory.
 */
export function init(options) {
  if (!browser() || document.querySelector('script[data-nps-package]')) return;
  const s = document.createElement('script');
  s.async = true;
  s.src = String(options.assets || options.endpoint).replace(/\/+$/, '') + '/nps.js';
  s.setAttribute('data-nps-package', '');
  for (const k of ATTRS) {
    if (options[k] != null) s.dataset[k] = String(options[k]);
  }
  if (options.nonce) s.nonce = options.nonce;
  document.head.appendChild(s);
}

/** The customer's context, sent with every answer and used for suppression. */
export const identify = (user) => send('identify', user);
/** Shows the survey now (a "Give feedback" button). */
export const show = () => send('show');
/** Removes the survey. */
export const hide = () => send('hide');
/** On logout: forgets the customer and this browser's survey dates. */
export const reset = () => send('reset');

/** Listens to `shown`, `answered`, `submitted`, `dismissed` or `error`; returns the unsubscribe. */
export function on(type, listener) {
  if (!browser()) return () => {};
  const f = (e) => listener(e.detail);
  document.addEventListener('nps:' + type, f);
  return () => document.removeEventListener('nps:' + type, f);
}
