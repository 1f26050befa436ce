// The graphql-http audit (GraphQL over HTTP spec) against a running BFF.
// Usage: node .ci/http-audit.mjs http://127.0.0.1:PORT/graphql
// Prints every audit and the counts; exits 1 unless every MUST and SHOULD audit is ok
// (MAY audits that fail are "notice" and only reported).
import { readFileSync } from 'node:fs';
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node http-audit.mjs <graphql url>');
  process.exit(2);
}
const { version } = JSON.parse(
  readFileSync(new URL('./node_modules/graphql-http/package.json', import.meta.url)),
);

const results = await auditServer({ url });
const counts = { ok: 0, warn: 0, error: 0, notice: 0 };
for (const result of results) {
  counts[result.status] += 1;
  const line = `${result.status.padEnd(6)} ${result.id} ${result.name}`;
  if (result.status === 'ok') {
    console.log(line);
  } else {
    const body = result.response ? await result.response.text().catch(() => '') : '';
    const status = result.response ? result.response.status : '-';
    console.log(`${line}\n       ${result.reason} (got ${status}: ${body.slice(0, 200)})`);
  }
}
console.log(
  `\ngraphql-http ${version} audit: ${counts.ok} ok, ${counts.warn} warn, ` +
    `${counts.error} error, ${counts.notice} notice (of ${results.length})`,
);
process.exit(counts.warn + counts.error === 0 ? 0 : 1);
