// Builds the browser assets with esbuild, offline, into static_build/ (a STATICFILES_DIRS entry,
// ignored by git):
//   static_build/geo/site.css (+ .map)             the site's styles, loaded by every page (base.html)
//   static_build/geo/map.js, map.css (+ .map)      the public map: OpenLayers, our map code and styles
//   static_build/geo/wizard.js, wizard.css (+ .map) the dossier wizard's parcel-picking map
//   static_build/geo/plan_viewer.js, .css (+ .map) the plan viewer (plans/static_src)
//   static_build/vendor/htmx.min.js                htmx, copied as published
// `npm run build` runs it once; `npm run build -- --watch` rebuilds on every change.
import { copyFile, mkdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import * as esbuild from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const outRoot = join(root, "static_build");
const watch = process.argv.includes("--watch");

/** @type {import("esbuild").BuildOptions} */
const options = {
  absWorkingDir: root,
  entryPoints: {
    site: "geo/static_src/site.css",
    map: "geo/static_src/map.js",
    wizard: "geo/static_src/wizard.js",
    plan_viewer: "plans/static_src/plan_viewer.js",
  },
  outdir: join(outRoot, "geo"),
  bundle: true,
  minify: true,
  sourcemap: true,
  format: "iife",
  // Browsers of the last few years; OpenLayers 10 needs ES2020 anyway.
  target: ["es2020", "chrome100", "firefox100", "safari15"],
  // Images referenced from CSS (none today) would be inlined, never fetched from elsewhere.
  loader: { ".png": "dataurl", ".svg": "dataurl" },
  logLevel: "info",
};

async function copyVendor() {
  const vendor = join(outRoot, "vendor");
  await mkdir(vendor, { recursive: true });
  await copyFile(join(root, "node_modules", "htmx.org", "dist", "htmx.min.js"), join(vendor, "htmx.min.js"));
}

await rm(join(outRoot, "geo"), { recursive: true, force: true });
await copyVendor();
if (watch) {
  const context = await esbuild.context(options);
  await context.watch();
} else {
  await esbuild.build(options);
}
