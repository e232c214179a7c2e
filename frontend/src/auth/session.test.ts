import { describe, expect, it } from "vitest";
import { jwtExpiry, needsRefresh, refreshDelay, sessionFromTokens } from "./session";

describe("session timing", () => {
  it("schedules the refresh a minute before a 15-minute token expires", () => {
    const session = sessionFromTokens({ access: "a", refresh: "r", expires_in: 900 }, null, 1_000_000);
    expect(session.expiresAt).toBe(1_000_000 + 900_000);
    expect(refreshDelay(session, 1_000_000)).toBe(840_000);
    expect(needsRefresh(session, 1_000_000 + 839_999)).toBe(false);
    expect(needsRefresh(session, 1_000_000 + 840_000)).toBe(true);
  });

  it("uses a fifth of the lifetime as margin for short-lived tokens", () => {
    const session = sessionFromTokens({ access: "a", refresh: "r", expires_in: 60 }, null, 0);
    expect(refreshDelay(session, 0)).toBe(48_000);
  });

  it("falls back to the JWT's exp claim when expires_in is missing", () => {
    const payload = btoa(JSON.stringify({ exp: 1_000 + 300 })).replace(/=+$/, "");
    const token = `h.${payload}.s`;
    expect(jwtExpiry(token)).toBe(1_300);
    const session = sessionFromTokens({ access: token }, null, 1_000_000);
    expect(session.lifetimeMs).toBe(300_000);
  });

  it("keeps the previous refresh token and user when the refresh answer has none", () => {
    const previous = sessionFromTokens({ access: "a", refresh: "keep", expires_in: 900 }, null, 0);
    const user = { id: 1, email: "a@b.c", name: "A", role: "customer" as const };
    const next = sessionFromTokens({ access: "b", expires_in: 900 }, { ...previous, user }, 10);
    expect(next.refresh).toBe("keep");
    expect(next.user).toEqual(user);
  });
});
