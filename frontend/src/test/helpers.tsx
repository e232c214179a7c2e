// Test helpers: a fake gateway behind `fetch`, a signed-in session, and the app rendered at a URL.
import { render } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { vi } from "vitest";
import { AppRoutes } from "../App";
import type { User } from "../api/types";
import { AuthProvider } from "../auth/AuthContext";
import { setSession } from "../auth/session";
import { CartProvider } from "../cart/CartContext";

export interface Call {
  method: string;
  path: string;
  url: URL;
  body: unknown;
  headers: Record<string, string>;
}

export type Reply = { status?: number; body?: unknown; contentType?: string } | "network-error";
type Route = (call: Call) => Reply | undefined | Promise<Reply | undefined>;

/** Replace fetch with a router over `"METHOD /path"` keys (query string ignored); returns the calls made. */
export function mockApi(routes: Record<string, Reply | Route>) {
  const calls: Call[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input), "http://shop.test");
    const method = (init.method ?? "GET").toUpperCase();
    const headers = { ...(init.headers as Record<string, string>) };
    const call: Call = { method, path: url.pathname, url, body: init.body ? JSON.parse(String(init.body)) : undefined, headers };
    calls.push(call);
    const route = routes[`${method} ${url.pathname}`];
    let reply = typeof route === "function" ? await route(call) : route;
    if (reply === undefined) reply = { status: 404, body: { title: "Not found", status: 404, detail: `No mock for ${method} ${url.pathname}` } };
    if (reply === "network-error") throw new TypeError("Failed to fetch");
    const status = reply.status ?? 200;
    if (status === 204) return new Response(null, { status });
    const contentType = reply.contentType ?? (status >= 400 ? "application/problem+json" : "application/json");
    const text = typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body ?? {});
    return new Response(text, { status, headers: { "Content-Type": contentType } });
  });
  vi.stubGlobal("fetch", fetchMock);
  return calls;
}

export const customer: User = { id: "u-1", email: "ann@example.com", name: "Ann", role: "customer" };
export const staff: User = { id: "u-2", email: "admin@example.com", name: "Admin", role: "staff" };

export function signIn(user: User, { expiresInMs = 15 * 60_000 } = {}) {
  setSession({
    access: `access-${user.id}`,
    refresh: `refresh-${user.id}`,
    expiresAt: Date.now() + expiresInMs,
    lifetimeMs: 15 * 60_000,
    user,
  });
}

export function renderApp(path: string) {
  return render(
    <AuthProvider>
      <CartProvider>
        <MemoryRouter initialEntries={[path]}>
          <AppRoutes />
        </MemoryRouter>
      </CartProvider>
    </AuthProvider>,
  );
}

export function page<T>(results: T[], count = results.length) {
  return { count, next: null, previous: null, results };
}

export const product = (overrides: Record<string, unknown> = {}) => ({
  id: "p-1",
  sku: "MUG-1",
  name: "Blue mug",
  description: "A mug.",
  price: "12.50",
  currency: "EUR",
  category: "kitchen",
  image_url: "",
  active: true,
  available: 7,
  version: 1,
  ...overrides,
});
