// "My orders" and the order page: live status by polling until the order settles, and its status history.
import { useState } from "react";
import { Link, useLocation, useParams, useSearchParams } from "react-router";
import { api, ApiError, query } from "../api/client";
import { SETTLED_STATUSES, type Order, type OrderStatus, type Page } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { dateTime, money, statusLabel } from "../components/format";
import { Pagination } from "../components/Pagination";
import { Empty, ErrorMessage, Loading, Notice } from "../components/Status";
import { StatusBadge } from "../components/StatusBadge";
import { OrderTimeline } from "../components/Timeline";
import { useRequest } from "../hooks/useRequest";

/** How often to ask for news: quickly while the saga runs, slowly while waiting for shipping. */
export const POLL_INTERVALS = { pending: 1500, active: 5000 };
const ORDERS_PAGE_SIZE = 20;

export function pollDelay(status: OrderStatus | undefined): number | null {
  if (!status) return POLL_INTERVALS.pending;
  if (SETTLED_STATUSES.includes(status)) return null;
  return status === "pending" ? POLL_INTERVALS.pending : POLL_INTERVALS.active;
}

export function MyOrders() {
  const [params, setParams] = useSearchParams();
  const page = Math.max(1, Number(params.get("page")) || 1);
  const orders = useRequest(
    (signal) => api.get<Page<Order>>(`/api/v1/orders/${query({ page, page_size: ORDERS_PAGE_SIZE })}`, { signal }),
    [page],
    {
      poll: (data) =>
        data?.results.some((order) => order.status === "pending") ? POLL_INTERVALS.pending : POLL_INTERVALS.active * 2,
    },
  );

  return (
    <section aria-labelledby="orders-title">
      <h1 id="orders-title">My orders</h1>
      {orders.loading && <Loading label="Loading your orders…" />}
      {orders.error && <ErrorMessage error={orders.error} onRetry={orders.reload} title="Orders could not be loaded." />}
      {orders.data &&
        (orders.data.results.length === 0 ? (
          <Empty>
            You have no orders yet. <Link to="/">Start shopping</Link>
          </Empty>
        ) : (
          <>
            <ul className="order-list" aria-live="polite">
              {orders.data.results.map((order) => (
                <li key={order.id} className="card order-row">
                  <Link to={`/orders/${order.id}`}>Order {String(order.id).slice(0, 8)}</Link>
                  <span className="muted">{dateTime(order.created_at)}</span>
                  <span>{money(order.total, order.currency)}</span>
                  <StatusBadge status={order.status} />
                </li>
              ))}
            </ul>
            <Pagination page={page} pageSize={ORDERS_PAGE_SIZE} count={orders.data.count} onPage={(p) => setParams({ page: String(p) })} />
          </>
        ))}
    </section>
  );
}

/** Ship, deliver (staff) and cancel buttons for one order; `compact` for table rows, where labels name the order. */
export function OrderActions({ order, onChanged, compact = false }: { order: Order; onChanged: (order: Order) => void; compact?: boolean }) {
  const { isStaff } = useAuth();
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  const act = async (action: "cancel" | "ship" | "deliver") => {
    if (action === "cancel" && !window.confirm("Cancel this order?")) return;
    setBusy(action);
    setError(null);
    try {
      // each action answers with the whole order (its OpenAPI response is OrderOutput)
      onChanged(await api.post<Order>(`/api/v1/orders/${order.id}/${action}`));
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(-1, (caught as Error).message));
    } finally {
      setBusy(null);
    }
  };

  const canCancel = order.status === "pending" || order.status === "confirmed";
  const which = compact ? ` order ${String(order.id).slice(0, 8)}` : "";
  const size = compact ? " small" : "";
  return (
    <div className={`actions${compact ? " compact" : ""}`}>
      {isStaff && order.status === "confirmed" && (
        <button type="button" className={size.trim() || undefined} aria-label={compact ? `Ship${which}` : undefined} onClick={() => act("ship")} disabled={!!busy}>
          {busy === "ship" ? "Shipping…" : "Ship"}
        </button>
      )}
      {isStaff && order.status === "shipped" && (
        <button type="button" className={size.trim() || undefined} aria-label={compact ? `Mark delivered${which}` : undefined} onClick={() => act("deliver")} disabled={!!busy}>
          {busy === "deliver" ? "Marking delivered…" : compact ? "Delivered" : "Mark delivered"}
        </button>
      )}
      {canCancel && (
        <button type="button" className={`danger${size}`} aria-label={compact ? `Cancel${which}` : undefined} onClick={() => act("cancel")} disabled={!!busy}>
          {busy === "cancel" ? "Cancelling…" : compact ? "Cancel" : "Cancel order"}
        </button>
      )}
      {error && <ErrorMessage error={error} />}
    </div>
  );
}

