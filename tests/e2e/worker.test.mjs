// End-to-end against the Cloudflare worker in local workerd (Miniflare: D1, Durable Object, Queue).
import { e2e } from "./flows.mjs";
e2e("worker");
