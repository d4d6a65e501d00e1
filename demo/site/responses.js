// Renders what the edge stored and what the webhook receiver got. Text only: every value goes
// through textContent, so a comment like <img onerror=…> stays a string.
function cell(row, text, cls) {
  const td = row.insertCell();
  td.textContent = text == null ? "" : String(text);
  if (cls) td.className = cls;
  return td;
}
function segment(row, seg) {
  const span = document.createElement("span");
  span.className = "seg " + seg;
  span.textContent = seg;
  row.insertCell().append(span);
}
function customer(r) {
  const u = r.user || {};
  return [u.id, u.account, u.order].filter(Boolean).join(" · ");
}
async function refresh() {
  try {
    const [responses, deliveries] = await Promise.all([
      fetch("/api/responses").then((r) => (r.ok ? r.json() : [])),
      fetch("/api/deliveries").then((r) => r.json()),
    ]);
    const tb = document.querySelector("#responses tbody");
    tb.replaceChildren();
    for (const r of responses) {
      const row = tb.insertRow();
      row.dataset.id = r.id;
      cell(row, new Date(r.received_at || r.sent_at || Date.now()).toLocaleString());
      cell(row, r.score);
      segment(row, r.segment);
      cell(row, r.comment, "comment");
      cell(row, customer(r));
      cell(row, r.rev);
    }
    document.getElementById("responses-empty").hidden = responses.length > 0;
    const td = document.querySelector("#deliveries tbody");
    td.replaceChildren();
    for (const d of deliveries) {
      const row = td.insertRow();
      const data = d.payload.data || {};
      cell(row, new Date(d.receivedAt).toLocaleTimeString());
      cell(row, d.webhookId);
      cell(row, data.score);
      segment(row, data.segment);
      cell(row, data.comment, "comment");
      cell(row, d.verified ? "verified ✓" : "INVALID");
    }
  } catch (e) {
    console.warn("refresh failed", e);
  }
}
document.getElementById("reset").addEventListener("click", () => {
  localStorage.removeItem("demo-shop-customer");
  if (window.nps) window.nps("reset");
  // The loader keeps its own state in localStorage; clearing it makes the survey due again.
  Object.keys(localStorage).filter((k) => k.startsWith("nps")).forEach((k) => localStorage.removeItem(k));
  location.href = "/checkout/thanks";
});
refresh();
setInterval(refresh, 2000);
