import { describe, expect, it } from "vitest";
import { getSession } from "../auth/session";
import { customer, mockApi, signIn } from "../test/helpers";
import { api, ApiError, flattenErrors, query } from "./client";

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    return error as ApiError;
  }
  throw new Error("expected the request to fail");
}

describe("flattenErrors", () => {
  it("turns nested DRF errors into dotted paths", () => {
    expect(
      flattenErrors({
        shipping_address: { postal_code: ["This field is required."], country: ["Not a country.", "Too long."] },
        items: [{}, { quantity: ["Must be at most 100."] }],
        "lines[2].sku": "Unknown.",
      }),
    ).toEqual({
      "shipping_address.postal_code": "This field is required.",
      "shipping_address.country": "Not a country. Too long.",
      "items.1.quantity": "Must be at most 100.",
      "lines.2.sku": "Unknown.",
    });
  });

  it("keeps a bare list of messages as a non-field error", () => {
    expect(flattenErrors(["Out of stock."])).toEqual({ non_field_errors: "Out of stock." });
  });
});

describe("request", () => {
  it("throws an ApiError carrying the problem's detail and field errors", async () => {
    mockApi({
      "POST /api/v1/orders/": {
        status: 400,
        body: { type: "urn:shop:problem:validation", title: "Bad request", status: 400, detail: "The request has invalid fields.", errors: { shipping_address: { city: ["Required."] } } },
      },
    });
    const error = await failure(api.post("/api/v1/orders/", {}));
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(400);
    expect(error.message).toBe("The request has invalid fields.");
    expect(error.fieldsUnder("shipping_address")).toEqual({ city: "Required." });
  });

  it("reports an unreachable gateway as status 0 with a readable message", async () => {
    mockApi({ "GET /api/v1/products/": "network-error" });
    const error = await failure(api.get("/api/v1/products/"));
    expect(error.status).toBe(0);
    expect(error.message).toMatch(/cannot be reached/);
  });

  it("explains a 502 HTML page from the gateway as a temporary outage", async () => {
    mockApi({ "GET /api/v1/orders/": { status: 502, body: "<html>Bad Gateway</html>", contentType: "text/html" } });
    const error = await failure(api.get("/api/v1/orders/"));
    expect(error.status).toBe(502);
    expect(error.message).toMatch(/temporarily unavailable/);
  });

  it("sends the bearer token and refreshes it once on a 401, then retries", async () => {
    signIn(customer);
    let first = true;
    const calls = mockApi({
      "GET /api/v1/orders/": (call) => {
        if (first) {
          first = false;
          return { status: 401, body: { status: 401, title: "Not authenticated", detail: "Token expired." } };
        }
        return call.headers.Authorization === "Bearer new-access" ? { body: { count: 0, results: [] } } : { status: 401 };
      },
      // identity's answer as its OpenAPI document gives it (TokenOutput): the refresh token is rotated
      "POST /api/v1/auth/token/refresh": {
        body: { access: "new-access", refresh: "new-refresh", token_type: "Bearer", expires_in: 900, refresh_expires_in: 604800 },
      },
    });
    await expect(api.get("/api/v1/orders/")).resolves.toEqual({ count: 0, results: [] });
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      "GET /api/v1/orders/",
      "POST /api/v1/auth/token/refresh",
      "GET /api/v1/orders/",
    ]);
    expect(calls[0].headers.Authorization).toBe("Bearer access-u-1");
    expect(calls[1].body).toEqual({ refresh: "refresh-u-1" });
    expect(getSession()?.access).toBe("new-access");
    expect(getSession()?.refresh).toBe("new-refresh");
  });

  it("ends the session when the refresh token is refused", async () => {
    signIn(customer);
    mockApi({
      "GET /api/v1/orders/": { status: 401, body: { detail: "Token expired." } },
      "POST /api/v1/auth/token/refresh": { status: 401, body: { detail: "Refresh token revoked." } },
    });
    const error = await failure(api.get("/api/v1/orders/"));
    expect(error.status).toBe(401);
    expect(getSession()).toBeNull();
  });

  it("refreshes an access token that is about to expire before sending", async () => {
    signIn(customer, { expiresInMs: 5_000 });
    const calls = mockApi({
      "POST /api/v1/auth/token/refresh": { body: { access: "fresh", expires_in: 900 } },
      "GET /api/v1/auth/me": { body: customer },
    });
    await api.get("/api/v1/auth/me");
    expect(calls.map((c) => c.path)).toEqual(["/api/v1/auth/token/refresh", "/api/v1/auth/me"]);
    expect(calls[1].headers.Authorization).toBe("Bearer fresh");
  });
});

describe("query", () => {
  it("leaves out empty values", () => {
    expect(query({ search: "mug", category: "", page: 2, ordering: undefined })).toBe("?search=mug&page=2");
    expect(query({})).toBe("");
  });
});
