// One product: description, price, live availability and "add to cart" with a quantity.
import { useState } from "react";
import { Link, useParams } from "react-router";
import { api } from "../api/client";
import type { Product } from "../api/types";
import { MAX_LINE_QUANTITY, useCart } from "../cart/CartContext";
import { money } from "../components/format";
import { ErrorMessage, Loading, Notice } from "../components/Status";
import { useRequest } from "../hooks/useRequest";
import { Availability } from "./Catalog";

export function ProductPage() {
  const { id = "" } = useParams();
  const { add } = useCart();
  const [quantity, setQuantity] = useState("1");
  const [added, setAdded] = useState(false);
  const product = useRequest(
    (signal) => api.get<Product>(`/api/v1/products/${encodeURIComponent(id)}/`, { signal }),
    [id],
  );

  if (product.loading) return <Loading label="Loading product…" />;
  if (product.error || !product.data) {
    return (
      <>
        <ErrorMessage error={product.error ?? new Error("Product not found.")} onRetry={product.reload} />
        <p>
          <Link to="/">Back to the catalog</Link>
        </p>
      </>
    );
  }
  const p = product.data;
  const soldOut = !p.active || (p.available !== undefined && p.available <= 0);
  const max = Math.min(MAX_LINE_QUANTITY, p.available && p.available > 0 ? p.available : MAX_LINE_QUANTITY);

  return (
    <article className="product-page">
      <p>
        <Link to="/">‹ Back to the catalog</Link>
      </p>
      <div className="product-layout">
        {p.image_url ? (
          <img src={p.image_url} alt={p.name} className="product-image large" />
        ) : (
          <div className="product-image large placeholder" aria-hidden="true">
            {p.name.slice(0, 1)}
          </div>
        )}
        <div>
          <h1>{p.name}</h1>
          <p className="muted">SKU {p.sku}</p>
          <p className="price large">{money(p.price, p.currency)}</p>
          <p data-testid="availability">
            {!p.active ? <span className="availability out">No longer sold</span> : <Availability available={p.available} />}
            {p.available !== undefined && p.available > 0 && <span className="muted"> ({p.available} available)</span>}
          </p>
          {p.description && <p className="description">{p.description}</p>}
          <form
            className="inline add-form"
            onSubmit={(event) => {
              event.preventDefault();
              // Typed freely, clamped once on submit: clamping per keystroke fights the user while typing "12".
              const wanted = Math.max(1, Math.min(max, Math.floor(Number(quantity)) || 1));
              setQuantity(String(wanted));
              add(p, wanted);
              setAdded(true);
            }}
          >
            <label htmlFor="product-quantity">Quantity</label>
            <input
              id="product-quantity"
              type="number"
              min={1}
              max={max}
              value={quantity}
              onChange={(event) => setQuantity(event.target.value)}
              className="quantity"
            />
            <button type="submit" disabled={soldOut}>
              Add to cart
            </button>
          </form>
          {added && (
            <Notice kind="success">
              Added to your cart. <Link to="/cart">View cart</Link>
            </Notice>
          )}
        </div>
      </div>
    </article>
  );
}
