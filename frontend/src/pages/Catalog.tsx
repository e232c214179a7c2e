// The storefront catalog: search, category filter, price sort and pagination, all kept in the URL.
import { useEffect, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { api, query, resultsOf } from "../api/client";
import type { Category, Page, Product } from "../api/types";
import { useCart } from "../cart/CartContext";
import { money } from "../components/format";
import { Pagination } from "../components/Pagination";
import { Empty, ErrorMessage, Loading } from "../components/Status";
import { useRequest } from "../hooks/useRequest";

export const CATALOG_PAGE_SIZE = 12;

const SORTS = [
  { value: "", label: "Name" }, // the API's default ordering
  { value: "price", label: "Price: low to high" },
  { value: "-price", label: "Price: high to low" },
  { value: "-created_at", label: "Newest" },
];

export function Availability({ available }: { available: number | undefined }) {
  if (available === undefined || available === null) return null;
  if (available <= 0) return <span className="availability out">Out of stock</span>;
  if (available < 5) return <span className="availability low">Only {available} left</span>;
  return <span className="availability in">In stock</span>;
}

export function Catalog() {
  const [params, setParams] = useSearchParams();
  const search = params.get("search") ?? "";
  const category = params.get("category") ?? "";
  const ordering = params.get("ordering") ?? "";
  const page = Math.max(1, Number(params.get("page")) || 1);
  const [searchText, setSearchText] = useState(search);
  const { add } = useCart();
  const [added, setAdded] = useState<string | null>(null);

  useEffect(() => setSearchText(search), [search]);

  const categories = useRequest(
    (signal) => api.get<Page<Category>>(`/api/v1/categories/${query({ page_size: 100 })}`, { signal }),
    [],
  );
  const products = useRequest(
    (signal) =>
      api.get<Page<Product>>(
        `/api/v1/products/${query({ search, category, ordering, page, page_size: CATALOG_PAGE_SIZE })}`,
        { signal },
      ),
    [search, category, ordering, page],
  );

  const update = (changes: Record<string, string>) => {
    const next = new URLSearchParams(params);
    for (const [name, value] of Object.entries(changes)) {
      if (value) next.set(name, value);
      else next.delete(name);
    }
    if (!("page" in changes)) next.delete("page");
    setParams(next);
  };

  const onSearch = (event: FormEvent) => {
    event.preventDefault();
    update({ search: searchText.trim() });
  };

  return (
    <section aria-labelledby="catalog-title">
      <h1 id="catalog-title">Catalog</h1>
      <form className="filters" role="search" onSubmit={onSearch}>
        <div className="field">
          <label htmlFor="catalog-search">Search products</label>
          <div className="inline">
            <input
              id="catalog-search"
              type="search"
              value={searchText}
              onChange={(event) => setSearchText(event.target.value)}
              placeholder="Name, description or SKU"
            />
            <button type="submit">Search</button>
          </div>
        </div>
        <div className="field">
          <label htmlFor="catalog-category">Category</label>
          <select id="catalog-category" value={category} onChange={(event) => update({ category: event.target.value })}>
            <option value="">All categories</option>
            {resultsOf(categories.data).map((c) => (
              <option key={c.slug} value={c.slug}>
                {c.name}
              </option>
            ))}
          </select>
          {categories.error && <small className="field-error">Categories unavailable: {categories.error.message}</small>}
        </div>
        <div className="field">
          <label htmlFor="catalog-sort">Sort by</label>
          <select id="catalog-sort" value={ordering} onChange={(event) => update({ ordering: event.target.value })}>
            {SORTS.map((sort) => (
              <option key={sort.value} value={sort.value}>
                {sort.label}
              </option>
            ))}
          </select>
        </div>
      </form>

      <div aria-live="polite" className="sr-only">
        {added ? `${added} added to the cart` : ""}
      </div>
      {products.loading && <Loading label="Loading products…" />}
      {products.error && <ErrorMessage error={products.error} onRetry={products.reload} title="Products could not be loaded." />}
      {products.data && !products.loading && (
        <>
          <p className="muted" aria-live="polite">
            {products.data.count} product{products.data.count === 1 ? "" : "s"}
            {search ? ` matching “${search}”` : ""}
          </p>
          {products.data.results.length === 0 ? (
            <Empty>No products match. Try another search or category.</Empty>
          ) : (
            <ul className="product-grid">
              {products.data.results.map((product) => (
                <li key={product.id} className="card product-card" data-testid="product-card">
                  {product.image_url ? (
                    <img src={product.image_url} alt="" loading="lazy" className="product-image" />
                  ) : (
                    <div className="product-image placeholder" aria-hidden="true">
                      {product.name.slice(0, 1)}
                    </div>
                  )}
                  <h2 className="product-name">
                    <Link to={`/products/${product.id}`}>{product.name}</Link>
                  </h2>
                  <p className="price">{money(product.price, product.currency)}</p>
                  <Availability available={product.available} />
                  <button
                    type="button"
                    disabled={product.available !== undefined && product.available <= 0}
                    onClick={() => {
                      add(product);
                      setAdded(product.name);
                    }}
                    aria-label={`Add ${product.name} to cart`}
                  >
                    Add to cart
                  </button>
                </li>
              ))}
            </ul>
          )}
          <Pagination
            page={page}
            pageSize={CATALOG_PAGE_SIZE}
            count={products.data.count}
            onPage={(next) => update({ page: String(next) })}
            label="Catalog pages"
          />
        </>
      )}
    </section>
  );
}
