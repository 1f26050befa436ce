// Shared pieces of every screen: labelled fields with their userErrors beside them, the
// form-level errors, the network/session state of a query.
import { CombinedGraphQLErrors } from "@apollo/client";
import { createContext, useContext, useId, type InputHTMLAttributes, type ReactNode } from "react";
import { errorMessage, useI18n } from "./i18n";

export type UserError = { field?: readonly string[] | null; code: string; message: string };

/** userErrors split by the input field they name (the last path segment); "" for the rest. */
export function byField(errors: readonly UserError[] | null | undefined): Record<string, UserError[]> {
  const grouped: Record<string, UserError[]> = {};
  for (const error of errors ?? []) {
    const field = error.field?.length ? error.field[error.field.length - 1] : "";
    (grouped[field] ??= []).push(error);
  }
  return grouped;
}

type FieldProps = InputHTMLAttributes<HTMLInputElement> & {
  label: string;
  name: string;
  errors?: Record<string, UserError[]>;
};

export function Field({ label, name, errors, type = "text", ...input }: FieldProps) {
  const { t } = useI18n();
  const id = useId();
  const problems = errors?.[name] ?? [];
  const errorId = `${id}-error`;
  const checkbox = type === "checkbox";
  const control = (
    <input
      id={id}
      name={name}
      type={type}
      aria-invalid={problems.length > 0 || undefined}
      aria-describedby={problems.length ? errorId : undefined}
      {...input}
    />
  );
  return (
    <div className={checkbox ? "field checkbox" : "field"}>
      {checkbox && control}
      <label htmlFor={id}>{label}</label>
      {!checkbox && control}
      {problems.length > 0 && (
        <p className="field-error" id={errorId} role="alert">
          {problems.map((p) => errorMessage(t, p.code, p.message)).join(" ")}
        </p>
      )}
    </div>
  );
}

/** Errors that name no single field (or a field the form does not show). */
export function FormErrors({ errors, shown = [] }: { errors: Record<string, UserError[]>; shown?: string[] }) {
  const { t } = useI18n();
  const rest = Object.entries(errors)
    .filter(([field]) => !shown.includes(field))
    .flatMap(([, list]) => list);
  if (!rest.length) return null;
  return (
    <div className="form-error" role="alert">
      {rest.map((e, i) => (
        <p key={i}>{errorMessage(t, e.code, e.message)}</p>
      ))}
    </div>
  );
}

type Session = { expired: () => void };
export const SessionContext = createContext<Session>({ expired: () => undefined });

/** Loading, network error (with retry) or an ended session (back to sign-in). */
export function QueryState({
  loading,
  error,
  signedOut,
  retry,
  children,
}: {
  loading: boolean;
  error?: unknown;
  signedOut?: boolean;
  retry?: () => void;
  children?: ReactNode;
}) {
  const { t } = useI18n();
  const session = useContext(SessionContext);
  if (signedOut) {
    queueMicrotask(session.expired);
    return null;
  }
  if (error && !CombinedGraphQLErrors.is(error)) {
    return <NetworkError retry={retry} />;
  }
  if (loading) return <p aria-busy="true">{t("app.loading")}</p>;
  return <>{children}</>;
}

export function NetworkError({ retry }: { retry?: () => void }) {
  const { t } = useI18n();
  return (
    <div className="form-error" role="alert">
      <p>{t("app.networkError")}</p>
      {retry && (
        <button type="button" onClick={retry}>
          {t("app.retry")}
        </button>
      )}
    </div>
  );
}

/** A mutation's failure that is not a userError: the network, or an ended session. */
export function mutationFailure(error: unknown, session: Session): "network" | null {
  if (CombinedGraphQLErrors.is(error)) {
    if (error.errors.some((e) => e.extensions?.code === "UNAUTHENTICATED")) session.expired();
    return null;
  }
  return error ? "network" : null;
}

export function formValues(form: HTMLFormElement): Record<string, string> {
  const values: Record<string, string> = {};
  new FormData(form).forEach((value, key) => {
    values[key] = String(value);
  });
  return values;
}

export function Page({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        {title}
      </h1>
      {children}
    </section>
  );
}
