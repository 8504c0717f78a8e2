// graphql-request with its defaults (POST, Accept: application/graphql-response+json, application/json).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphQLClient, ClientError } from 'graphql-request';
import { API_URL, memberFlow, operation } from '../support/flow.mjs';

function requestClient() {
  const client = new GraphQLClient(API_URL);
  return {
    query: (name, variables = {}) => client.request(operation(name), variables),
    mutate: (name, variables = {}) => client.request(operation(name), variables),
    signIn: (token) => client.setHeader('authorization', `Bearer ${token}`),
  };
}

test('graphql-request: the member flow', async () => {
  await memberFlow(requestClient(), 'graphql-request');
});

test('graphql-request: no token, a bad token and an ended session each have their code and a 401', async () => {
  const client = requestClient();
  const refusal = async () => {
    try {
      await client.query('MemberHome');
    } catch (error) {
      assert.ok(error instanceof ClientError, String(error));
      return [error.response.status, error.response.errors[0].extensions.code];
    }
    assert.fail('MemberHome answered without a valid token');
  };
  assert.deepEqual(await refusal(), [401, 'UNAUTHENTICATED']);
  client.signIn('not-a-token');
  assert.deepEqual(await refusal(), [401, 'TOKEN_INVALID']);
  const login = await client.mutate('LoginWithWeChat', { code: `gr-logout-${Date.now()}` });
  client.signIn(login.loginWithWeChat.accessToken);
  await client.mutate('Logout');
  assert.deepEqual(await refusal(), [401, 'TOKEN_INVALID']);
});
