// The graphql-over-http conformance audits of graphql-http (https://github.com/graphql/graphql-http),
// against the running server: every MUST and every SHOULD has to pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverAudits } from 'graphql-http';
import { API_URL } from '../support/flow.mjs';

test('graphql-http server audits: no MUST or SHOULD fails', async () => {
  const results = [];
  for (const audit of serverAudits({ url: API_URL })) {
    results.push({ id: audit.id, name: audit.name, ...(await audit.fn()) });
  }
  const counts = {};
  for (const result of results) counts[result.status] = (counts[result.status] ?? 0) + 1;
  const musts = results.filter((r) => r.name.startsWith('MUST'));
  const shoulds = results.filter((r) => r.name.startsWith('SHOULD'));
  console.log(`graphql-http audits: ${musts.length} MUST (${musts.filter((r) => r.status === 'ok').length} ok), ` +
    `${shoulds.length} SHOULD (${shoulds.filter((r) => r.status === 'ok').length} ok), ` +
    `statuses ${JSON.stringify(counts)}`);
  const failed = results.filter((r) => r.status === 'error' || r.status === 'warn');
  assert.deepEqual(failed.map((r) => `${r.status}: ${r.name}: ${r.reason}`), []);
});
