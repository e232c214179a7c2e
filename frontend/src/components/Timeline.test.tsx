import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { customer, mockApi, renderApp, signIn, staff } from "../test/helpers";

const order = {
  id: "o-1",
  status: "cancelled",
  items: [{ product_id: "p-1", name: "Blue mug", quantity: 1, unit_price: "12.50", line_total: "12.50" }],
  total: "12.50",
  currency: "EUR",
  created_at: "2025-01-01T10:00:00Z",
  shipping_address: { name: "Ann", line1: "1 Main St", line2: "", city: "Berlin", postal_code: "10115", country: "DE" },
  history: [
    { status: "pending", at: "2025-01-01T10:00:00Z", reason: "placed" },
    { status: "confirmed", at: "2025-01-01T10:00:01Z", reason: "stock reserved" },
    { status: "cancelled", at: "2025-01-01T10:05:00Z", reason: "cancelled by the customer" },
  ],
};
const timeline = [
  { at: "2025-01-01T10:00:00Z", kind: "status", title: "Order pending", detail: "placed", correlation_id: "req-place" },
  { at: "2025-01-01T10:00:01Z", kind: "status", title: "Order confirmed", detail: "stock reserved", correlation_id: "req-place" },
  { at: "2025-01-01T10:00:03Z", kind: "email", title: "Email sent: order confirmed", detail: "to ann@example.com", correlation_id: "req-place" },
  { at: "2025-01-01T10:05:00Z", kind: "status", title: "Order cancelled", detail: "cancelled by the customer", correlation_id: "req-cancel" },
  { at: "2025-01-01T10:05:02Z", kind: "email", title: "Email failed: order cancelled", detail: "to ann@example.com", correlation_id: "req-cancel" },
];

describe("Order timeline", () => {
  it("lists status changes and emails in order, with their correlation ids", async () => {
    signIn(customer);
    mockApi({ "GET /api/v1/orders/o-1/": { body: order }, "GET /api/v1/orders/o-1/timeline/": { body: timeline } });
    renderApp("/orders/o-1");
    const list = await screen.findByRole("list", { name: "Timeline" });
    const items = await within(list).findAllByRole("listitem");
    expect(items.map((item) => item.querySelector("strong")?.textContent)).toEqual(timeline.map((e) => e.title));
    expect(items.map((item) => item.dataset.kind)).toEqual(["status", "status", "email", "status", "email"]);
    expect(items.map((item) => item.querySelector("code")?.textContent)).toEqual(timeline.map((e) => e.correlation_id));
    expect(items[4]).toHaveTextContent("to ann@example.com");
  });

  it("is shown to staff opening an order from the console", async () => {
    signIn(staff);
    mockApi({ "GET /api/v1/orders/o-1/": { body: order }, "GET /api/v1/orders/o-1/timeline/": { body: timeline.slice(0, 1) } });
    renderApp("/orders/o-1");
    const list = await screen.findByRole("list", { name: "Timeline" });
    expect(within(list).getByText("Order pending")).toBeInTheDocument();
  });

  it("leaves the order readable when the timeline cannot be loaded", async () => {
    signIn(customer);
    mockApi({ "GET /api/v1/orders/o-1/": { body: order }, "GET /api/v1/orders/o-1/timeline/": { status: 503, body: {} } });
    renderApp("/orders/o-1");
    expect(await screen.findByText(/The timeline could not be loaded/)).toBeInTheDocument();
    expect(screen.getByText("Blue mug")).toBeInTheDocument();
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });
});
