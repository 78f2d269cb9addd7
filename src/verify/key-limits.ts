/**
 * The two limits of a live key (docs/DESIGN.md#account-limit): its own (the library's `limit()`) and
 * its owner's account window (asked by the check script), together in the key check's one Upstash
 * request. Under the leased topology both are leases (src/limits/leased-window.ts), still in the
 * check's one regional request. A request is admitted only when both admit it, and a refused
 * request leaves no count on either.
 */
import type { AccountWindowAsk } from "../keys/check-script";
import { LIMITER_PREFIX } from "../keys/keyspace";
import {
  blockEnd,
  blockUntil,
  forgetBlock,
  isBlocked,
  type LimitAnswer,
  WINDOW_SECONDS,
} from "../limits/sliding-window";
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

/** A limiter of one policy at one limit, as the topology builds it (per request). */
export type LimiterFor = (
  prefix: string,
  limit: number,
) => { limit(identifier: string, req?: { rate?: number }): Promise<LimitAnswer> };

interface Effects {
  limiterFor: LimiterFor;
  logger: Logger;
  waitUntil: (promise: Promise<unknown>) => void;
}

const PREFIX = { key: LIMITER_PREFIX.key, account: LIMITER_PREFIX.account } as const;
const WINDOW_MS = WINDOW_SECONDS * 1000;
const windowEndMs = (nowMs: number) => (Math.floor(nowMs / WINDOW_MS) + 1) * WINDOW_MS;
const identifierOf = (s: LimitSubject, policy: Policy) => (policy === "key" ? s.keyId : s.ownerId);
const limitOf = (s: LimitSubject, policy: Policy) => (policy === "key" ? s.keyLimit : s.accountLimit);

/**
 * The account's part of the check script's ask, the answer this isolate already knows, or (leased)
 * the account's own limiter.
 */
export type AccountAsk =
  | { kind: "script"; window: AccountWindowAsk; counted: boolean }
  | { kind: "known"; answer: PolicyAnswer }
  | { kind: "limiter"; answer: Promise<PolicyAnswer> };

export interface LimitsAsk {
  /** A limit this isolate knows is spent: the request is refused whatever Redis says. */
  spent: boolean;
  /** The key's own limit, asked of the library now (so it shares the request). */
  key: Promise<PolicyAnswer>;
  /** What the check script, sent in the same tick, is to do for the account. */
  account: AccountAsk;
}

/**
 * Starts the key's ask now (so it shares the request with the check script, sent in the same tick)
 * and says what the script is to ask of the account window. A limit this isolate knows is spent
 * refuses at once, and the other is then only read, not counted.
 */
export function askLimits(
  limiterFor: LimiterFor,
  s: LimitSubject,
  nowMs: number,
  accountBy: "script" | "limiter",
): LimitsAsk {
  const spent = {
    key: isBlocked(PREFIX.key, s.keyId, nowMs),
    account: isBlocked(PREFIX.account, s.ownerId, nowMs),
  };
  const ask = (policy: Policy, readOnly: boolean): Promise<PolicyAnswer> => {
    const limit = limitOf(s, policy);
    return limiterFor(PREFIX[policy], limit)
      .limit(identifierOf(s, policy), { rate: readOnly ? 0 : 1 })
      .then((answer): PolicyAnswer => {
        if (readOnly) return { answer: { ...answer, success: true }, limit, counted: false };
        return { answer, limit, counted: answer.success };
      });
  };
  const key = ask("key", spent.account && !spent.key);
  const account: AccountAsk =
    accountBy === "limiter"
      ? // A known-spent account is refused by its limiter from this isolate's memory, without Redis.
        { kind: "limiter", answer: ask("account", spent.key && !spent.account) }
      : accountAsk(s, nowMs, spent);
  return { spent: spent.key || spent.account, key, account };
}

function accountAsk(s: LimitSubject, nowMs: number, spent: { key: boolean; account: boolean }): AccountAsk {
  if (spent.account) {
    const reset = blockEnd(PREFIX.account, s.ownerId) ?? windowEndMs(nowMs);
    const answer: LimitAnswer = {
      success: false,
      limit: s.accountLimit,
      remaining: 0,
      reset,
      pending: Promise.resolve(),
    };
    return { kind: "known", answer: { answer, limit: s.accountLimit, counted: false } };
  }
  const window = Math.floor(nowMs / WINDOW_MS);
  const base = `${PREFIX.account}:${s.ownerId}`;
  return {
    kind: "script",
    counted: !spent.key,
    window: {
      currentKey: `${base}:${window}`,
      previousKey: `${base}:${window - 1}`,
      limit: s.accountLimit,
      nowMs,
      windowMs: WINDOW_MS,
      increment: spent.key ? 0 : 1,
    },
  };
}

type SettledAccount = Exclude<AccountAsk, { kind: "limiter" }>;

/** The account's ask once its own limiter (leased) has answered: then it is a known answer. */
export async function settledAccount(account: AccountAsk): Promise<SettledAccount> {
  return account.kind === "limiter" ? { kind: "known", answer: await account.answer } : account;
}

/** Both policies' answers, once the key's limiter and the check script have answered. */
export function limitsAnswered(
  s: LimitSubject,
  account: SettledAccount,
  key: PolicyAnswer,
  accountRemaining: number | null,
): KeyLimits {
  if (account.kind === "known") return { key, account: account.answer };
  const { window, counted } = account;
  const remaining = accountRemaining ?? 0;
  const success = remaining >= 0;
  const reset = windowEndMs(window.nowMs);
  // As the library does: a refusal is remembered until the window ends, so the next ask needs no Redis.
  if (!success) blockUntil(PREFIX.account, s.ownerId, reset);
  const answer: LimitAnswer = {
    success: counted ? success : true,
    limit: window.limit,
    remaining: Math.max(0, remaining),
    reset,
    pending: Promise.resolve(),
  };
  return { key, account: { answer, limit: window.limit, counted: counted && success } };
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
      const again = await fx.limiterFor(PREFIX[policy], current).limit(identifierOf(s, policy));
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
      fx
        .limiterFor(PREFIX[policy], limits[policy].limit)
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
