// Host-page glue: the command queue works before the loader arrives, so identify can run first.
window.nps = window.nps || function () { (window.nps.q = window.nps.q || []).push(arguments); };

// A real shop fills these from its session and order. The demo invents a customer per browser
// and an order per page view, so every visitor of the demo is a new respondent.
function demoId(prefix) {
  const bytes = new Uint8Array(6);
  crypto.getRandomValues(bytes);
  return prefix + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
let customer = localStorage.getItem("demo-shop-customer");
if (!customer) localStorage.setItem("demo-shop-customer", (customer = demoId("u_")));
const order = demoId("o_");
document.addEventListener("DOMContentLoaded", () => {
  const el = document.getElementById("order-id");
  if (el) el.textContent = order;
});

window.nps("identify", {
  id: customer,
  account: "acme",
  order,
  email: "camille@example.com",
  properties: { plan: "pro", cart_value: "34.00" },
});
