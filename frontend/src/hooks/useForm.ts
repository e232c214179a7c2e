// Submitting a form: busy flag, field errors from the API's problem `errors`, and focus on the first error.
import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, type FieldErrors } from "../api/client";
import { focusFirstError } from "../components/Field";

interface SubmitOptions {
  /** Map the API's error paths onto this form's field names (e.g. strip `shipping_address.`). */
  mapErrors?: (error: ApiError) => FieldErrors;
}

export function useForm<T extends HTMLElement = HTMLFormElement>(fieldNames: string[]) {
  const formRef = useRef<T>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const [failures, setFailures] = useState(0);

  // Focus after React has rendered the new aria-invalid attributes.
  useEffect(() => {
    if (failures) focusFirstError(formRef.current);
  }, [failures]);

  const fail = useCallback((fieldErrors: FieldErrors, message: string | null) => {
    setErrors(fieldErrors);
    setFormError(message);
    setFailures((n) => n + 1);
  }, []);

  const submit = useCallback(
    async (action: () => Promise<void>, options: SubmitOptions = {}) => {
      setSubmitting(true);
      setFormError(null);
      try {
        await action();
        setErrors({});
      } catch (caught) {
        const error = caught instanceof ApiError ? caught : new ApiError(-1, (caught as Error).message);
        const mapped = options.mapErrors ? options.mapErrors(error) : error.fieldErrors;
        const known: FieldErrors = {};
        const other: string[] = [];
        for (const [name, message] of Object.entries(mapped)) {
          if (fieldNames.includes(name)) known[name] = message;
          else other.push(name === "non_field_errors" ? message : `${name.replace(/_/g, " ")}: ${message}`);
        }
        let message: string | null = error.message;
        if (Object.keys(known).length) {
          message = other.length ? `Please correct the marked fields. ${other.join(" ")}` : "Please correct the marked fields.";
        } else if (other.length) {
          message = `${error.message} ${other.join(" ")}`;
        }
        fail(known, message);
      } finally {
        setSubmitting(false);
      }
    },
    [fieldNames, fail],
  );

  return { formRef, errors, formError, submitting, submit, fail, setErrors };
}
