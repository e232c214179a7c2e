import { act, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { getSession } from "../auth/session";
import { customer, mockApi, renderApp } from "../test/helpers";

afterEach(() => {
  vi.useRealTimers();
});

describe("Register and sign in", () => {
  it("registers, signs in and returns to the page that asked", async () => {
    const calls = mockApi({
      "POST /api/v1/auth/register": { status: 201, body: customer },
      "POST /api/v1/auth/token": { body: { access: "acc", refresh: "ref", token_type: "Bearer", expires_in: 900 } },
      "GET /api/v1/auth/me": { body: customer },
      "GET /api/v1/orders/": { body: { count: 0, next: null, previous: null, results: [] } },
    });
    const user = userEvent.setup();
    renderApp("/register?next=/orders");
    await user.type(screen.getByLabelText(/^Name/), "Ann");
    await user.type(screen.getByLabelText(/^Email/), "ann@example.com");
    await user.type(screen.getByLabelText(/^Password/), "correct horse battery");
    await user.keyboard("{Enter}");
    expect(await screen.findByRole("heading", { name: "My orders" })).toBeInTheDocument();
    expect(screen.getByTestId("signed-in-as")).toHaveTextContent("Ann");
    expect(calls[0].body).toEqual({ email: "ann@example.com", password: "correct horse battery", name: "Ann" });
    expect(calls[2].headers.Authorization).toBe("Bearer acc");
    expect(getSession()).toMatchObject({ access: "acc", refresh: "ref", user: customer });
  });

  it("puts 'email taken' and weak-password errors next to their fields", async () => {
    let attempt = 0;
    mockApi({
      "POST /api/v1/auth/register": () =>
        ++attempt === 1
          ? { status: 409, body: { status: 409, title: "Conflict", detail: "This email is already registered." } }
          : { status: 400, body: { status: 400, detail: "The request has invalid fields.", errors: { password: ["This password is too common."] } } },
    });
    const user = userEvent.setup();
    renderApp("/register");
    await user.type(screen.getByLabelText(/^Name/), "Ann");
    await user.type(screen.getByLabelText(/^Email/), "ann@example.com");
    await user.type(screen.getByLabelText(/^Password/), "password");
    await user.click(screen.getByRole("button", { name: "Create account" }));
    const email = screen.getByLabelText(/^Email/);
    await waitFor(() => expect(email).toHaveFocus());
    expect(email).toHaveAccessibleDescription("This email is already registered.");
    await user.click(screen.getByRole("button", { name: "Create account" }));
    const password = screen.getByLabelText(/^Password/);
    await waitFor(() => expect(password).toHaveFocus());
    expect(password).toHaveAccessibleDescription(/This password is too common\./);
    expect(email).not.toHaveAttribute("aria-invalid");
  });

  it("shows a wrong password as a form error", async () => {
    mockApi({ "POST /api/v1/auth/token": { status: 401, body: { status: 401, title: "Not authenticated", detail: "Wrong email or password." } } });
    const user = userEvent.setup();
    renderApp("/login");
    await user.type(screen.getByLabelText(/^Email/), "ann@example.com");
    await user.type(screen.getByLabelText(/^Password/), "nope");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Wrong email or password.");
    await waitFor(() => expect(alert).toHaveFocus());
    expect(getSession()).toBeNull();
  });

  it("refreshes the access token before it expires while the app is open", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const calls = mockApi({
      "POST /api/v1/auth/token": { body: { access: "acc-1", refresh: "ref", expires_in: 120 } },
      "GET /api/v1/auth/me": { body: customer },
      "POST /api/v1/auth/token/refresh": { body: { access: "acc-2", expires_in: 120 } },
      "GET /api/v1/categories/": { body: [] },
      "GET /api/v1/products/": { body: { count: 0, next: null, previous: null, results: [] } },
    });
    const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime });
    renderApp("/login");
    await user.type(screen.getByLabelText(/^Email/), "ann@example.com");
    await user.type(screen.getByLabelText(/^Password/), "secret-password");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    await screen.findByRole("heading", { name: "Catalog" });
    expect(calls.some((c) => c.path === "/api/v1/auth/token/refresh")).toBe(false);
    // 120 s token: the margin is a fifth (24 s), so the refresh is due after 96 s.
    await act(async () => {
      await vi.advanceTimersByTimeAsync(97_000);
    });
    await waitFor(() => expect(getSession()?.access).toBe("acc-2"));
    const refresh = calls.find((c) => c.path === "/api/v1/auth/token/refresh")!;
    expect(refresh.body).toEqual({ refresh: "ref" });
  });
});

describe("A restored session", () => {
  it("loads the account, and offers a retry instead of spinning forever when identity is down", async () => {
    const { setSession } = await import("../auth/session");
    setSession({ access: "acc", refresh: "ref", expiresAt: Date.now() + 900_000, lifetimeMs: 900_000 });
    let down = true;
    mockApi({
      "GET /api/v1/auth/me": () => (down ? { status: 503, body: {} } : { body: customer }),
      "GET /api/v1/orders/": { body: { count: 0, next: null, previous: null, results: [] } },
    });
    const user = userEvent.setup();
    renderApp("/orders");
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Your account could not be loaded.");
    down = false;
    await user.click(screen.getByRole("button", { name: "Retry" }));
    expect(await screen.findByRole("heading", { name: "My orders" })).toBeInTheDocument();
  });
});
