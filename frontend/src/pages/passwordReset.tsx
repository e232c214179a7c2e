// Forgotten password: ask for a one-time link by email, then choose a new password on the page the link opens.
import { useEffect, useState, type FormEvent } from "react";
import { Link, useLocation, useNavigate } from "react-router";
import { ApiError, api } from "../api/client";
import type { PasswordResetConfirm, PasswordResetRequest } from "../api/types";
import { Field, FormError } from "../components/Field";
import { Notice } from "../components/Status";
import { useForm } from "../hooks/useForm";

/** The route the emailed link opens; identity builds the link with the same path (accounts/constants.py). */
export const RESET_PASSWORD_PATH = "/reset-password";

export function ForgotPassword() {
  const [email, setEmail] = useState("");
  const [sentTo, setSentTo] = useState<string | null>(null);
  const { formRef, errors, formError, submitting, submit, fail } = useForm(["email"]);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const address = email.trim();
    if (!address) return fail({ email: "Enter your email address." }, "Please correct the marked fields.");
    submit(async () => {
      const body: PasswordResetRequest = { email: address };
      await api.post("/api/v1/auth/password-reset", body, { auth: false });
      setSentTo(address);
    });
  };

  if (sentTo) {
    return (
      <section className="narrow" aria-labelledby="forgot-title">
        <h1 id="forgot-title">Check your email</h1>
        <Notice kind="success">
          If an account exists for {sentTo}, we have sent it a link to choose a new password. The link works once,
          for one hour.
        </Notice>
        <p>
          <Link to="/login">Back to sign in</Link>
        </p>
      </section>
    );
  }
  return (
    <section className="narrow" aria-labelledby="forgot-title">
      <h1 id="forgot-title">Forgot your password?</h1>
      <p>Enter the email address of your account and we will send you a link to choose a new password.</p>
      <form ref={formRef} onSubmit={onSubmit} noValidate>
        <FormError message={formError} />
        <Field idPrefix="forgot" label="Email" name="email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} error={errors.email} />
        <button type="submit" disabled={submitting}>
          {submitting ? "Sending…" : "Send the link"}
        </button>
      </form>
      <p>
        Remembered it? <Link to="/login">Sign in</Link>
      </p>
    </section>
  );
}

/** The token from the link's fragment (`#token=…`): a fragment never reaches a server or a Referer header. */
function tokenFromHash(hash: string): string {
  return new URLSearchParams(hash.replace(/^#/, "")).get("token") ?? "";
}

export function ResetPassword() {
  const location = useLocation();
  const navigate = useNavigate();
  const [token] = useState(() => tokenFromHash(location.hash));
  const [password, setPassword] = useState("");
  const [done, setDone] = useState(false);
  const [linkBroken, setLinkBroken] = useState(false);
  const { formRef, errors, formError, submitting, submit, fail } = useForm(["password"]);

  // Take the token out of the address bar (and so out of the history and any screenshot of it).
  useEffect(() => {
    if (location.hash) navigate(location.pathname, { replace: true });
  }, [location.hash, location.pathname, navigate]);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (!password) return fail({ password: "Choose a new password." }, "Please correct the marked fields.");
    submit(async () => {
      const body: PasswordResetConfirm = { token, password };
      try {
        await api.post("/api/v1/auth/password-reset/confirm", body, { auth: false });
      } catch (error) {
        if (error instanceof ApiError && error.problem?.type === "urn:shop:problem:invalid-reset-token") {
          setLinkBroken(true);
        }
        throw error;
      }
      setDone(true);
    });
  };

  if (done) {
    return (
      <section className="narrow" aria-labelledby="reset-title">
        <h1 id="reset-title">Password changed</h1>
        <Notice kind="success">Your password is changed, and every device that was signed in is signed out.</Notice>
        <p>
          <Link to="/login">Sign in with your new password</Link>
        </p>
      </section>
    );
  }
  if (!token || linkBroken) {
    return (
      <section className="narrow" aria-labelledby="reset-title">
        <h1 id="reset-title">Choose a new password</h1>
        <Notice kind="warning">
          {token
            ? "This link is unknown, already used or expired."
            : "This page needs the link from the password reset email."}
        </Notice>
        <p>
          <Link to="/forgot-password">Ask for a new link</Link>
        </p>
      </section>
    );
  }
  return (
    <section className="narrow" aria-labelledby="reset-title">
      <h1 id="reset-title">Choose a new password</h1>
      <form ref={formRef} onSubmit={onSubmit} noValidate>
        <FormError message={formError} />
        <Field
          idPrefix="reset"
          label="New password"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          hint="At least 8 characters; avoid common passwords."
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={errors.password}
        />
        <button type="submit" disabled={submitting}>
          {submitting ? "Saving…" : "Set the new password"}
        </button>
      </form>
    </section>
  );
}
