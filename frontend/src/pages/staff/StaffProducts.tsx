// Staff: all products (inactive too), with search and paging, and the way to add one.
import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { api, query } from "../../api/client";
import type { Page, Product } from "../../api/types";
import { money } from "../../components/format";
import { Pagination } from "../../components/Pagination";
import { Empty, ErrorMessage, Loading } from "../../components/Status";
import { useRequest } from "../../hooks/useRequest";

const PAGE_SIZE = 25;

export function StaffProducts() {
  const [params, setParams] = useSearchParams();
  const search = params.get("search") ?? "";
  const page = Math.max(1, Number(params.get("page")) || 1);
  const [text, setText] = useState(search);
  const products = useRequest(
    (signal) =>
      api.get<Page<Product>>(
        `/api/v1/products/${query({ search, page, page_size: PAGE_SIZE, include_inactive: "true", ordering: "name" })}`,
        { signal },
      ),
    [search, page],
  );

  const onSearch = (event: FormEvent) => {
    event.preventDefault();
    setParams(text.trim() ? { search: text.trim() } : {});
  };

  return (
    <section aria-labelledby="staff-products-title">
      <div className="section-head">
        <h2 id="staff-products-title">Products</h2>
        <Link className="button" to="/staff/products/new">
          New product
        </Link>
      </div>
      <form role="search" className="inline" onSubmit={onSearch}>
        <label htmlFor="staff-product-search" className="sr-only">
          Search products
        </label>
        <input id="staff-product-search" type="search" placeholder="Search name or SKU" value={text} onChange={(e) => setText(e.target.value)} />
        <button type="submit" className="secondary">
          Search
        </button>
      </form>
      {products.loading && <Loading label="Loading products…" />}
      {products.error && <ErrorMessage error={products.error} onRetry={products.reload} title="Products could not be loaded." />}
      {products.data &&
        (products.data.results.length === 0 ? (
          <Empty>No products found.</Empty>
        ) : (
          <>
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">SKU</th>
                    <th scope="col">Category</th>
                    <th scope="col">Price</th>
                    <th scope="col">Available</th>
                    <th scope="col">Status</th>
                  </tr>
                </thead>
                <tbody>
                  {products.data.results.map((product) => (
                    <tr key={product.id}>
                      <td>
                        <Link to={`/staff/products/${product.id}`}>{product.name}</Link>
                      </td>
                      <td>{product.sku}</td>
                      <td>{product.category ?? "—"}</td>
                      <td>{money(product.price, product.currency)}</td>
                      <td>{product.available ?? "—"}</td>
                      <td>{product.active ? <span className="badge status-confirmed">Active</span> : <span className="badge status-cancelled">Inactive</span>}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pagination
              page={page}
              pageSize={PAGE_SIZE}
              count={products.data.count}
              onPage={(p) => setParams({ ...(search ? { search } : {}), page: String(p) })}
            />
          </>
        ))}
    </section>
  );
}