export function OrderDetail() {
  const { id = "" } = useParams();
  const location = useLocation();
  const placed = (location.state as { placed?: boolean } | null)?.placed;
  const [override, setOverride] = useState<Order | null>(null);
  const order = useRequest(
    async (signal) => {
      const fresh = await api.get<Order>(`/api/v1/orders/${encodeURIComponent(id)}/`, { signal });
      setOverride(null);
      return fresh;
    },
    [id],
    { poll: (data) => pollDelay(data?.status) },
  );

  if (order.loading && !order.data) return <Loading label="Loading the order…" />;
  const current = override ?? order.data;
  if (!current) {
    return (
      <>
        <ErrorMessage error={order.error ?? new Error("Order not found.")} onRetry={order.reload} />
        <p>
          <Link to="/orders">Back to my orders</Link>
        </p>
      </>
    );
  }
  const history = [...(current.history ?? [])].sort((a, b) => a.at.localeCompare(b.at));

  return (
    <article aria-labelledby="order-title" className="order-detail">
      <p>
        <Link to="/orders">‹ My orders</Link>
      </p>
      <h1 id="order-title">Order {String(current.id).slice(0, 8)}</h1>
      {placed && current.status === "pending" && (
        <Notice>Thank you! Your order was placed; we are reserving the stock now.</Notice>
      )}
      {order.error && (
        <ErrorMessage error={order.error} title="Live updates paused:" onRetry={order.reload} />
      )}
      <p className="order-status" aria-live="polite" aria-atomic="true">
        Status: <StatusBadge status={current.status} />
        {current.status === "pending" && <span className="muted"> waiting for stock reservation…</span>}
      </p>
      <OrderActions order={current} onChanged={setOverride} />
      <div className="order-layout">
        <section aria-labelledby="items-title">
          <h2 id="items-title">Items</h2>
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Product</th>
                  <th scope="col">Quantity</th>
                  <th scope="col">Unit price</th>
                  <th scope="col">Total</th>
                </tr>
              </thead>
              <tbody>
                {current.items.map((item, index) => (
                  <tr key={`${item.product_id}-${index}`}>
                    <td>{item.name ?? item.sku ?? item.product_id}</td>
                    <td>{item.quantity}</td>
                    <td>{item.unit_price ? money(item.unit_price, current.currency) : "—"}</td>
                    <td>{item.line_total ? money(item.line_total, current.currency) : "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p className="total">
            Total: <strong>{money(current.total, current.currency)}</strong>
          </p>
          {current.shipping_address && (
            <>
              <h2>Shipping address</h2>
              <address>
                {current.shipping_address.name}
                <br />
                {current.shipping_address.line1}
                {current.shipping_address.line2 && (
                  <>
                    <br />
                    {current.shipping_address.line2}
                  </>
                )}
                <br />
                {current.shipping_address.postal_code} {current.shipping_address.city}
                <br />
                {current.shipping_address.country}
              </address>
            </>
          )}
        </section>
        <section aria-labelledby="history-title">
          <h2 id="history-title">Status history</h2>
          {history.length === 0 ? (
            <Empty>No history yet.</Empty>
          ) : (
            <ol className="history" aria-labelledby="history-title">
              {history.map((entry, index) => (
                <li key={`${entry.status}-${index}`}>
                  <strong>{statusLabel(entry.status)}</strong> <time dateTime={entry.at}>{dateTime(entry.at)}</time>
                  {entry.reason && <div className="muted">{entry.reason}</div>}
                </li>
              ))}
            </ol>
          )}
        </section>
      </div>
      <OrderTimeline
        orderId={String(current.id)}
        version={current.status}
        settled={SETTLED_STATUSES.includes(current.status)}
        pollMs={POLL_INTERVALS.active}
      />
    </article>
  );
}
