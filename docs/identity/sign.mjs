// Signed identity for the NPS survey, on a Node server.
import { createHmac } from "node:crypto";

/** Lowercase hex HMAC-SHA256(secret, userId): the `signature` the edge checks. */
export function identitySignature(secret, userId) {
  return createHmac("sha256", secret).update(userId, "utf8").digest("hex");
}

/** The <script> that tells the survey who the signed-in user is; render it into the page. */
export function identifyScript(userId) {
  const secret = process.env.NPS_IDENTITY_SECRET; // the edge's identity_secret: server only
  if (!secret) throw new Error("NPS_IDENTITY_SECRET is not set");
  const user = { id: userId, signature: identitySignature(secret, userId) };
  // JSON-encoded, and `<` escaped so that no value can end the script element.
  const json = JSON.stringify(user).replace(/</g, "\\u003c");
  return `<script>nps('identify', ${json});</script>`;
}
