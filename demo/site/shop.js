// Host-page glue: the command queue works before the loader arrives, so identify can run first.
window.nps = window.nps || function () { (window.nps.q = window.nps.q || []).push(arguments); };

// A real shop fills these from its session and order. The demo's server gives each browser a
// customer (a session cookie) and renders it into the page with the identity signature only the
// server can compute (demo/server.mjs); the order is new on every page view.
function demoId(prefix) {
  const bytes = new Uint8Array(6);
  crypto.getRandomValues(bytes);
  return prefix + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
const me = document.querySelector('meta[name="nps-customer"]');
const customer = me.content;
const order = demoId("o_");
document.addEventListener("DOMContentLoaded", () => {
  const el = document.getElementById("order-id");
  if (el) el.textContent = order;
});

window.nps("identify", {
  id: customer,
  signature: me.dataset.signature,
  account: "acme",
  order,
  email: "camille@example.com",
  properties: { plan: "pro", cart_value: "34.00" },
});
