import { Parser } from '@asyncapi/parser';
import { readFileSync } from 'node:fs';
const path = '/work/main/schemas/asyncapi.yaml';
const parser = new Parser();
for (const source of [path, 'file://' + path, undefined]) {
  const r = await parser.parse(readFileSync(path, 'utf8'), source ? { source } : {});
  console.log('source', source, r.diagnostics.map(d => `${d.severity} ${d.code} ${d.message.slice(0,200)}`).slice(0,5), r.diagnostics.length);
  if (!r.document) continue;
  const p = r.document.channels().get('distribution.created')?.messages().all()[0]?.payload();
  const j = p?.json();
  const s = JSON.stringify(j);
  console.log(s.slice(0, 1500));
  console.log('refs left', (s.match(/\$ref/g) || []).length);
  const e = r.document.channels().get('create.reply')?.messages().get('error');
  console.log(e?.headers()?.json(), e?.payload()?.title());
  const ev = r.document.channels().get('distribution.created')?.messages().all()[0];
  console.log(Object.keys(ev.headers()?.properties() ?? {}), ev.correlationId()?.location());
  const op = r.document.operations().get('create');
  console.log(op.reply()?.address()?.location(), op.reply()?.channel()?.id(), op.reply()?.messages().all().map(m=>m.id()));
  console.log(r.document.info().extensions().get('x-nats-service')?.value());
  console.log(r.document.channels().get('course.deployed.staging').extensions().get('x-jetstream')?.value());
}
