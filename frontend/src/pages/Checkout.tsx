// Checkout: the shipping address form; places the order with an Idempotency-Key so a retried submit
// never creates a second order, and shows the API's field errors next to the fields.
import { useRef, useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { api, type FieldErrors } from "../api/client";
import type { Address, Order } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { useCart } from "../cart/CartContext";
import { Field, FormError } from "../components/Field";
import { money } from "../components/format";
import { Empty } from "../components/Status";
import { useForm } from "../hooks/useForm";

const ADDRESS_FIELDS: (keyof Address)[] = ["name", "line1", "line2", "city", "postal_code", "country"];
const REQUIRED: (keyof Address)[] = ["name", "line1", "city", "postal_code", "country"];

function newKey(): string {
  return typeof crypto !== "undefined" && "randomUUID" in crypto
    ? crypto.randomUUID()
    : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

export function Checkout() {
  const { user } = useAuth();
  const cart = useCart();
  const navigate = useNavigate();
  const [address, setAddress] = useState<Address>({
    name: user?.name ?? "",
    line1: "",
    line2: "",
    city: "",
    postal_code: "",
    country: "",
  });
  const { formRef, errors, formError, submitting, submit, fail } = useForm(ADDRESS_FIELDS);
  // The same body keeps its key (a retry after a timeout returns the first order); a changed body gets a new one.
  const idempotency = useRef<{ body: string; key: string } | null>(null);

  if (cart.lines.length === 0) {
    return (
      <section>
        <h1>Checkout</h1>
        <Empty>
          Your cart is empty. <Link to="/">Browse the catalog</Link>
        </Empty>
      </section>
    );
  }

  const change = (name: keyof Address) => (event: React.ChangeEvent<HTMLInputElement>) =>
    setAddress((current) => ({ ...current, [name]: event.target.value }));

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const missing: FieldErrors = {};
    for (const name of REQUIRED) if (!address[name].trim()) missing[name] = "This field is required.";
    if (Object.keys(missing).length) {
      fail(missing, "Please correct the marked fields.");
      return;
    }
    const body = {
      items: cart.lines.map((line) => ({ product_id: line.product_id, quantity: line.quantity })),
      shipping_address: { ...address, country: address.country.trim().toUpperCase() },
    };
    const text = JSON.stringify(body);
    if (idempotency.current?.body !== text) idempotency.current = { body: text, key: newKey() };
    const key = idempotency.current.key;
    submit(
      async () => {
        const order = await api.post<Order>("/api/v1/orders/", body, { headers: { "Idempotency-Key": key } });
        cart.clear();
        navigate(`/orders/${order.id}`, { state: { placed: true } });
      },
      {
        mapErrors: (error) => {
          const mapped: FieldErrors = { ...error.fieldsUnder("shipping_address") };
          for (const [path, message] of Object.entries(error.fieldErrors)) {
            const item = /^items\.(\d+)/.exec(path);
            if (item) mapped[cart.lines[Number(item[1])]?.name ?? `Item ${Number(item[1]) + 1}`] = message;
            else if (!path.startsWith("shipping_address.")) mapped[path] = message;
          }
          return mapped;
        },
      },
    );
  };

  return (
    <section aria-labelledby="checkout-title" className="checkout">
      <h1 id="checkout-title">Checkout</h1>
      <div className="checkout-layout">
        <form ref={formRef} onSubmit={onSubmit} noValidate aria-describedby="checkout-note">
          <fieldset>
            <legend>Shipping address</legend>
            <FormError message={formError} />
            <Field idPrefix="address" label="Full name" name="name" required autoComplete="name" value={address.name} onChange={change("name")} error={errors.name} />
            <Field idPrefix="address" label="Address line 1" name="line1" required autoComplete="address-line1" value={address.line1} onChange={change("line1")} error={errors.line1} />
            <Field idPrefix="address" label="Address line 2" name="line2" autoComplete="address-line2" value={address.line2} onChange={change("line2")} error={errors.line2} />
            <div className="field-row">
              <Field idPrefix="address" label="Postal code" name="postal_code" required autoComplete="postal-code" value={address.postal_code} onChange={change("postal_code")} error={errors.postal_code} />
              <Field idPrefix="address" label="City" name="city" required autoComplete="address-level2" value={address.city} onChange={change("city")} error={errors.city} />
            </div>
            <Field
              idPrefix="address"
              label="Country"
              name="country"
              required
              autoComplete="country"
              maxLength={2}
              hint="Two-letter code, e.g. DE, FR, GB"
              value={address.country}
              onChange={change("country")}
              error={errors.country}
            />
          </fieldset>
          <p id="checkout-note" className="muted">
            Your order is confirmed as soon as the stock is reserved; you can follow it under “My orders”.
          </p>
          <button type="submit" disabled={submitting}>
            {submitting ? "Placing order…" : "Place order"}
          </button>
        </form>
        <aside className="card summary" aria-labelledby="summary-title">
          <h2 id="summary-title">Order summary</h2>
          <ul className="plain">
            {cart.lines.map((line) => (
              <li key={line.product_id}>
                {line.quantity} × {line.name} <span className="muted">{money(Number(line.price) * line.quantity, line.currency)}</span>
              </li>
            ))}
          </ul>
          <p className="total">
            Total: <strong>{money(cart.total, cart.currency)}</strong>
          </p>
        </aside>
      </div>
    </section>
  );
}
