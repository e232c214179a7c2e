// The one way the app talks to the gateway: JSON in and out, bearer token attached and refreshed,
// every failure (problem response, bad gateway, no network) turned into an ApiError with a readable message.
import { getSession, needsRefresh, refreshSession } from "../auth/session";

export type FieldErrors = Record<string, string>;

interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  errors?: unknown;
}

export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem | null;
  /** Field errors flattened to dotted paths: `shipping_address.city`, `items.0.quantity`. */
  readonly fieldErrors: FieldErrors;

  constructor(status: number, message: string, problem: Problem | null = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
    this.fieldErrors = flattenErrors(problem?.errors);
  }

  /** Errors for one nested object, with the prefix removed (`shipping_address.city` → `city`). */
  fieldsUnder(prefix: string): FieldErrors {
    const scoped: FieldErrors = {};
    for (const [path, message] of Object.entries(this.fieldErrors)) {
      if (path.startsWith(`${prefix}.`)) scoped[path.slice(prefix.length + 1)] = message;
    }
    return scoped;
  }
}

/** Flatten DRF-style error trees (`{a: {b: ["msg"]}}`, lists per item) into `{"a.b": "msg"}`. */
export function flattenErrors(errors: unknown, prefix = ""): FieldErrors {
  const out: FieldErrors = {};
  const key = (part: string) => (prefix ? `${prefix}.${part}` : part);
  const at = prefix || "non_field_errors";
  if (errors == null) return out;
  if (typeof errors === "string") {
    out[at] = errors;
  } else if (Array.isArray(errors)) {
    if (errors.every((e) => typeof e === "string")) {
      if (errors.length) out[at] = errors.join(" ");
    } else {
      errors.forEach((item, index) => Object.assign(out, flattenErrors(item, key(String(index)))));
    }
  } else if (typeof errors === "object") {
    for (const [name, value] of Object.entries(errors as Record<string, unknown>)) {
      // Some services already send dotted or bracketed paths: normalise `items[0].quantity` to `items.0.quantity`.
      const normalised = name.replace(/\[(\d+)\]/g, ".$1");
      Object.assign(out, flattenErrors(value, key(normalised)));
    }
  }
  return out;
}

function messageFor(status: number, problem: Problem | null): string {
  if (status === 0) return "The shop cannot be reached. Check your connection and try again.";
  if (status === 502 || status === 503 || status === 504) {
    return "This part of the shop is temporarily unavailable. Please try again in a moment.";
  }
  if (problem?.detail) return problem.detail;
  if (problem?.title) return problem.title;
  if (status === 401) return "Please sign in.";
  if (status === 403) return "You are not allowed to do that.";
  if (status === 404) return "Not found.";
  if (status === 429) return "Too many requests. Please wait a moment and try again.";
  return `The request failed (status ${status}).`;
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Send the bearer token when signed in (default true). */
  auth?: boolean;
}

async function send(path: string, options: RequestOptions, token: string | null): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json, application/problem+json", ...options.headers };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  try {
    return await fetch(path, {
      method: options.method ?? "GET",
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (error) {
    if ((error as Error)?.name === "AbortError") throw error;
    throw new ApiError(0, messageFor(0, null));
  }
}

async function currentToken(useAuth: boolean): Promise<string | null> {
  if (!useAuth) return null;
  let session = getSession();
  if (session && needsRefresh(session)) {
    try {
      session = await refreshSession();
    } catch {
      // Refresh endpoint unreachable: try the old token; the call itself will report the outage.
    }
  }
  return session?.access ?? null;
}

export async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const useAuth = options.auth ?? true;
  const token = await currentToken(useAuth);
  let response = await send(path, options, token);
  if (response.status === 401 && token && getSession()?.refresh) {
    // The token may have expired in flight or the keys rotated: one refresh, one retry.
    let refreshed = null;
    try {
      refreshed = await refreshSession();
    } catch {
      refreshed = null;
    }
    if (refreshed) response = await send(path, options, refreshed.access);
  }
  return parse<T>(response);
}

async function parse<T>(response: Response): Promise<T> {
  if (response.status === 204) return undefined as T;
  const type = response.headers.get("Content-Type") ?? "";
  let body: unknown = null;
  if (type.includes("json")) {
    try {
      body = await response.json();
    } catch {
      body = null;
    }
  }
  if (!response.ok) {
    const problem = body && typeof body === "object" ? (body as Problem) : null;
    throw new ApiError(response.status, messageFor(response.status, problem), problem);
  }
  if (body === null && type && !type.includes("json")) {
    // An HTML page where JSON was expected: the gateway answered for a service that is not there.
    throw new ApiError(502, messageFor(502, null));
  }
  return body as T;
}

export const api = {
  get: <T>(path: string, options?: RequestOptions) => request<T>(path, { ...options, method: "GET" }),
  post: <T>(path: string, body?: unknown, options?: RequestOptions) =>
    request<T>(path, { ...options, method: "POST", body: body ?? {} }),
  patch: <T>(path: string, body: unknown, options?: RequestOptions) =>
    request<T>(path, { ...options, method: "PATCH", body }),
  delete: <T = void>(path: string, options?: RequestOptions) => request<T>(path, { ...options, method: "DELETE" }),
};

/** Build a query string, leaving out empty values. */
export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** The rows of a list (every list is paginated, DESIGN.md §5), none while it loads. */
export function resultsOf<T>(data: { results: T[] } | null | undefined): T[] {
  return data?.results ?? [];
}
