import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { getSession } from "../auth/session";
import { customer, mockApi, renderApp, signIn } from "../test/helpers";

describe("Forgot password", () => {
  it("is linked from sign-in and asks for a link for the address typed", async () => {
    const calls = mockApi({ "POST /api/v1/auth/password-reset": { status: 202 } });
    const user = userEvent.setup();
    renderApp("/login");

    await user.click(screen.getByRole("link", { name: "Forgot password?" }));
    await user.type(await screen.findByLabelText(/^Email/), " ann@example.com ");
    await user.click(screen.getByRole("button", { name: "Send the link" }));

    expect(await screen.findByRole("heading", { name: "Check your email" })).toBeInTheDocument();
    expect(screen.getByRole("status")).toHaveTextContent("If an account exists for ann@example.com");
    expect(calls).toHaveLength(1);
    expect(calls[0].body).toEqual({ email: "ann@example.com" });
    expect(calls[0].headers.Authorization).toBeUndefined();
  });

  it("shows the rate limit's answer", async () => {
    mockApi({
      "POST /api/v1/auth/password-reset": {
        status: 429,
        body: { status: 429, title: "Too many requests", detail: "Too many password reset attempts; try again later." },
      },
    });
    const user = userEvent.setup();
    renderApp("/forgot-password");
    await user.type(screen.getByLabelText(/^Email/), "ann@example.com");
    await user.click(screen.getByRole("button", { name: "Send the link" }));
    expect(await screen.findByText("Too many password reset attempts; try again later.")).toBeInTheDocument();
  });
});

describe("Reset password", () => {
  it("sends the token from the link with the new password, then offers to sign in", async () => {
    const calls = mockApi({ "POST /api/v1/auth/password-reset/confirm": { status: 204 } });
    const user = userEvent.setup();
    renderApp("/reset-password#token=tok-123_abc");

    await user.type(screen.getByLabelText(/^New password/), "a brand new passphrase");
    await user.click(screen.getByRole("button", { name: "Set the new password" }));

    expect(await screen.findByRole("heading", { name: "Password changed" })).toBeInTheDocument();
    expect(calls[0].body).toEqual({ token: "tok-123_abc", password: "a brand new passphrase" });
    expect(screen.getByRole("link", { name: "Sign in with your new password" })).toHaveAttribute("href", "/login");
  });

  it("puts a weak password's reasons next to the field and keeps the form", async () => {
    mockApi({
      "POST /api/v1/auth/password-reset/confirm": {
        status: 400,
        body: { status: 400, detail: "The password is too weak.", errors: { password: ["This password is too common."] } },
      },
    });
    const user = userEvent.setup();
    renderApp("/reset-password#token=tok-123_abc");
    await user.type(screen.getByLabelText(/^New password/), "password");
    await user.click(screen.getByRole("button", { name: "Set the new password" }));

    const field = screen.getByLabelText(/^New password/);
    await waitFor(() => expect(field).toHaveFocus());
    expect(field).toHaveAccessibleDescription(/This password is too common\./);
  });

  it("says when the link is used or expired and offers a new one", async () => {
    mockApi({
      "POST /api/v1/auth/password-reset/confirm": {
        status: 400,
        body: { type: "urn:shop:problem:invalid-reset-token", status: 400, detail: "This reset link is unknown, already used or expired." },
      },
    });
    const user = userEvent.setup();
    renderApp("/reset-password#token=spent");
    await user.type(screen.getByLabelText(/^New password/), "a brand new passphrase");
    await user.click(screen.getByRole("button", { name: "Set the new password" }));

    expect(await screen.findByText("This link is unknown, already used or expired.")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Ask for a new link" })).toHaveAttribute("href", "/forgot-password");
  });

  it("without a token, points to the request page instead of showing a form", () => {
    renderApp("/reset-password");
    expect(screen.getByText("This page needs the link from the password reset email.")).toBeInTheDocument();
    expect(screen.queryByLabelText(/^New password/)).toBeNull();
  });
});

describe("Sign out", () => {
  it("revokes the sign-in on the server and shows the signed-out shop", async () => {
    signIn(customer);
    const calls = mockApi({
      "GET /api/v1/products/": { body: { count: 0, next: null, previous: null, results: [] } },
      "GET /api/v1/categories/": { body: [] },
      "POST /api/v1/auth/logout": { status: 204 },
    });
    const user = userEvent.setup();
    renderApp("/");

    await user.click(screen.getByRole("button", { name: "Sign out" }));

    expect(await screen.findByRole("link", { name: "Sign in" })).toBeInTheDocument();
    expect(getSession()).toBeNull();
    await waitFor(() =>
      expect(calls.find((c) => c.path === "/api/v1/auth/logout")?.body).toEqual({ refresh: `refresh-${customer.id}` }),
    );
  });
});
