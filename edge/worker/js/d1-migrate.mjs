// Applies edge/worker/migrations/NNNN_*.sql to a D1 database in order, each once, recording them
// in `d1_migrations` exactly as `wrangler d1 migrations apply` does on Cloudflare — so a local
// database (the demo's, the tests') upgrades in place like a deployed one.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** Applies the migrations not yet applied (those numbered up to `upTo`); returns their names. */
export async function applyD1Migrations(db, dir, upTo = Infinity) {
  await db
    .prepare("CREATE TABLE IF NOT EXISTS d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)")
    .run();
  const done = new Set((await db.prepare("SELECT name FROM d1_migrations").all()).results.map((r) => r.name));
  const applied = [];
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".sql")).sort()) {
    if (done.has(f) || Number.parseInt(f, 10) > upTo) continue;
    const statements = readFileSync(join(dir, f), "utf8")
      .replace(/--.*$/gm, "")
      .split(";")
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => db.prepare(s));
    statements.push(db.prepare("INSERT INTO d1_migrations (name) VALUES (?)").bind(f));
    await db.batch(statements); // one transaction per file
    applied.push(f);
  }
  return applied;
}
