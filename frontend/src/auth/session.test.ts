import { describe, expect, it } from "vitest";
import type { TokenPair } from "../api/types";
import { needsRefresh, refreshDelay, sessionFromTokens } from "./session";

const tokens = (access: string, refresh: string, expires_in: number): TokenPair => ({
  access, refresh, expires_in, token_type: "Bearer", refresh_expires_in: 7 * 24 * 3600,
});

describe("session timing", () => {
  it("schedules the refresh a minute before a 15-minute token expires", () => {
    const session = sessionFromTokens(tokens("a", "r", 900), null, 1_000_000);
    expect(session.expiresAt).toBe(1_000_000 + 900_000);
    expect(refreshDelay(session, 1_000_000)).toBe(840_000);
    expect(needsRefresh(session, 1_000_000 + 839_999)).toBe(false);
    expect(needsRefresh(session, 1_000_000 + 840_000)).toBe(true);
  });

  it("uses a fifth of the lifetime as margin for short-lived tokens", () => {
    const session = sessionFromTokens(tokens("a", "r", 60), null, 0);
    expect(refreshDelay(session, 0)).toBe(48_000);
  });

  it("takes the rotated refresh token and keeps the user", () => {
    const previous = sessionFromTokens(tokens("a", "old", 900), null, 0);
    const user = { id: "u-1", email: "a@b.c", name: "A", role: "customer" };
    const next = sessionFromTokens(tokens("b", "new", 900), { ...previous, user }, 10);
    expect(next.refresh).toBe("new");
    expect(next.user).toEqual(user);
  });
});
