import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { customer, mockApi, page, renderApp, signIn, staff } from "../../test/helpers";

const statuses = (parked: number) => [
  { service: "identity", ready: true, outbox_pending: 0, outbox_oldest_age_s: 0, queue_depth: null, consumers: null, parked: null },
  { service: "product", ready: true, outbox_pending: 2, outbox_oldest_age_s: 1.25, queue_depth: 3, consumers: 1, parked },
  { service: "order", ready: false, outbox_pending: null, outbox_oldest_age_s: null, queue_depth: null, consumers: null, parked: 0, error: "order unreachable" },
];
const poison = {
  id: "evt-1",
  type: "order.shipped",
  subject: "o-42",
  correlation_id: "req-7",
  error: "Conflict('Order o-42 was shipped but holds no reservation.')",
  attempts: 5,
  parked_at: "2025-01-01T10:00:00Z",
};

describe("Operations page", () => {
  it("shows every service's pipeline and a parked message, and replays it", async () => {
    signIn(staff);
    let parked = [poison];
    const calls = mockApi({
      "GET /api/v1/ops/status/": () => ({ body: statuses(parked.length) }),
      "GET /api/v1/ops/product/parked/": () => ({ body: page(parked) }),
      "GET /api/v1/ops/order/parked/": { body: page([]) },
      "POST /api/v1/ops/product/parked/evt-1/replay": () => {
        parked = [];
        return { status: 202, body: {} };
      },
    });
    const user = userEvent.setup();
    renderApp("/staff/operations");

    const services = await screen.findByRole("table", { name: "Services" });
    const product = within(services).getByRole("row", { name: /product/ });
    expect(within(product).getAllByRole("cell").map((c) => c.textContent)).toEqual(["ready", "2", "1.3", "3", "1", "1"]);
    expect(within(services).getByRole("row", { name: /identity/ })).toHaveTextContent("—");
    expect(within(services).getByRole("row", { name: /order/ })).toHaveTextContent("not ready");

    const table = await screen.findByRole("table", { name: "Parked messages of product" });
    const row = within(table).getByRole("row", { name: /order\.shipped/ });
    expect(row).toHaveTextContent("o-42");
    expect(row).toHaveTextContent("req-7");
    expect(row).toHaveTextContent("holds no reservation");
    await user.click(within(row).getByRole("button", { name: "Replay evt-1" }));

    expect(await screen.findByText("Replayed order.shipped evt-1 (product).")).toBeInTheDocument();
    await waitFor(() => expect(screen.queryByRole("table", { name: "Parked messages of product" })).not.toBeInTheDocument());
    expect(calls.filter((c) => c.method === "POST").map((c) => c.path)).toEqual(["/api/v1/ops/product/parked/evt-1/replay"]);
    expect(screen.queryByRole("heading", { name: "Parked in identity" })).not.toBeInTheDocument(); // it has no queue
  });

  it("discards a parked message only after asking", async () => {
    signIn(staff);
    let parked = [poison];
    const calls = mockApi({
      "GET /api/v1/ops/status/": () => ({ body: statuses(parked.length) }),
      "GET /api/v1/ops/product/parked/": () => ({ body: page(parked) }),
      "GET /api/v1/ops/order/parked/": { body: page([]) },
      "DELETE /api/v1/ops/product/parked/evt-1/": () => {
        parked = [];
        return { status: 204 };
      },
    });
    const confirm = vi.spyOn(window, "confirm").mockReturnValueOnce(false).mockReturnValueOnce(true);
    const user = userEvent.setup();
    renderApp("/staff/operations");
    const discard = await screen.findByRole("button", { name: "Discard evt-1" });
    await user.click(discard);
    expect(calls.some((c) => c.method === "DELETE")).toBe(false);
    await user.click(discard);
    expect(await screen.findByText("Discarded order.shipped evt-1 (product).")).toBeInTheDocument();
    expect(calls.filter((c) => c.method === "DELETE").map((c) => c.path)).toEqual(["/api/v1/ops/product/parked/evt-1/"]);
    expect(confirm).toHaveBeenCalledTimes(2);
  });

  it("says why a replay failed", async () => {
    signIn(staff);
    mockApi({
      "GET /api/v1/ops/status/": { body: statuses(1) },
      "GET /api/v1/ops/product/parked/": { body: page([poison]) },
      "GET /api/v1/ops/order/parked/": { body: page([]) },
      "POST /api/v1/ops/product/parked/evt-1/replay": { status: 404, body: { status: 404, detail: "No parked message with this id." } },
    });
    const user = userEvent.setup();
    renderApp("/staff/operations");
    await user.click(await screen.findByRole("button", { name: "Replay evt-1" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("No parked message with this id.");
  });

  it("is refused to customers, who never ask for the status", async () => {
    signIn(customer);
    const calls = mockApi({});
    renderApp("/staff/operations");
    expect(await screen.findByRole("heading", { name: "Staff only" })).toBeInTheDocument();
    expect(calls.some((c) => c.path.startsWith("/api/v1/ops/"))).toBe(false);
  });
});
