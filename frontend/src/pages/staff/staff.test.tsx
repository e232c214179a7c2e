import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { customer, mockApi, page, product, renderApp, signIn, staff } from "../../test/helpers";

const categories = [{ slug: "kitchen", name: "Kitchen" }];

describe("Staff console", () => {
  it("is refused to customers", async () => {
    signIn(customer);
    mockApi({});
    renderApp("/staff/products");
    expect(await screen.findByRole("heading", { name: "Staff only" })).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "Staff console" })).not.toBeInTheDocument();
  });

  it("lists inactive products too, for staff", async () => {
    signIn(staff);
    const calls = mockApi({ "GET /api/v1/products/": { body: page([product(), product({ id: "p-2", name: "Old mug", active: false })]) } });
    renderApp("/staff");
    expect(await screen.findByRole("link", { name: "Old mug" })).toBeInTheDocument();
    expect(screen.getByText("Inactive")).toBeInTheDocument();
    expect(calls[0].url.searchParams.get("include_inactive")).toBe("true");
  });

  it("creates a product and shows the API's field errors", async () => {
    signIn(staff);
    let attempt = 0;
    const calls = mockApi({
      "GET /api/v1/categories/": { body: page(categories) },
      "POST /api/v1/products/": () =>
        ++attempt === 1
          ? { status: 400, body: { status: 400, detail: "The request has invalid fields.", errors: { sku: ["A product with this SKU exists."] } } }
          : { status: 201, body: product({ id: "p-9", sku: "TEA-2", name: "Teapot", price: "30.00" }) },
      "GET /api/v1/products/p-9/": { body: product({ id: "p-9", sku: "TEA-2", name: "Teapot", price: "30.00" }) },
      "GET /api/v1/products/p-9/stock/": { body: { on_hand: 5, reserved: 0, available: 5 } },
    });
    const user = userEvent.setup();
    renderApp("/staff/products/new");
    await user.type(screen.getByLabelText(/^SKU/), "TEA-1");
    await user.type(screen.getByLabelText(/^Name/), "Teapot");
    await user.type(screen.getByLabelText(/^Price/), "30.00");
    await user.selectOptions(await screen.findByLabelText("Category"), "kitchen");
    await user.type(screen.getByLabelText("Initial stock"), "5");
    await user.click(screen.getByRole("button", { name: "Create product" }));
    const sku = screen.getByLabelText(/^SKU/);
    await waitFor(() => expect(sku).toHaveFocus());
    expect(sku).toHaveAccessibleDescription("A product with this SKU exists.");
    await user.clear(sku);
    await user.type(sku, "TEA-2");
    await user.click(screen.getByRole("button", { name: "Create product" }));
    expect(await screen.findByRole("heading", { name: /Teapot/ })).toBeInTheDocument();
    expect(await screen.findByTestId("stock-on-hand")).toHaveTextContent("5");
    const created = calls.filter((c) => c.method === "POST")[1].body;
    expect(created).toEqual({
      sku: "TEA-2",
      name: "Teapot",
      description: "",
      price: "30.00",
      currency: "EUR",
      category: "kitchen",
      image_url: "",
      active: true,
      initial_stock: 5,
    });
  });

  it("edits only the changed fields with the version, and deactivates", async () => {
    signIn(staff);
    const calls = mockApi({
      "GET /api/v1/categories/": { body: page(categories) },
      "GET /api/v1/products/p-1/": { body: product({ version: 3 }) },
      "GET /api/v1/products/p-1/stock/": { body: { on_hand: 7, reserved: 0, available: 7 } },
      "PATCH /api/v1/products/p-1/": (call) => ({ body: product({ ...(call.body as object), version: 4 }) }),
    });
    const user = userEvent.setup();
    renderApp("/staff/products/p-1");
    const price = await screen.findByLabelText(/^Price/);
    await user.clear(price);
    await user.type(price, "14.00");
    await user.click(screen.getByRole("button", { name: "Save changes" }));
    expect(await screen.findByText("Saved.")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Deactivate" }));
    expect(await screen.findByRole("button", { name: "Activate" })).toBeInTheDocument();
    const patches = calls.filter((c) => c.method === "PATCH").map((c) => c.body);
    expect(patches).toEqual([{ price: "14.00", version: 3 }, { active: false, version: 4 }]);
  });

  it("adjusts stock and reports a refused adjustment", async () => {
    signIn(staff);
    let attempt = 0;
    mockApi({
      "GET /api/v1/categories/": { body: [] },
      "GET /api/v1/products/p-1/": { body: product() },
      "GET /api/v1/products/p-1/stock/": { body: { on_hand: 7, reserved: 2, available: 5 } },
      "POST /api/v1/products/p-1/stock/adjustments/": (call) =>
        ++attempt === 1
          ? { status: 201, body: { on_hand: 7 + (call.body as { delta: number }).delta, reserved: 2, available: 15 } }
          : { status: 409, body: { status: 409, title: "Conflict", detail: "On hand would fall below reserved." } },
    });
    const user = userEvent.setup();
    renderApp("/staff/products/p-1");
    expect(await screen.findByTestId("stock-on-hand")).toHaveTextContent("7");
    await user.type(screen.getByLabelText(/^Change/), "10");
    await user.type(screen.getByLabelText(/^Reason/), "delivery");
    await user.click(screen.getByRole("button", { name: "Adjust stock" }));
    expect(await screen.findByText("Stock adjusted by +10.")).toBeInTheDocument();
    expect(screen.getByTestId("stock-on-hand")).toHaveTextContent("17");
    await user.type(screen.getByLabelText(/^Change/), "-20");
    await user.type(screen.getByLabelText(/^Reason/), "stocktake");
    await user.click(screen.getByRole("button", { name: "Adjust stock" }));
    expect(await screen.findByText("On hand would fall below reserved.")).toBeInTheDocument();
    expect(screen.getByTestId("stock-on-hand")).toHaveTextContent("17");
  });

  it("ships a confirmed order from the orders list", async () => {
    signIn(staff);
    const order = { id: "o-1", status: "confirmed", items: [], total: "25.00", currency: "EUR", customer_email: "ann@example.com", created_at: "2025-01-01T10:00:00Z" };
    let shipped = false;
    const calls = mockApi({
      "GET /api/v1/orders/": () => ({ body: page([{ ...order, status: shipped ? "shipped" : "confirmed" }]) }),
      "POST /api/v1/orders/o-1/ship": () => {
        shipped = true;
        return { body: { ...order, status: "shipped" } };
      },
    });
    const user = userEvent.setup();
    renderApp("/staff/orders");
    const row = (await screen.findByText("ann@example.com")).closest("tr")!;
    await user.click(within(row).getByRole("button", { name: "Ship order o-1" }));
    await waitFor(() => expect(within(screen.getByText("ann@example.com").closest("tr")!).getByText("Shipped")).toBeInTheDocument());
    expect(screen.getByRole("button", { name: "Mark delivered order o-1" })).toBeInTheDocument();
    expect(calls.some((c) => c.method === "POST" && c.path === "/api/v1/orders/o-1/ship")).toBe(true);
  });

  it("shows the email log and a message's text", async () => {
    signIn(staff);
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const email = { id: "e-1", to: "ann@example.com", subject: "Your order is confirmed", kind: "order_confirmed", status: "sent", attempts: 1, order_id: "o-1", created_at: "2025-01-01T10:00:00Z", sent_at: "2025-01-01T10:00:01Z" };
    mockApi({
      "GET /api/v1/emails/": { body: page([email]) },
      "GET /api/v1/emails/e-1/": { body: { ...email, body_text: "Hello Ann,\nyour order o-1 is confirmed.", body_html: "<p>Hello</p>" } },
    });
    const user = userEvent.setup();
    renderApp("/staff/emails");
    await user.click(await screen.findByRole("link", { name: "Your order is confirmed" }));
    expect(await screen.findByTestId("email-body")).toHaveTextContent("your order o-1 is confirmed.");
  });
});
