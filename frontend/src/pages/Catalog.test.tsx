import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { mockApi, page, product, renderApp } from "../test/helpers";

const categories = [{ slug: "kitchen", name: "Kitchen" }, { slug: "garden", name: "Garden" }];

describe("Catalog", () => {
  it("lists products with price and availability", async () => {
    mockApi({
      "GET /api/v1/categories/": { body: page(categories) },
      "GET /api/v1/products/": { body: page([product(), product({ id: "p-2", name: "Rake", price: "30.00", available: 0 })]) },
    });
    renderApp("/");
    const cards = await screen.findAllByTestId("product-card");
    expect(cards).toHaveLength(2);
    expect(within(cards[0]).getByText("Blue mug")).toBeInTheDocument();
    expect(within(cards[0]).getByText("€12.50")).toBeInTheDocument();
    expect(within(cards[0]).getByText("In stock")).toBeInTheDocument();
    expect(within(cards[1]).getByText("Out of stock")).toBeInTheDocument();
    expect(within(cards[1]).getByRole("button", { name: "Add Rake to cart" })).toBeDisabled();
  });

  it("sends search, category, sort and page to the API", async () => {
    const calls = mockApi({
      "GET /api/v1/categories/": { body: page(categories) },
      "GET /api/v1/products/": { body: page([product()], 30) },
    });
    const user = userEvent.setup();
    renderApp("/");
    await screen.findByText("Blue mug");
    await user.type(screen.getByLabelText("Search products"), "mug");
    await user.click(screen.getByRole("button", { name: "Search" }));
    await user.selectOptions(await screen.findByLabelText("Category"), "kitchen");
    await user.selectOptions(screen.getByLabelText("Sort by"), "-price");
    await screen.findByText("Page 1 of 3");
    await user.click(screen.getByRole("button", { name: /Next/ }));
    await waitFor(() => {
      const last = calls.filter((c) => c.path === "/api/v1/products/").at(-1)!;
      expect(Object.fromEntries(last.url.searchParams)).toMatchObject({
        search: "mug",
        category: "kitchen",
        ordering: "-price",
        page: "2",
      });
    });
  });

  it("shows an error with a retry button when the product service is down, and recovers", async () => {
    let down = true;
    mockApi({
      "GET /api/v1/categories/": { body: page(categories) },
      "GET /api/v1/products/": () => (down ? { status: 503, body: { status: 503, title: "Service unavailable" } } : { body: page([product()]) }),
    });
    const user = userEvent.setup();
    renderApp("/");
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("temporarily unavailable");
    expect(screen.getByRole("heading", { name: "Catalog" })).toBeInTheDocument();
    down = false;
    await user.click(within(alert).getByRole("button", { name: "Retry" }));
    expect(await screen.findByText("Blue mug")).toBeInTheDocument();
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });

  it("adds a product to the cart kept in localStorage", async () => {
    mockApi({
      "GET /api/v1/categories/": { body: [] },
      "GET /api/v1/products/": { body: page([product()]) },
    });
    const user = userEvent.setup();
    renderApp("/");
    await user.click(await screen.findByRole("button", { name: "Add Blue mug to cart" }));
    await user.click(screen.getByRole("button", { name: "Add Blue mug to cart" }));
    expect(screen.getByRole("link", { name: "Cart, 2 items" })).toBeInTheDocument();
    const stored = JSON.parse(localStorage.getItem("shop.cart")!);
    expect(stored).toEqual([expect.objectContaining({ product_id: "p-1", quantity: 2, price: "12.50" })]);
  });
});

describe("Product page", () => {
  it("shows availability and adds the chosen quantity", async () => {
    mockApi({ "GET /api/v1/products/p-1/": { body: product({ available: 3 }) } });
    const user = userEvent.setup();
    renderApp("/products/p-1");
    expect(await screen.findByRole("heading", { name: "Blue mug" })).toBeInTheDocument();
    expect(screen.getByTestId("availability")).toHaveTextContent("Only 3 left");
    const quantity = screen.getByLabelText("Quantity");
    await user.clear(quantity);
    await user.type(quantity, "2");
    await user.click(screen.getByRole("button", { name: "Add to cart" }));
    expect(await screen.findByText(/Added to your cart/)).toBeInTheDocument();
    expect(JSON.parse(localStorage.getItem("shop.cart")!)[0].quantity).toBe(2);
  });

  it("explains a missing product instead of showing a blank page", async () => {
    mockApi({ "GET /api/v1/products/nope/": { status: 404, body: { status: 404, title: "Not found", detail: "No such product." } } });
    renderApp("/products/nope");
    expect(await screen.findByRole("alert")).toHaveTextContent("No such product.");
    expect(screen.getByRole("link", { name: "Back to the catalog" })).toBeInTheDocument();
  });
});
