// copy-assets.mjs copies the browser builds of the front-end libraries
// from node_modules into internal/web/static/vendor, where the Go binary
// embeds them. Run after `npm ci` (the Makefile's `assets` target does
// both). Plain Node, no dependencies.
import { copyFileSync, existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dest = join(here, "..", "internal", "web", "static", "vendor");

// Each library's minified browser build and the name it is served under.
const files = [
  ["htmx.org/dist/htmx.min.js", "htmx.min.js"],
  ["echarts/dist/echarts.min.js", "echarts.min.js"],
  // The scan page's QR decoder where the browser has no BarcodeDetector
  // (loaded on demand by static/js/scan.js, cached offline with the page).
  ["jsqr/dist/jsQR.js", "jsQR.js"],
];

mkdirSync(dest, { recursive: true });
let failed = false;
for (const [from, to] of files) {
  const src = join(here, "node_modules", from);
  if (!existsSync(src)) {
    console.error(`copy-assets: ${src} is missing; run "npm ci" in web/ first`);
    failed = true;
    continue;
  }
  copyFileSync(src, join(dest, to));
  console.log(`copy-assets: ${from} -> internal/web/static/vendor/${to} (${statSync(src).size} bytes)`);
}
process.exit(failed ? 1 : 0);
