import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
const require = createRequire('/work/main/package.json');
import { Parser } from '@asyncapi/parser';
const path = '/work/main/schemas/asyncapi.yaml';
const parser = new Parser();
const r = await parser.parse(readFileSync(path, 'utf8'), { source: process.argv[2] === 'url' ? 'file://' + path : path });
for (const d of r.diagnostics) console.log(d.severity, d.code, d.message, JSON.stringify(d.path));
console.log('doc?', !!r.document);
if (r.document) {
  for (const ch of r.document.channels()) { const m = ch.messages().all()[0]; console.log(ch.id(), ch.address(), m?.payload()?.title()); }
}
