/**
 * The two limits of a live key (docs/DESIGN.md#account-limit): its own and its owner's account
 * window, asked together in the key check's one Upstash request. A request is admitted only when
 * both admit it, and a refused request leaves no count on either.
 */
import type { Redis } from "@upstash/redis/cloudflare";
import { LIMITER_PREFIX } from "../keys/keyspace";
import { forgetBlock, isBlocked, type LimitAnswer, slidingWindow } from "../limits/sliding-window";
import type { Logger } from "../observability/logger";
import { atCurrentLimit } from "./decision";
import { answeredRate, type RateReport } from "./rate-headers";

export interface LimitSubject {
  keyId: string;
  ownerId: string;
  keyLimit: number;
  accountLimit: number;
}

type Policy = "key" | "account";

export interface PolicyAnswer {
  answer: LimitAnswer;
  /** The limit it was asked (or restated) at. */
  limit: number;
  /** Whether this request was added to the window (and so must be given back if refused). */
  counted: boolean;
}

export type KeyLimits = Record<Policy, PolicyAnswer>;

interface Effects {
  redis: Redis;
  logger: Logger;
  waitUntil: (promise: Promise<unknown>) => void;
}

const PREFIX = { key: LIMITER_PREFIX.key, account: LIMITER_PREFIX.account } as const;
const identifierOf = (s: LimitSubject, policy: Policy) => (policy === "key" ? s.keyId : s.ownerId);
const limitOf = (s: LimitSubject, policy: Policy) => (policy === "key" ? s.keyLimit : s.accountLimit);

/**
 * Starts both asks now (so they share the request with whatever else starts in this tick). A limit
 * this isolate knows is spent refuses at once, and the other is then only read (rate 0), not counted.
 */
export function askLimits(
  redis: Redis,
  s: LimitSubject,
  nowMs: number,
): { spent: boolean; answers: Promise<KeyLimits> } {
  const spent = {
    key: isBlocked(PREFIX.key, s.keyId, nowMs),
    account: isBlocked(PREFIX.account, s.ownerId, nowMs),
  };
  const ask = async (policy: Policy, other: Policy): Promise<PolicyAnswer> => {
    const readOnly = spent[other] && !spent[policy];
    const answer = await slidingWindow(redis, PREFIX[policy], limitOf(s, policy)).limit(
      identifierOf(s, policy),
      {
        rate: readOnly ? 0 : 1,
      },
    );
    if (readOnly) return { answer: { ...answer, success: true }, limit: limitOf(s, policy), counted: false };
    return { answer, limit: limitOf(s, policy), counted: answer.success };
  };
  const answers = Promise.all([ask("key", "account"), ask("account", "key")]).then(([key, account]) => ({
    key,
    account,
  }));
  return { spent: spent.key || spent.account, answers };
}

/**
 * The answers at the limits now in force. After a limit change a block this isolate remembers is
 * forgotten, and a refusal under the old limit is asked again under the new one.
 */
export async function atCurrentLimits(s: LimitSubject, limits: KeyLimits, fx: Effects): Promise<KeyLimits> {
  const restate = async (policy: Policy): Promise<PolicyAnswer> => {
    const asked = limits[policy];
    const current = limitOf(s, policy);
    if (asked.limit === current) return asked;
    forgetBlock(PREFIX[policy], identifierOf(s, policy));
    if (asked.answer.success) {
      const restated = atCurrentLimit(asked.answer, asked.limit, current);
      return { ...asked, answer: { ...asked.answer, ...restated }, limit: current };
    }
    try {
      const again = await slidingWindow(fx.redis, PREFIX[policy], current).limit(identifierOf(s, policy));
      fx.waitUntil(again.pending);
      return { answer: again, limit: current, counted: again.success };
    } catch (error) {
      fx.logger.log("warn", "upstash_unavailable", { error });
      return {
        answer: { ...asked.answer, success: true, remaining: current },
        limit: current,
        counted: false,
      };
    }
  };
  const [key, account] = await Promise.all([restate("key"), restate("account")]);
  return { key, account };
}

/** Which limit refused the request, or null when both admitted it. */
export function refusedBy(limits: KeyLimits): Policy | null {
  if (!limits.key.answer.success) return "key";
  return limits.account.answer.success ? null : "account";
}

/** The request was refused after all: every window that counted it gives the count back. */
export function giveBack(s: LimitSubject, limits: KeyLimits, fx: Effects): void {
  for (const policy of ["key", "account"] as const) {
    if (!limits[policy].counted) continue;
    const identifier = identifierOf(s, policy);
    fx.waitUntil(
      slidingWindow(fx.redis, PREFIX[policy], limits[policy].limit)
        .limit(identifier, { rate: -1 })
        .then((refund) => refund.pending)
        .catch((error) => fx.logger.log("warn", "limit_refund_failed", { policy, identifier, error })),
    );
  }
}

/** Both policies, for the headers: the key's first. */
export function limitsReport(limits: KeyLimits, nowMs: number): RateReport {
  return [
    answeredRate("key", limits.key.limit, limits.key.answer, nowMs),
    answeredRate("account", limits.account.limit, limits.account.answer, nowMs),
  ];
}
