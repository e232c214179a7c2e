// Staff: create a product, or edit, deactivate or delete one, and adjust its stock.
import { useEffect, useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { api, ApiError, resultsOf } from "../../api/client";
import type { Category, Page, Product, StockLevels } from "../../api/types";
import { Field, FormError, SelectField, TextAreaField } from "../../components/Field";
import { ErrorMessage, Loading, Notice } from "../../components/Status";
import { useForm } from "../../hooks/useForm";
import { useRequest } from "../../hooks/useRequest";

interface ProductFormValues {
  sku: string;
  name: string;
  description: string;
  price: string;
  currency: string;
  category: string;
  image_url: string;
  active: boolean;
  initial_stock: string;
}

const FIELDS = ["sku", "name", "description", "price", "currency", "category", "image_url", "active", "initial_stock"];

function valuesOf(product: Product | undefined): ProductFormValues {
  return {
    sku: product?.sku ?? "",
    name: product?.name ?? "",
    description: product?.description ?? "",
    price: product?.price ?? "",
    currency: product?.currency ?? "EUR",
    category: product?.category ?? "",
    image_url: product?.image_url ?? "",
    active: product?.active ?? true,
    initial_stock: "",
  };
}

/** The fields to send: everything on create, only what changed on edit (the API refuses read-only fields). */
function payload(values: ProductFormValues, original: Product | undefined): Record<string, unknown> {
  const body: Record<string, unknown> = {
    sku: values.sku.trim(),
    name: values.name.trim(),
    description: values.description,
    price: values.price.trim(),
    currency: values.currency.trim().toUpperCase(),
    category: values.category || null,
    image_url: values.image_url.trim(),
    active: values.active,
  };
  if (!original) {
    if (values.initial_stock.trim()) body.initial_stock = Number(values.initial_stock);
    return body;
  }
  const before = payload(valuesOf(original), undefined);
  const changed: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(body)) if (value !== before[name]) changed[name] = value;
  return changed;
}

function ProductForm({ product, onSaved }: { product?: Product; onSaved: (product: Product) => void }) {
  const [values, setValues] = useState<ProductFormValues>(() => valuesOf(product));
  const [saved, setSaved] = useState(false);
  const { formRef, errors, formError, submitting, submit, fail } = useForm(FIELDS);
  const categories = useRequest(
    (signal) => api.get<Page<Category>>("/api/v1/categories/?page_size=100", { signal }),
    [],
  );

  useEffect(() => setValues(valuesOf(product)), [product]);

  const set = (name: keyof ProductFormValues) => (event: React.ChangeEvent<HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>) => {
    const target = event.target as HTMLInputElement;
    setValues((current) => ({ ...current, [name]: target.type === "checkbox" ? target.checked : target.value }));
    setSaved(false);
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const missing: Record<string, string> = {};
    if (!values.sku.trim()) missing.sku = "Enter a SKU.";
    if (!values.name.trim()) missing.name = "Enter a name.";
    if (!values.price.trim()) missing.price = "Enter a price.";
    if (Object.keys(missing).length) return fail(missing, "Please correct the marked fields.");
    const body = payload(values, product);
    if (product && Object.keys(body).length === 0) {
      setSaved(true);
      return;
    }
    submit(async () => {
      const result = product
        ? await api.patch<Product>(`/api/v1/products/${product.id}/`, { ...body, version: product.version })
        : await api.post<Product>("/api/v1/products/", body);
      setSaved(true);
      onSaved(result);
    });
  };

  return (
    <form ref={formRef} onSubmit={onSubmit} noValidate className="product-form">
      <FormError message={formError} />
      {saved && <Notice kind="success">Saved.</Notice>}
      <div className="field-row">
        <Field idPrefix="product" label="SKU" name="sku" required value={values.sku} onChange={set("sku")} error={errors.sku} />
        <Field idPrefix="product" label="Name" name="name" required value={values.name} onChange={set("name")} error={errors.name} />
      </div>
      <TextAreaField idPrefix="product" label="Description" name="description" rows={4} value={values.description} onChange={set("description")} error={errors.description} />
      <div className="field-row">
        <Field idPrefix="product" label="Price" name="price" required inputMode="decimal" hint="e.g. 19.99" value={values.price} onChange={set("price")} error={errors.price} />
        <Field idPrefix="product" label="Currency" name="currency" maxLength={3} value={values.currency} onChange={set("currency")} error={errors.currency} />
        <SelectField idPrefix="product" label="Category" name="category" value={values.category} onChange={set("category")} error={errors.category ?? categories.error?.message}>
          <option value="">No category</option>
          {resultsOf(categories.data).map((c) => (
            <option key={c.slug} value={c.slug}>
              {c.name}
            </option>
          ))}
        </SelectField>
      </div>
      <Field idPrefix="product" label="Image URL" name="image_url" type="url" value={values.image_url} onChange={set("image_url")} error={errors.image_url} />
      {!product && (
        <Field idPrefix="product" label="Initial stock" name="initial_stock" type="number" min={0} value={values.initial_stock} onChange={set("initial_stock")} error={errors.initial_stock} />
      )}
      <div className="field checkbox">
        <input id="product-active" type="checkbox" checked={values.active} onChange={set("active")} />
        <label htmlFor="product-active">Active (shown in the storefront)</label>
      </div>
      <button type="submit" disabled={submitting}>
        {submitting ? "Saving…" : product ? "Save changes" : "Create product"}
      </button>
    </form>
  );
}

