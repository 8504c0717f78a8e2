// Apollo Client with its normalised cache (InMemoryCache) and its automatic persisted queries link
// (hashes first, hashed queries as GET, the query sent once when the server does not know the hash);
// then BatchHttpLink at its batch size of 10.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import apollo from '@apollo/client/core/core.cjs';
import apq from '@apollo/client/link/persisted-queries/persisted-queries.cjs';
import batch from '@apollo/client/link/batch-http/batch-http.cjs';
import { API_URL, memberFlow, operation, recordingFetch } from '../support/flow.mjs';

const { ApolloClient, ApolloLink, HttpLink, InMemoryCache, from } = apollo;

function apolloClient(transport) {
  const recorder = recordingFetch();
  let token = null;
  const auth = new ApolloLink((op, forward) => {
    op.setContext(({ headers = {} }) => ({ headers: token ? { ...headers, authorization: `Bearer ${token}` } : headers }));
    return forward(op);
  });
  const persisted = apq.createPersistedQueryLink({
    sha256: (text) => createHash('sha256').update(text).digest('hex'), useGETForHashedQueries: true });
  const client = new ApolloClient({ cache: new InMemoryCache(),
    link: from([auth, ...(transport === 'batch' ? [] : [persisted]),
                transport === 'batch' ? new batch.BatchHttpLink({ uri: API_URL, fetch: recorder.fetch, batchMax: 10 })
                                      : new HttpLink({ uri: API_URL, fetch: recorder.fetch })]) });
  return {
    recorder,
    cache: client.cache,
    query: async (name, variables = {}) =>
      (await client.query({ query: operation(name), variables, fetchPolicy: 'network-only' })).data,
    mutate: async (name, variables = {}) => (await client.mutate({ mutation: operation(name), variables })).data,
    signIn: (accessToken) => { token = accessToken; },
    raw: client,
  };
}

test('Apollo Client with APQ: the member flow; the normalised cache shows the check-in', async () => {
  const client = apolloClient('http');
  const { memberId } = await memberFlow(client, 'apollo');
  // CheckIn's payload carries member.checkInStatus: the cached home shows today as checked in.
  const cached = client.cache.readQuery({ query: operation('MemberHome') });
  assert.equal(cached.me.id, memberId);
  assert.equal(cached.me.checkInStatus.checkedInToday, true);
  const hashed = client.recorder.sent.filter((request) => request.method === 'GET');
  assert.ok(hashed.length > 0 && hashed.every((request) => !request.withQuery[0]), 'hashed queries go as GET');
  assert.ok(client.recorder.sent.every((request) => request.status === 200), JSON.stringify(client.recorder.sent));

  await client.query('Tiers');
  const again = apolloClient('http');  // another app: the server has held the hash since the first asked
  const catalog = await again.query('Tiers');
  assert.ok(catalog.tiers.length > 0);
  assert.equal(again.recorder.sent.length, 1);
  assert.equal(again.recorder.sent[0].withQuery[0], false);
});

test('Apollo BatchHttpLink: ten operations in one request', async () => {
  const client = apolloClient('batch');
  const pages = await Promise.all(Array.from({ length: 10 }, (_, index) =>
    client.query('RewardCatalog', { first: index + 1, after: null })));
  pages.forEach((page, index) => assert.ok(page.rewards.edges.length <= index + 1));
  assert.equal(client.recorder.sent.length, 1);
  assert.equal(client.recorder.sent[0].operations, 10);
});
