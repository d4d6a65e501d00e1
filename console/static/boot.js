// Starts the console (no inline script: the page's CSP allows scripts from this origin only).
import init from "/console/nps_console.js";
init({ module_or_path: "/console/nps_console_bg.wasm" });
