// The cart page: change quantities, remove lines, go to checkout.
import { useEffect, useState } from "react";
import { Link } from "react-router";
import { MAX_LINE_QUANTITY, useCart, type CartLine } from "../cart/CartContext";
import { money } from "../components/format";
import { Empty } from "../components/Status";

/** A quantity box that lets the user type freely and stores only valid quantities. */
function QuantityInput({ line }: { line: CartLine }) {
  const { setQuantity } = useCart();
  const [draft, setDraft] = useState(String(line.quantity));
  useEffect(() => setDraft(String(line.quantity)), [line.quantity]);
  return (
    <>
      <label className="sr-only" htmlFor={`qty-${line.product_id}`}>
        Quantity of {line.name}
      </label>
      <input
        id={`qty-${line.product_id}`}
        className="quantity"
        type="number"
        min={1}
        max={MAX_LINE_QUANTITY}
        value={draft}
        onChange={(event) => {
          setDraft(event.target.value);
          const value = Number(event.target.value);
          if (Number.isInteger(value) && value >= 1) setQuantity(line.product_id, value);
        }}
        onBlur={() => setDraft(String(line.quantity))}
      />
    </>
  );
}

export function Cart() {
  const { lines, total, currency, remove } = useCart();
  return (
    <section aria-labelledby="cart-title">
      <h1 id="cart-title">Your cart</h1>
      {lines.length === 0 ? (
        <Empty>
          Your cart is empty. <Link to="/">Browse the catalog</Link>
        </Empty>
      ) : (
        <>
          <div className="table-wrap">
            <table>
              <caption className="sr-only">Products in your cart</caption>
              <thead>
                <tr>
                  <th scope="col">Product</th>
                  <th scope="col">Price</th>
                  <th scope="col">Quantity</th>
                  <th scope="col">Subtotal</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {lines.map((line) => (
                  <tr key={line.product_id}>
                    <td>
                      <Link to={`/products/${line.product_id}`}>{line.name}</Link>
                    </td>
                    <td>{money(line.price, line.currency)}</td>
                    <td>
                      <QuantityInput line={line} />
                    </td>
                    <td>{money(Number(line.price) * line.quantity, line.currency)}</td>
                    <td>
                      <button type="button" className="link-button" onClick={() => remove(line.product_id)}>
                        Remove<span className="sr-only"> {line.name}</span>
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p className="total">
            Total: <strong data-testid="cart-total">{money(total, currency)}</strong>
          </p>
          <div className="actions">
            <Link className="button" to="/checkout">
              Checkout
            </Link>
            <Link className="button secondary" to="/">
              Continue shopping
            </Link>
          </div>
        </>
      )}
    </section>
  );
}
