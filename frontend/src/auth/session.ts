// The signed-in session (tokens and user) kept in localStorage, outside React so the API client can use it.
import type { TokenPair, User } from "../api/types";

const STORAGE_KEY = "shop.session";
/** Refresh this long before the access token expires, but never earlier than a fifth of its lifetime. */
const REFRESH_MARGIN_MS = 60_000;

export interface Session {
  access: string;
  refresh?: string;
  /** Epoch milliseconds when the access token stops being accepted. */
  expiresAt: number;
  /** Lifetime of the access token in milliseconds, to scale the refresh margin for short-lived tokens. */
  lifetimeMs: number;
  user?: User;
}

type Listener = (session: Session | null) => void;

let current: Session | null = load();
const listeners = new Set<Listener>();
let refreshing: Promise<Session | null> | null = null;

function load(): Session | null {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as Session;
    return typeof parsed.access === "string" && typeof parsed.expiresAt === "number" ? parsed : null;
  } catch {
    return null;
  }
}

export function getSession(): Session | null {
  return current;
}

export function setSession(session: Session | null): void {
  current = session;
  try {
    if (session) localStorage.setItem(STORAGE_KEY, JSON.stringify(session));
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    // Private browsing may forbid storage; the session then lives until the tab closes.
  }
  listeners.forEach((listener) => listener(session));
}

export function subscribe(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Re-read storage, e.g. after another tab signed in or out. */
export function reloadSession(): void {
  current = load();
  listeners.forEach((listener) => listener(current));
}

export function sessionFromTokens(tokens: TokenPair, previous: Session | null = null, now = Date.now()): Session {
  // identity's token and refresh answers always carry expires_in and a (rotated) refresh token (TokenOutput)
  const lifetimeMs = tokens.expires_in * 1000;
  return {
    access: tokens.access,
    refresh: tokens.refresh,
    expiresAt: now + lifetimeMs,
    lifetimeMs,
    user: previous?.user,
  };
}

/** Milliseconds from now until the access token should be refreshed. */
export function refreshDelay(session: Session, now = Date.now()): number {
  const margin = Math.min(REFRESH_MARGIN_MS, session.lifetimeMs / 5);
  return Math.max(0, session.expiresAt - margin - now);
}

export function needsRefresh(session: Session, now = Date.now()): boolean {
  return refreshDelay(session, now) === 0;
}

/** The Web Lock every tab of the shop takes around a refresh, so one tab refreshes and the others adopt its result. */
export const REFRESH_LOCK = "shop.session.refresh";

/** Run `task` holding the cross-tab refresh lock (Web Locks API); browsers without it run it directly, and the
 * server's grace window for a refresh token used twice at once keeps their tabs signed in anyway. */
function withRefreshLock<T>(task: () => Promise<T>): Promise<T> {
  const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
  return locks ? (locks.request(REFRESH_LOCK, task) as Promise<T>) : task();
}

/**
 * Exchange the refresh token for a new access token, once across every tab. Concurrent callers in this tab share
 * one request; other tabs wait for the lock, then find the session this one stored and adopt it without asking.
 * A 400/401 answer means the refresh token is no longer good: the session ends (resolves null).
 * A network failure keeps the session and rejects, so a later attempt can still succeed.
 */
export function refreshSession(): Promise<Session | null> {
  if (refreshing) return refreshing;
  const session = current;
  if (!session?.refresh) return Promise.resolve(session);
  refreshing = withRefreshLock(async () => {
    // Another tab may have refreshed (or signed out) while this one waited for the lock: storage says.
    const stored = load();
    if (!stored?.refresh) {
      reloadSession();
      return null;
    }
    if (stored.refresh !== session.refresh) {
      reloadSession();
      return current;
    }
    const response = await fetch("/api/v1/auth/token/refresh", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ refresh: session.refresh }),
    });
    if (response.status === 400 || response.status === 401 || response.status === 403) {
      setSession(null);
      return null;
    }
    if (!response.ok) throw new Error(`Token refresh failed with status ${response.status}`);
    const tokens = (await response.json()) as TokenPair;
    const next = sessionFromTokens(tokens, current ?? session);
    setSession(next);
    return next;
  }).finally(() => {
    refreshing = null;
  });
  return refreshing;
}

/**
 * Sign out: forget the session at once (every tab follows through storage), then ask identity to revoke the
 * sign-in's refresh tokens so a copy of them is worth nothing. If identity cannot be reached the browser is still
 * signed out; the refresh token then simply runs out.
 */
export async function signOut(): Promise<void> {
  const refresh = current?.refresh;
  setSession(null);
  if (!refresh) return;
  try {
    await fetch("/api/v1/auth/logout", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ refresh }),
    });
  } catch {
    // Offline: nothing more to do here (see above).
  }
}
