// End-to-end against the native edge (axum + SQLite).
import { e2e } from "./flows.mjs";
e2e("native");
