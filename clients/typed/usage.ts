// What a client team writes with the generated types: it compiles only while the operations and the
// schema agree (a renamed field or a changed scalar breaks it here, not in the app).
import type { CheckInMutation, MemberHomeQuery, PointHistoryQuery, PointHistoryQueryVariables } from '../generated/graphql.js';

export function greeting(home: MemberHomeQuery): string {
  const me = home.me;
  const expiring = me.pointsExpiringSoon ? ` (${me.pointsExpiringSoon.points} expire ${new Date(me.pointsExpiringSoon.expiresAt).toISOString()})` : '';
  return `${me.tier.name} · ${me.pointsBalance} points${expiring}`;
}

export function checkedIn(result: CheckInMutation): boolean {
  return result.checkIn.member?.checkInStatus.checkedInToday ?? false;
}

export function nextPage(page: PointHistoryQuery): PointHistoryQueryVariables | null {
  const history = page.me.pointHistory;
  return history.pageInfo.hasNextPage ? { first: 20, after: history.pageInfo.endCursor ?? null } : null;
}
