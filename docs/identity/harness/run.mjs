// Test harness of docs/identity/sign.mjs (scripts/test-identity-snippets.sh): reads one user id per
// line (a JSON string) and prints, per id, {"signature", "script"} as one line of JSON.
import { createInterface } from "node:readline";
import { identifyScript, identitySignature } from "../sign.mjs";

const secret = process.env.NPS_IDENTITY_SECRET;
for await (const line of createInterface({ input: process.stdin })) {
  const id = JSON.parse(line);
  console.log(JSON.stringify({ signature: identitySignature(secret, id), script: identifyScript(id) }));
}
