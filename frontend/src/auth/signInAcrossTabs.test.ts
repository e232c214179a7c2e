// Refreshing once across tabs (a Web Lock around the refresh) and signing out on the server.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { mockApi } from "../test/helpers";
import { REFRESH_LOCK, getSession, setSession, signOut, type Session } from "./session";

type SessionModule = typeof import("./session");

const signedIn: Session = { access: "old-access", refresh: "old-refresh", expiresAt: Date.now() + 1_000, lifetimeMs: 900_000 };

/** A Web Locks API stand-in: one holder per name at a time, the others queue, as in a browser. */
function installLocks() {
  const requested: string[] = [];
  const queues = new Map<string, Promise<unknown>>();
  const request = vi.fn((name: string, callback: (lock: { name: string }) => Promise<unknown>) => {
    requested.push(name);
    const previous = queues.get(name) ?? Promise.resolve();
    const run = previous.then(() => callback({ name }));
    queues.set(name, run.catch(() => undefined));
    return run;
  });
  Object.defineProperty(navigator, "locks", { value: { request }, configurable: true });
  return requested;
}

/** Another tab: a fresh copy of the session module, sharing this window's localStorage (and the lock manager). */
async function openTab(): Promise<SessionModule> {
  vi.resetModules();
  return import("./session");
}

beforeEach(() => {
  setSession(signedIn);
});

afterEach(() => {
  Reflect.deleteProperty(navigator, "locks");
  vi.unstubAllGlobals();
});

describe("refreshing across tabs", () => {
  it("two tabs refreshing at the same moment make one request and end up with the same session", async () => {
    const requested = installLocks();
    const calls = mockApi({
      "POST /api/v1/auth/token/refresh": { body: { access: "new-access", refresh: "new-refresh", expires_in: 900 } },
    });
    const [tabA, tabB] = [await openTab(), await openTab()];

    const [a, b] = await Promise.all([tabA.refreshSession(), tabB.refreshSession()]);

    expect(calls.filter((c) => c.path === "/api/v1/auth/token/refresh")).toHaveLength(1);
    expect(calls[0].body).toEqual({ refresh: "old-refresh" });
    expect(a?.refresh).toBe("new-refresh");
    expect(b?.refresh).toBe("new-refresh");
    expect(tabB.getSession()?.access).toBe("new-access");
    expect(requested).toEqual([REFRESH_LOCK, REFRESH_LOCK]);
  });

  it("a tab that waited while another signed out stays signed out and asks nothing", async () => {
    installLocks();
    const calls = mockApi({});
    const tab = await openTab();
    localStorage.removeItem("shop.session"); // the other tab signed out while this one waited

    expect(await tab.refreshSession()).toBeNull();
    expect(tab.getSession()).toBeNull();
    expect(calls).toHaveLength(0);
  });

  it("without the Web Locks API a tab still refreshes on its own (the server tolerates a twin refresh)", async () => {
    const calls = mockApi({
      "POST /api/v1/auth/token/refresh": { body: { access: "new-access", refresh: "new-refresh", expires_in: 900 } },
    });
    const tab = await openTab();

    expect((await tab.refreshSession())?.refresh).toBe("new-refresh");
    expect(calls).toHaveLength(1);
  });

  it("a refused refresh token ends the session", async () => {
    installLocks();
    mockApi({ "POST /api/v1/auth/token/refresh": { status: 401, body: { status: 401, detail: "revoked" } } });
    const tab = await openTab();

    expect(await tab.refreshSession()).toBeNull();
    expect(localStorage.getItem("shop.session")).toBeNull();
  });
});

describe("signing out", () => {
  it("forgets the session at once and revokes the sign-in on the server", async () => {
    const calls = mockApi({ "POST /api/v1/auth/logout": { status: 204 } });

    await signOut();

    expect(getSession()).toBeNull();
    expect(localStorage.getItem("shop.session")).toBeNull();
    expect(calls.map((c) => [c.method, c.path, c.body])).toEqual([
      ["POST", "/api/v1/auth/logout", { refresh: "old-refresh" }],
    ]);
  });

  it("still signs out here when the server cannot be reached", async () => {
    mockApi({ "POST /api/v1/auth/logout": "network-error" });
    await expect(signOut()).resolves.toBeUndefined();
    expect(getSession()).toBeNull();
  });
});
