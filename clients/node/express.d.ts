import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Limiter, Rule, Int } from './index.js';

type Awaitable<T> = T | Promise<T>;

export interface RateLimitOptions<Req extends IncomingMessage = IncomingMessage> {
  limiter: Limiter;
  /** A rule, or a function of the request that returns one (per tier, per route). */
  rule: Rule | ((req: Req) => Awaitable<Rule>);
  /** The limiter's key; undefined or null exempts the request (default: req.ip). */
  key?: (req: Req) => Awaitable<string | undefined | null>;
  /** Units per request (default 1). */
  cost?: Int | ((req: Req) => Awaitable<Int>);
  /** Redis unreachable or slower than `timeout`: let the request through and log it (true), or answer 503 (false, the default). */
  failOpen?: boolean;
  /** ms after which the limiter counts as unreachable (default 1000). */
  timeout?: number;
  /** The longest leaky delay awaited, in ms (default 10000); past it, 429. */
  maxDelay?: number;
  /** Also send X-RateLimit-Limit, -Remaining, -Reset. */
  legacyHeaders?: boolean;
  /** Called with the error when the limiter failed (default: a console warning). */
  onError?: (error: Error, req: Req) => void;
}

/** The middleware: headers on every response, 429/413 with problem details, leaky delays awaited. */
export function rateLimit<Req extends IncomingMessage = any>(
  options: RateLimitOptions<Req>,
): (req: Req, res: ServerResponse, next: (error?: unknown) => void) => Promise<void>;

/** The limiter did not answer within `timeout`. */
export class LimiterTimeout extends Error {}
