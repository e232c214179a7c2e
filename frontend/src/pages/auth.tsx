// Sign in and register forms; both return to the page that asked for an account (`?next=`).
import { useState, type FormEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { useAuth } from "../auth/AuthContext";
import { Field, FormError } from "../components/Field";
import { useForm } from "../hooks/useForm";

function useNext(): string {
  const [params] = useSearchParams();
  const next = params.get("next") ?? "/";
  // Only same-site paths: a crafted link must not send a freshly signed-in user elsewhere.
  return next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

export function Login() {
  const { login } = useAuth();
  const navigate = useNavigate();
  const next = useNext();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const { formRef, errors, formError, submitting, submit, fail } = useForm(["email", "password"]);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const missing: Record<string, string> = {};
    if (!email.trim()) missing.email = "Enter your email address.";
    if (!password) missing.password = "Enter your password.";
    if (Object.keys(missing).length) return fail(missing, "Please correct the marked fields.");
    submit(async () => {
      await login(email.trim(), password);
      navigate(next, { replace: true });
    });
  };

  return (
    <section className="narrow" aria-labelledby="login-title">
      <h1 id="login-title">Sign in</h1>
      <form ref={formRef} onSubmit={onSubmit} noValidate>
        <FormError message={formError} />
        <Field idPrefix="login" label="Email" name="email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} error={errors.email} />
        <Field
          idPrefix="login"
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={errors.password}
        />
        <p className="hint">
          <Link to="/forgot-password">Forgot password?</Link>
        </p>
        <button type="submit" disabled={submitting}>
          {submitting ? "Signing in…" : "Sign in"}
        </button>
      </form>
      <p>
        New here? <Link to={`/register?next=${encodeURIComponent(next)}`}>Create an account</Link>
      </p>
    </section>
  );
}

export function Register() {
  const { register } = useAuth();
  const navigate = useNavigate();
  const next = useNext();
  const [form, setForm] = useState({ name: "", email: "", password: "" });
  const { formRef, errors, formError, submitting, submit, fail } = useForm(["name", "email", "password"]);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const missing: Record<string, string> = {};
    if (!form.name.trim()) missing.name = "Enter your name.";
    if (!form.email.trim()) missing.email = "Enter your email address.";
    if (!form.password) missing.password = "Choose a password.";
    if (Object.keys(missing).length) return fail(missing, "Please correct the marked fields.");
    submit(async () => {
      await register(form.email.trim(), form.password, form.name.trim());
      navigate(next, { replace: true });
    }, {
      // "Email taken" is a 409 that may come without field errors; it still belongs next to the email field.
      mapErrors: (error) =>
        error.status === 409 && !Object.keys(error.fieldErrors).length ? { email: error.message } : error.fieldErrors,
    });
  };

  const change = (name: keyof typeof form) => (event: React.ChangeEvent<HTMLInputElement>) =>
    setForm((current) => ({ ...current, [name]: event.target.value }));

  return (
    <section className="narrow" aria-labelledby="register-title">
      <h1 id="register-title">Create an account</h1>
      <form ref={formRef} onSubmit={onSubmit} noValidate>
        <FormError message={formError} />
        <Field idPrefix="register" label="Name" name="name" autoComplete="name" required value={form.name} onChange={change("name")} error={errors.name} />
        <Field idPrefix="register" label="Email" name="email" type="email" autoComplete="email" required value={form.email} onChange={change("email")} error={errors.email} />
        <Field
          idPrefix="register"
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          hint="At least 8 characters; avoid common passwords."
          value={form.password}
          onChange={change("password")}
          error={errors.password}
        />
        <button type="submit" disabled={submitting}>
          {submitting ? "Creating account…" : "Create account"}
        </button>
      </form>
      <p>
        Already have an account? <Link to={`/login?next=${encodeURIComponent(next)}`}>Sign in</Link>
      </p>
    </section>
  );
}
