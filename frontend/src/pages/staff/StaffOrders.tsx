// Staff: every customer's orders, filtered by status, with ship, deliver and cancel in each row.
import { useSearchParams, Link } from "react-router";
import { api, query } from "../../api/client";
import type { Order, Page } from "../../api/types";
import { dateTime, money, STATUS_LABELS } from "../../components/format";
import { Pagination } from "../../components/Pagination";
import { Empty, ErrorMessage, Loading } from "../../components/Status";
import { StatusBadge } from "../../components/StatusBadge";
import { useRequest } from "../../hooks/useRequest";
import { OrderActions } from "../orders";

const PAGE_SIZE = 25;
/** Staff watch orders move through the saga; a slow refresh keeps the list current without hammering. */
const REFRESH_MS = 10_000;

export function StaffOrders() {
  const [params, setParams] = useSearchParams();
  const status = params.get("status") ?? "";
  const page = Math.max(1, Number(params.get("page")) || 1);
  const orders = useRequest(
    (signal) => api.get<Page<Order>>(`/api/v1/orders/${query({ status, page, page_size: PAGE_SIZE })}`, { signal }),
    [status, page],
    { poll: () => REFRESH_MS },
  );

  return (
    <section aria-labelledby="staff-orders-title">
      <div className="section-head">
        <h2 id="staff-orders-title">Orders</h2>
        <div className="field inline">
          <label htmlFor="order-status-filter">Status</label>
          <select id="order-status-filter" value={status} onChange={(e) => setParams(e.target.value ? { status: e.target.value } : {})}>
            <option value="">All</option>
            {Object.entries(STATUS_LABELS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
      </div>
      {orders.loading && <Loading label="Loading orders…" />}
      {orders.error && <ErrorMessage error={orders.error} onRetry={orders.reload} title="Orders could not be loaded." />}
      {orders.data &&
        (orders.data.results.length === 0 ? (
          <Empty>No orders{status ? ` with status ${STATUS_LABELS[status as keyof typeof STATUS_LABELS] ?? status}` : ""}.</Empty>
        ) : (
          <>
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Order</th>
                    <th scope="col">Customer</th>
                    <th scope="col">Placed</th>
                    <th scope="col">Total</th>
                    <th scope="col">Status</th>
                    <th scope="col">Actions</th>
                  </tr>
                </thead>
                <tbody>
                  {orders.data.results.map((order) => (
                    <tr key={order.id} data-order-id={order.id}>
                      <td>
                        <Link to={`/orders/${order.id}`}>{String(order.id).slice(0, 8)}</Link>
                      </td>
                      <td>{order.customer_email ?? order.customer_id ?? "—"}</td>
                      <td>{dateTime(order.created_at)}</td>
                      <td>{money(order.total, order.currency)}</td>
                      <td>
                        <StatusBadge status={order.status} />
                      </td>
                      <td>
                        <OrderActions compact order={order} onChanged={() => orders.reload()} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pagination
              page={page}
              pageSize={PAGE_SIZE}
              count={orders.data.count}
              onPage={(p) => setParams({ ...(status ? { status } : {}), page: String(p) })}
            />
          </>
        ))}
    </section>
  );
}
