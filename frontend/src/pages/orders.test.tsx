import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { customer, mockApi, page, renderApp, signIn, staff } from "../test/helpers";
import { POLL_INTERVALS, pollDelay } from "./orders";

const base = {
  id: "o-1",
  items: [{ product_id: "p-1", name: "Blue mug", quantity: 2, unit_price: "12.50", line_total: "25.00" }],
  total: "25.00",
  currency: "EUR",
  created_at: "2025-01-01T10:00:00Z",
  shipping_address: { name: "Ann", line1: "1 Main St", line2: "", city: "Berlin", postal_code: "10115", country: "DE" },
};
const pending = { ...base, status: "pending", history: [{ status: "pending", at: "2025-01-01T10:00:00Z", reason: null }] };
const confirmed = {
  ...base,
  status: "confirmed",
  history: [...pending.history, { status: "confirmed", at: "2025-01-01T10:00:02Z", reason: "stock reserved" }],
};

afterEach(() => {
  vi.useRealTimers();
});

describe("pollDelay", () => {
  it("polls fast while pending, slowly while active, and stops once settled", () => {
    expect(pollDelay("pending")).toBe(POLL_INTERVALS.pending);
    expect(pollDelay("confirmed")).toBe(POLL_INTERVALS.active);
    expect(pollDelay("shipped")).toBe(POLL_INTERVALS.active);
    expect(pollDelay("delivered")).toBeNull();
    expect(pollDelay("rejected")).toBeNull();
    expect(pollDelay("cancelled")).toBeNull();
  });
});

describe("Order page", () => {
  it("updates the status live from pending to confirmed and shows the history", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    signIn(customer);
    let current: object = pending;
    mockApi({ "GET /api/v1/orders/o-1/": () => ({ body: current }) });
    renderApp("/orders/o-1");
    const status = await screen.findByText("Status:");
    expect(within(status).getByText("Pending")).toBeInTheDocument();
    current = confirmed;
    await act(async () => {
      await vi.advanceTimersByTimeAsync(POLL_INTERVALS.pending + 10);
    });
    await waitFor(() => expect(within(screen.getByText("Status:")).getByText("Confirmed")).toBeInTheDocument());
    const history = within(screen.getByRole("list", { name: "Status history" })).getAllByRole("listitem");
    expect(history.map((item) => item.querySelector("strong")?.textContent)).toEqual(["Pending", "Confirmed"]);
    expect(history[1]).toHaveTextContent("stock reserved");
    expect(screen.getByText("€25.00", { selector: "strong" })).toBeInTheDocument();
  });

  it("keeps showing the order with a notice when a poll fails", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    signIn(customer);
    let down = false;
    mockApi({ "GET /api/v1/orders/o-1/": () => (down ? { status: 503, body: {} } : { body: pending }) });
    renderApp("/orders/o-1");
    await screen.findByText("Status:");
    down = true;
    await act(async () => {
      await vi.advanceTimersByTimeAsync(POLL_INTERVALS.pending + 10);
    });
    expect(await screen.findByRole("alert")).toHaveTextContent("Live updates paused");
    expect(screen.getByRole("heading", { name: "Order o-1" })).toBeInTheDocument();
  });

  it("lets the customer cancel a confirmed order", async () => {
    signIn(customer);
    vi.spyOn(window, "confirm").mockReturnValue(true);
    const cancelled = { ...confirmed, status: "cancelled" };
    const calls = mockApi({
      "GET /api/v1/orders/o-1/": () => ({ body: calls.some((c) => c.method === "POST") ? cancelled : confirmed }),
      "POST /api/v1/orders/o-1/cancel": { body: cancelled },
    });
    const user = userEvent.setup();
    renderApp("/orders/o-1");
    expect(screen.queryByRole("button", { name: "Ship" })).not.toBeInTheDocument();
    await user.click(await screen.findByRole("button", { name: "Cancel order" }));
    await waitFor(() => expect(within(screen.getByText("Status:")).getByText("Cancelled")).toBeInTheDocument());
  });

  it("shows the conflict when an order can no longer be cancelled", async () => {
    signIn(customer);
    vi.spyOn(window, "confirm").mockReturnValue(true);
    mockApi({
      "GET /api/v1/orders/o-1/": { body: confirmed },
      "POST /api/v1/orders/o-1/cancel": { status: 409, body: { status: 409, title: "Conflict", detail: "The order has already shipped." } },
    });
    const user = userEvent.setup();
    renderApp("/orders/o-1");
    await user.click(await screen.findByRole("button", { name: "Cancel order" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("The order has already shipped.");
  });
});

describe("My orders", () => {
  it("lists the customer's orders with their status", async () => {
    signIn(customer);
    mockApi({ "GET /api/v1/orders/": { body: page([confirmed, { ...pending, id: "o-2" }]) } });
    renderApp("/orders");
    expect(await screen.findByRole("link", { name: "Order o-1" })).toBeInTheDocument();
    expect(screen.getByText("Confirmed")).toBeInTheDocument();
    expect(screen.getByText("Pending")).toBeInTheDocument();
  });

  it("shows staff the ship button on confirmed orders", async () => {
    signIn(staff);
    mockApi({ "GET /api/v1/orders/o-1/": { body: confirmed } });
    renderApp("/orders/o-1");
    expect(await screen.findByRole("button", { name: "Ship" })).toBeInTheDocument();
  });
});