function StockPanel({ productId }: { productId: string }) {
  const stock = useRequest((signal) => api.get<StockLevels>(`/api/v1/products/${productId}/stock/`, { signal }), [productId]);
  const [levels, setLevels] = useState<StockLevels | null>(null);
  const [delta, setDelta] = useState("");
  const [reason, setReason] = useState("");
  const [done, setDone] = useState<string | null>(null);
  const { formRef, errors, formError, submitting, submit, fail } = useForm(["delta", "reason"]);
  const current = levels ?? stock.data;

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const missing: Record<string, string> = {};
    if (!/^-?\d+$/.test(delta.trim()) || Number(delta) === 0) missing.delta = "Enter a whole number other than 0 (negative to remove stock).";
    if (!reason.trim()) missing.reason = "Say why the stock changes.";
    if (Object.keys(missing).length) return fail(missing, "Please correct the marked fields.");
    setDone(null);
    submit(async () => {
      const result = await api.post<Partial<StockLevels>>(`/api/v1/products/${productId}/stock/adjustments/`, {
        delta: Number(delta),
        reason: reason.trim(),
      });
      // The answer carries the new levels; fall back to asking when it carries only the adjustment.
      const next =
        typeof result?.on_hand === "number"
          ? (result as StockLevels)
          : await api.get<StockLevels>(`/api/v1/products/${productId}/stock/`);
      setLevels(next);
      setDone(`Stock adjusted by ${Number(delta) > 0 ? "+" : ""}${Number(delta)}.`);
      setDelta("");
      setReason("");
    });
  };

  return (
    <section className="card" aria-labelledby="stock-title">
      <h2 id="stock-title">Stock</h2>
      {stock.loading && <Loading label="Loading stock…" />}
      {stock.error && !current && <ErrorMessage error={stock.error} onRetry={stock.reload} />}
      {current && (
        <dl className="stock-levels" aria-live="polite">
          <div>
            <dt>On hand</dt>
            <dd data-testid="stock-on-hand">{current.on_hand}</dd>
          </div>
          <div>
            <dt>Reserved</dt>
            <dd data-testid="stock-reserved">{current.reserved}</dd>
          </div>
          <div>
            <dt>Available</dt>
            <dd data-testid="stock-available">{current.available}</dd>
          </div>
        </dl>
      )}
      <form ref={formRef} onSubmit={onSubmit} noValidate>
        <h3>Adjust stock</h3>
        <FormError message={formError} />
        {done && <Notice kind="success">{done}</Notice>}
        <div className="field-row">
          <Field idPrefix="stock" label="Change (+/−)" name="delta" inputMode="numeric" value={delta} onChange={(e) => setDelta(e.target.value)} error={errors.delta} hint="e.g. 10 or -2" />
          <Field idPrefix="stock" label="Reason" name="reason" value={reason} onChange={(e) => setReason(e.target.value)} error={errors.reason} hint="e.g. delivery, stocktake, damaged" />
        </div>
        <button type="submit" disabled={submitting}>
          {submitting ? "Adjusting…" : "Adjust stock"}
        </button>
      </form>
    </section>
  );
}

export function ProductCreate() {
  const navigate = useNavigate();
  return (
    <section aria-labelledby="new-product-title">
      <p>
        <Link to="/staff/products">‹ Products</Link>
      </p>
      <h2 id="new-product-title">New product</h2>
      <ProductForm onSaved={(product) => navigate(`/staff/products/${product.id}`, { state: { created: true } })} />
    </section>
  );
}

export function ProductEdit() {
  const { id = "" } = useParams();
  const navigate = useNavigate();
  const product = useRequest((signal) => api.get<Product>(`/api/v1/products/${id}/`, { signal }), [id]);
  const [latest, setLatest] = useState<Product | null>(null);
  const [actionError, setActionError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const current = latest ?? product.data;

  if (product.loading && !current) return <Loading label="Loading product…" />;
  if (!current) return <ErrorMessage error={product.error ?? new Error("Product not found.")} onRetry={product.reload} />;

  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setActionError(null);
    try {
      await action();
    } catch (caught) {
      setActionError(caught instanceof ApiError ? caught : new ApiError(-1, (caught as Error).message));
    } finally {
      setBusy(false);
    }
  };

  const toggleActive = () =>
    run(async () => {
      setLatest(await api.patch<Product>(`/api/v1/products/${current.id}/`, { active: !current.active, version: current.version }));
    });

  const remove = () => {
    if (!window.confirm(`Delete ${current.name}? It disappears from the storefront.`)) return;
    run(async () => {
      await api.delete(`/api/v1/products/${current.id}/`);
      navigate("/staff/products");
    });
  };

  return (
    <section aria-labelledby="edit-product-title">
      <p>
        <Link to="/staff/products">‹ Products</Link>
      </p>
      <div className="section-head">
        <h2 id="edit-product-title">
          {current.name} {!current.active && <span className="badge status-cancelled">Inactive</span>}
        </h2>
        <div className="actions">
          <button type="button" className="secondary" onClick={toggleActive} disabled={busy}>
            {current.active ? "Deactivate" : "Activate"}
          </button>
          <button type="button" className="danger" onClick={remove} disabled={busy}>
            Delete
          </button>
        </div>
      </div>
      {actionError && (
        <ErrorMessage
          error={actionError}
          onRetry={actionError.status === 409 ? () => { setLatest(null); setActionError(null); product.reload(); } : undefined}
        />
      )}
      <div className="editor-layout">
        <ProductForm product={current} onSaved={setLatest} />
        <StockPanel productId={String(current.id)} />
      </div>
    </section>
  );
}
