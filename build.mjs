// Bundles the modeler's (BPMN and DMN) and the dashboard's scripts and copies the style sheets next to it (run by `npm ci`).
import { build } from "esbuild";
import { cpSync, mkdirSync } from "node:fs";

const out = "web/static/build";
mkdirSync(out, { recursive: true });
await build({ entryPoints: ["web/assets/modeler.js"], bundle: true, minify: true, outfile: `${out}/modeler.js`,
  format: "iife", target: "es2019", loader: { ".json": "json" }, logLevel: "warning" });
await build({ entryPoints: ["web/assets/dmn_modeler.js"], bundle: true, minify: true, outfile: `${out}/dmn-modeler.js`,
  format: "iife", target: "es2019", loader: { ".json": "json" }, logLevel: "warning" });
await build({ entryPoints: ["web/assets/dashboard.js"], bundle: true, minify: true, outfile: `${out}/dashboard.js`,
  format: "iife", target: "es2019", logLevel: "warning" });
cpSync("node_modules/@bpmn-io/properties-panel/dist/assets/properties-panel.css", `${out}/properties-panel.css`);
cpSync("node_modules/bpmn-js/dist/assets", `${out}/bpmn-js`, { recursive: true });
cpSync("node_modules/dmn-js/dist/assets", `${out}/dmn-js`, { recursive: true });
console.log("built", out);
