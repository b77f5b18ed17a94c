// Build the page into one self-contained HTML file (script and style inlined, nothing fetched from elsewhere):
//   node build.mjs [OUT]     (default: ../zksolvency/data/web/verify.html, the copy `zksolvency web` serves)
import { build } from "esbuild";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const out = process.argv[2] ?? here("../zksolvency/data/web/verify.html");

const bundle = await build({
  entryPoints: [here("src/page.js")], bundle: true, minify: true, format: "esm", target: "es2020",
  write: false, legalComments: "none", charset: "utf8",
});
const script = bundle.outputFiles[0].text.replace(/<\/script/gi, "<\\/script");
const style = readFileSync(here("page/style.css"), "utf8").trim();
const html = readFileSync(here("page/index.html"), "utf8")
  .replace("/*STYLE*/", () => style)
  .replace("/*SCRIPT*/", () => script.trim());
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, html);
console.log(`${out}: ${html.length} bytes (script ${script.length})`);
