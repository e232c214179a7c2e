import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { customer, mockApi, renderApp, signIn } from "../test/helpers";

function putInCart() {
  localStorage.setItem(
    "shop.cart",
    JSON.stringify([{ product_id: "p-1", sku: "MUG-1", name: "Blue mug", price: "12.50", currency: "EUR", quantity: 2 }]),
  );
}

async function fillAddress(user: ReturnType<typeof userEvent.setup>) {
  await user.type(screen.getByLabelText(/Address line 1/), "1 Main Street");
  await user.type(screen.getByLabelText(/Postal code/), "XYZ");
  await user.type(screen.getByLabelText(/City/), "Berlin");
  await user.type(screen.getByLabelText(/Country/), "de");
}

const order = { id: "o-1", status: "pending", items: [], total: "25.00", currency: "EUR", created_at: "2025-01-01T10:00:00Z", history: [] };

describe("Checkout", () => {
  it("asks a signed-out visitor to sign in first", async () => {
    putInCart();
    mockApi({});
    renderApp("/checkout");
    expect(await screen.findByRole("heading", { name: "Sign in" })).toBeInTheDocument();
  });

  it("shows the API's field errors next to the fields and focuses the first one", async () => {
    signIn(customer);
    putInCart();
    const calls = mockApi({
      "POST /api/v1/orders/": {
        status: 400,
        body: {
          type: "urn:shop:problem:validation",
          title: "Bad request",
          status: 400,
          detail: "The request has invalid fields.",
          errors: { shipping_address: { postal_code: ["Enter a valid postal code."], country: ["Unknown country."] } },
        },
      },
    });
    const user = userEvent.setup();
    renderApp("/checkout");
    await fillAddress(user);
    await user.click(screen.getByRole("button", { name: "Place order" }));

    const postal = screen.getByLabelText(/Postal code/);
    await waitFor(() => expect(postal).toHaveFocus());
    expect(postal).toHaveAttribute("aria-invalid", "true");
    expect(postal).toHaveAccessibleDescription("Enter a valid postal code.");
    expect(screen.getByLabelText(/Country/)).toHaveAccessibleDescription(/Unknown country\./);
    expect(screen.getByRole("alert")).toHaveTextContent("Please correct the marked fields.");
    expect(calls[0].body).toEqual({
      items: [{ product_id: "p-1", quantity: 2 }],
      shipping_address: { name: "Ann", line1: "1 Main Street", line2: "", city: "Berlin", postal_code: "XYZ", country: "DE" },
    });
    expect(calls[0].headers["Idempotency-Key"]).toBeTruthy();
    expect(JSON.parse(localStorage.getItem("shop.cart")!)).toHaveLength(1);
  });

  it("flags empty required fields without calling the API", async () => {
    signIn(customer);
    putInCart();
    const calls = mockApi({});
    const user = userEvent.setup();
    renderApp("/checkout");
    await user.click(await screen.findByRole("button", { name: "Place order" }));
    await waitFor(() => expect(screen.getByLabelText(/Address line 1/)).toHaveFocus());
    expect(screen.getByLabelText(/City/)).toHaveAttribute("aria-invalid", "true");
    expect(calls).toHaveLength(0);
  });

  it("reuses the idempotency key when the same order is submitted again", async () => {
    signIn(customer);
    putInCart();
    let attempt = 0;
    const calls = mockApi({
      "POST /api/v1/orders/": () => (++attempt === 1 ? "network-error" : { status: 201, body: order }),
      "GET /api/v1/orders/o-1/": { body: order },
    });
    const user = userEvent.setup();
    renderApp("/checkout");
    await fillAddress(user);
    await user.click(screen.getByRole("button", { name: "Place order" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("cannot be reached");
    await user.click(screen.getByRole("button", { name: "Place order" }));
    expect(await screen.findByRole("heading", { name: "Order o-1" })).toBeInTheDocument();
    const posts = calls.filter((c) => c.method === "POST");
    expect(posts).toHaveLength(2);
    expect(posts[0].headers["Idempotency-Key"]).toBe(posts[1].headers["Idempotency-Key"]);
    expect(JSON.parse(localStorage.getItem("shop.cart")!)).toEqual([]);
  });
});
