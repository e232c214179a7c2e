// A labelled form control with its error message wired up for screen readers (aria-invalid, aria-describedby).
import type { InputHTMLAttributes, ReactNode, SelectHTMLAttributes, TextareaHTMLAttributes } from "react";

interface Common {
  label: string;
  name: string;
  error?: string;
  hint?: ReactNode;
  idPrefix?: string;
}

/** The wrapper's props and the control's accessibility attributes, shared by every kind of field. */
function wire({ label, name, error, hint, idPrefix = "f", required }: Common & { required?: boolean }) {
  const id = `${idPrefix}-${name}`;
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  return {
    wrapper: { label, id, error, errorId, hint, hintId, required },
    control: {
      id,
      name,
      required,
      "aria-required": required || undefined,
      "aria-invalid": error ? true : undefined,
      "aria-describedby": [hint ? hintId : null, error ? errorId : null].filter(Boolean).join(" ") || undefined,
    },
  };
}

function Wrapper({ label, id, error, errorId, hint, hintId, required, children }: {
  label: string;
  id: string;
  error?: string;
  errorId: string;
  hint?: ReactNode;
  hintId: string;
  required?: boolean;
  children: ReactNode;
}) {
  return (
    <div className={`field${error ? " has-error" : ""}`}>
      <label htmlFor={id}>
        {label}
        {required && <span aria-hidden="true"> *</span>}
      </label>
      {children}
      {hint && (
        <small id={hintId} className="hint">
          {hint}
        </small>
      )}
      {error && (
        <small id={errorId} className="field-error">
          {error}
        </small>
      )}
    </div>
  );
}

export function Field({ label, name, error, hint, idPrefix, required, ...input }: Common & InputHTMLAttributes<HTMLInputElement>) {
  const { wrapper, control } = wire({ label, name, error, hint, idPrefix, required });
  return (
    <Wrapper {...wrapper}>
      <input {...control} {...input} />
    </Wrapper>
  );
}

export function TextAreaField({ label, name, error, hint, idPrefix, required, ...input }: Common & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const { wrapper, control } = wire({ label, name, error, hint, idPrefix, required });
  return (
    <Wrapper {...wrapper}>
      <textarea {...control} {...input} />
    </Wrapper>
  );
}

export function SelectField({ label, name, error, hint, idPrefix, required, children, ...input }: Common & SelectHTMLAttributes<HTMLSelectElement>) {
  const { wrapper, control } = wire({ label, name, error, hint, idPrefix, required });
  return (
    <Wrapper {...wrapper}>
      <select {...control} {...input}>
        {children}
      </select>
    </Wrapper>
  );
}

/** Move keyboard focus to the first invalid control, or to the error summary when no field is to blame. */
export function focusFirstError(form: HTMLElement | null) {
  if (!form) return;
  const target =
    form.querySelector<HTMLElement>('[aria-invalid="true"]') ?? form.querySelector<HTMLElement>("[data-error-summary]");
  target?.focus();
}

/** The form-level error: a problem without field errors, or a summary listing them. */
export function FormError({ message }: { message: string | null }) {
  if (!message) return null;
  return (
    <div className="alert alert-error" role="alert" tabIndex={-1} data-error-summary>
      {message}
    </div>
  );
}
