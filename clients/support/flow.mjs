// What every client test shares: where the server is, the project's own operations (operations/*.graphql,
// the documents the apps are built from), and the member flow each client runs through its own API.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { parse, Kind, visit } from 'graphql';

export const API_URL = process.env.LOYALTY_API_URL ?? 'http://127.0.0.1:8000/graphql';
export const API_KEY = process.env.LOYALTY_API_KEY;
const OPERATIONS = new URL('../../operations/', import.meta.url);
const DEFINITIONS = readdirSync(OPERATIONS).filter((name) => name.endsWith('.graphql'))
  .flatMap((name) => parse(readFileSync(new URL(name, OPERATIONS), 'utf8')).definitions);

/** One operation of operations/*.graphql as a document of its own, with the fragments it spreads. */
export function operation(name) {
  const found = DEFINITIONS.find((d) => d.kind === Kind.OPERATION_DEFINITION && d.name?.value === name);
  assert.ok(found, `no operation ${name} in operations/`);
  const fragments = new Map();
  const pending = [found];
  while (pending.length) {
    visit(pending.pop(), {
      FragmentSpread(node) {
        const fragment = DEFINITIONS.find((d) => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === node.name.value);
        if (fragment && !fragments.has(fragment.name.value)) { fragments.set(fragment.name.value, fragment); pending.push(fragment); }
      },
    });
  }
  return { kind: Kind.DOCUMENT, definitions: [found, ...fragments.values()] };
}

/** A fetch that remembers what it sent: method, whether the query text went along, the status. */
export function recordingFetch() {
  const sent = [];
  const recording = async (input, init = {}) => {
    const url = new URL(typeof input === 'string' ? input : input.url);
    const method = (init.method ?? 'GET').toUpperCase();
    const body = typeof init.body === 'string' ? JSON.parse(init.body) : null;
    const items = Array.isArray(body) ? body : [body ?? Object.fromEntries(url.searchParams)];
    const response = await fetch(input, init);
    sent.push({ method, operations: items.length, withQuery: items.map((item) => Boolean(item?.query)),
                status: response.status, contentType: response.headers.get('content-type') });
    return response;
  };
  return { fetch: recording, sent };
}

/** The commerce backend records a paid order for the member (integration key), so they have points to spend. */
export async function recordOrder(memberId, externalId, amount) {
  assert.ok(API_KEY, 'LOYALTY_API_KEY is needed to record an order');
  const { print } = await import('graphql');
  const response = await fetch(API_URL, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
    body: JSON.stringify({ query: print(operation('RecordOrder')), variables: { input: {
      memberId, externalId, amount, channel: 'APP', paidAt: new Date().toISOString() } } }),
  });
  const result = await response.json();
  assert.deepEqual(result.errors, undefined);
  assert.deepEqual(result.data.recordOrder.userErrors, []);
  return result.data.recordOrder;
}

const ISO_MILLISECONDS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$/;

/** A DateTime as ECMAScript's Date reads it everywhere (JavaScriptCore included): milliseconds, an offset. */
export function assertDateTime(value) {
  assert.match(value, ISO_MILLISECONDS);
  assert.ok(!Number.isNaN(new Date(value).getTime()), value);
}

/**
 * The member flow of the app, through `client`: `{ query(name, variables), mutate(name, variables),
 * signIn(token) }`, each client's own calls underneath. Returns what the steps saw.
 */
export async function memberFlow(client, label) {
  const code = `${label}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  const login = (await client.mutate('LoginWithWeChat', { code })).loginWithWeChat;
  assert.deepEqual(login.userErrors, []);
  assertDateTime(login.expiresAt);
  client.signIn(login.accessToken);
  const memberId = login.member.id;

  const home = (await client.query('MemberHome')).me;
  assert.equal(home.id, memberId);
  assert.equal(home.checkInStatus.checkedInToday, false);
  const signupPoints = home.pointsBalance;
  assert.ok(signupPoints > 0, 'the sign-up gift');

  const checkIn = (await client.mutate('CheckIn', { idempotencyKey: `${code}-check-in` })).checkIn;
  assert.deepEqual(checkIn.userErrors, []);
  assert.equal(checkIn.member.checkInStatus.checkedInToday, true);
  assert.equal(checkIn.member.pointsBalance, signupPoints + checkIn.checkIn.pointsAwarded);

  const order = await recordOrder(memberId, `${code}-order`, 30_000);
  const balance = order.member.pointsBalance;

  const entries = [];
  let after = null;
  for (let page = 0; page < 10; page += 1) {
    const history = (await client.query('PointHistory', { first: 1, after })).me.pointHistory;
    entries.push(...history.edges.map((edge) => edge.node));
    if (!history.pageInfo.hasNextPage) break;
    after = history.pageInfo.endCursor;
  }
  assert.deepEqual(entries.map((entry) => entry.kind), ['ORDER', 'CHECK_IN', 'SIGNUP']);
  assert.equal(entries[0].balanceAfter, balance);
  entries.forEach((entry) => assertDateTime(entry.occurredAt));

  const catalog = (await client.query('RewardCatalog', { first: 20, after: null })).rewards.edges.map((e) => e.node);
  const tierLevel = (await client.query('MemberHome')).me.tier.level;
  const reward = catalog.filter((r) => r.pointsCost <= balance && r.minTierLevel <= tierLevel && r.stock !== 0)
    .sort((a, b) => a.pointsCost - b.pointsCost)[0];
  assert.ok(reward, 'a reward the member can afford');
  const redeemed = (await client.mutate('RedeemReward', { rewardId: reward.id, idempotencyKey: `${code}-redeem` }))
    .redeemReward;
  assert.deepEqual(redeemed.userErrors, []);
  assert.equal(redeemed.member.pointsBalance, balance - reward.pointsCost);
  assert.equal(redeemed.redemption.pointsSpent, reward.pointsCost);
  return { memberId, code, balance: redeemed.member.pointsBalance, checkIn };
}
