// bench/web: what the UI's first load costs. Reads <dist>/index.html, follows its scripts, module
// preloads and style sheets and every module those import statically (not the dynamic imports of
// the lazy routes), and prints, in bytes:
//   file <path> <raw> <gzip -9> <brotli q11>      one line per file
//   js <gzip> <brotli> <raw>                      the JavaScript's total
//   css <gzip> <brotli> <raw>                     the style sheets' total
import { readFileSync } from "node:fs";
import { join, dirname, posix } from "node:path";
import { brotliCompressSync, gzipSync, constants } from "node:zlib";

const dist = process.argv[2];
const html = readFileSync(join(dist, "index.html"), "utf8");
const queue = [];
for (const match of html.matchAll(/<(script|link)\b[^>]*>/g)) {
  const tag = match[0];
  const src = /\b(?:src|href)="([^"]+)"/.exec(tag)?.[1];
  if (!src || /^[a-z]+:/i.test(src)) continue;
  if (match[1] === "link" && !/\brel="(modulepreload|stylesheet)"/.test(tag)) continue;
  queue.push(src.replace(/^\//, ""));
}
const seen = new Set();
const totals = { js: [0, 0, 0], css: [0, 0, 0] };
while (queue.length > 0) {
  const file = queue.shift();
  if (seen.has(file)) continue;
  seen.add(file);
  const data = readFileSync(join(dist, file));
  const gzip = gzipSync(data, { level: 9 }).length;
  const brotli = brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  console.log(`file ${file} ${data.length} ${gzip} ${brotli}`);
  const kind = file.endsWith(".css") ? "css" : "js";
  totals[kind][0] += gzip;
  totals[kind][1] += brotli;
  totals[kind][2] += data.length;
  if (kind !== "js") continue;
  // Static imports of a minified ES module: `import{a as b}from"./x.js"`, `import"./y.js"`,
  // `export{c}from"./z.js"`; `import("./lazy.js")` is dynamic and left out.
  const code = data.toString("utf8");
  for (const m of code.matchAll(/(?:\bimport|\bexport)\s*(?:[\w*{}\s,$]*?\bfrom\s*)?["'](\.{1,2}\/[^"']+)["']/g)) {
    queue.push(posix.normalize(posix.join(dirname(file), m[1])));
  }
}
console.log(`js ${totals.js.join(" ")}`);
console.log(`css ${totals.css.join(" ")}`);
