// urql (@urql/core) in its default configuration (the document cache and fetch; Accept asking for
// application/graphql-response+json first), then sending queries as GET (preferGetMethod
// 'within-url-limit', as urql's bindings are often configured), then with its persisted-queries exchange.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Client, cacheExchange, fetchExchange } from '@urql/core';
import { persistedExchange } from '@urql/exchange-persisted';
import { API_URL, memberFlow, operation, recordingFetch } from '../support/flow.mjs';

function urqlClient(exchanges, options = {}) {
  const recorder = recordingFetch();
  let token = null;
  const client = new Client({ url: API_URL, exchanges, fetch: recorder.fetch, ...options,
    fetchOptions: () => (token ? { headers: { authorization: `Bearer ${token}` } } : {}) });
  const unwrap = (result) => {
    if (result.error) throw result.error;
    return result.data;
  };
  return {
    recorder,
    query: async (name, variables = {}) => unwrap(await client.query(operation(name), variables).toPromise()),
    mutate: async (name, variables = {}) => unwrap(await client.mutation(operation(name), variables).toPromise()),
    signIn: (accessToken) => { token = accessToken; },
    raw: client,
  };
}

test('urql, default configuration: the member flow', async () => {
  const client = urqlClient([cacheExchange, fetchExchange]);
  await memberFlow(client, 'urql');
  assert.ok(client.recorder.sent.every((request) => request.status === 200), JSON.stringify(client.recorder.sent));
});

test('urql sending queries as GET (preferGetMethod within-url-limit): the member flow', async () => {
  const client = urqlClient([cacheExchange, fetchExchange], { preferGetMethod: 'within-url-limit' });
  await memberFlow(client, 'urql-get');
  const methods = new Set(client.recorder.sent.map((request) => request.method));
  assert.deepEqual([...methods].sort(), ['GET', 'POST']);  // queries GET, mutations POST
  assert.ok(client.recorder.sent.every((request) => request.status === 200), JSON.stringify(client.recorder.sent));
});

test('urql: a refused token is an error the app can act on (its code, HTTP 401)', async () => {
  const client = urqlClient([cacheExchange, fetchExchange]);
  client.signIn('not-a-token');
  const result = await client.raw.query(operation('MemberHome'), {}).toPromise();
  assert.equal(result.error.graphQLErrors[0].extensions.code, 'TOKEN_INVALID');
  assert.equal(client.recorder.sent[0].status, 401);
});

test('urql with its persisted-queries exchange: hashes first, GET, the query sent once when unknown', async () => {
  const sha256 = async (text) => createHash('sha256').update(text).digest('hex');
  const client = urqlClient([cacheExchange, persistedExchange({ generateHash: sha256, preferGetForPersistedQueries: true }),
                             fetchExchange], { preferGetMethod: 'within-url-limit' });
  await memberFlow(client, 'urql-apq');
  const queries = client.recorder.sent.filter((request) => request.method === 'GET');
  assert.ok(queries.length > 0);
  assert.ok(queries.some((request) => !request.withQuery[0] && request.status === 200),
            'a query answered from its hash alone');
});
