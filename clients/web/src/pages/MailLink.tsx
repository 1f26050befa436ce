// The pages the mailed links open (PORTAL_URL + path + ?token=): a new password, the address
// verified, the new address confirmed. Each waits for a click (a mail scanner fetching the link
// spends nothing), and once done the token leaves the address bar.
import { useMutation } from "@apollo/client/react";
import { useState, type FormEvent, type ReactNode } from "react";
import type { MailLinkPath } from "../App";
import { WebConfirmEmailChangeDocument, WebResetPasswordDocument, WebVerifyEmailDocument } from "../gql/graphql";
import { useI18n } from "../i18n";
import { byField, Field, FormErrors, formValues, NetworkError, Page, type UserError } from "../ui";

type Outcome = { errors: readonly UserError[]; network: boolean; done: string | null };
const START: Outcome = { errors: [], network: false, done: null };

/** Forget the spent token: the address bar (and history) keep only the page's path. */
function dropToken() {
  history.replaceState(null, "", location.pathname);
}

function Result({ outcome, retry }: { outcome: Outcome; retry?: ReactNode }) {
  const fieldErrors = byField(outcome.errors);
  const invalid = outcome.errors.some((e) => e.code === "INVALID_TOKEN");
  return (
    <>
      <FormErrors errors={fieldErrors} shown={["newPassword"]} />
      {invalid && retry}
      {outcome.network && <NetworkError />}
    </>
  );
}

function ResetPassword({ token }: { token: string }) {
  const { t } = useI18n();
  const [reset, resetting] = useMutation(WebResetPasswordDocument);
  const [outcome, setOutcome] = useState<Outcome>(START);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const { newPassword } = formValues(event.currentTarget);
    try {
      const { data } = await reset({ variables: { token, newPassword } });
      const errors = data?.resetPassword.userErrors ?? [];
      const done = data?.resetPassword.ok && errors.length === 0;
      if (done) dropToken();
      setOutcome({ errors, network: false, done: done ? t("reset.done") : null });
    } catch {
      setOutcome({ ...outcome, network: true });
    }
  }

  if (outcome.done) {
    return (
      <Page title={t("reset.title")}>
        <p className="notice" role="status">
          {outcome.done}
        </p>
        <p>
          <a href="/#/">{t("auth.signIn")}</a>
        </p>
      </Page>
    );
  }
  return (
    <Page title={t("reset.title")}>
      <p>{t("reset.help")}</p>
      <form onSubmit={submit} noValidate>
        <Field
          label={t("security.newPassword")}
          name="newPassword"
          type="password"
          autoComplete="new-password"
          required
          errors={byField(outcome.errors)}
        />
        <Result outcome={outcome} retry={<a href="/#/forgot-password">{t("reset.again")}</a>} />
        <button type="submit" disabled={resetting.loading}>
          {t("reset.submit")}
        </button>
      </form>
    </Page>
  );
}

function ConfirmAddress({ token, change }: { token: string; change: boolean }) {
  const { t } = useI18n();
  const [verify, verifying] = useMutation(WebVerifyEmailDocument);
  const [confirm, confirming] = useMutation(WebConfirmEmailChangeDocument);
  const [outcome, setOutcome] = useState<Outcome>(START);
  const prefix = change ? "confirmEmail" : "verify";

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    try {
      const payload = change
        ? (await confirm({ variables: { token } })).data?.confirmEmailChange
        : (await verify({ variables: { token } })).data?.verifyEmail;
      const errors = payload?.userErrors ?? [];
      const email = payload?.member?.email;
      if (email && errors.length === 0) dropToken();
      setOutcome({ errors, network: false, done: email && errors.length === 0 ? email : null });
    } catch {
      setOutcome({ ...outcome, network: true });
    }
  }

  return (
    <Page title={t(`${prefix}.title`)}>
      {outcome.done ? (
        <>
          <p className="notice" role="status">
            {t(`${prefix}.done`, { email: outcome.done })}
          </p>
          <p>
            <a href="/#/profile">{t("link.toPortal")}</a>
          </p>
        </>
      ) : (
        <form onSubmit={submit} noValidate>
          <p>{t(`${prefix}.help`)}</p>
          <Result outcome={outcome} retry={<a href="/#/profile">{t("link.toPortal")}</a>} />
          <button type="submit" disabled={verifying.loading || confirming.loading}>
            {t(`${prefix}.submit`)}
          </button>
        </form>
      )}
    </Page>
  );
}

export default function MailLink({ path }: { path: MailLinkPath }) {
  const { t } = useI18n();
  const [token] = useState(() => new URLSearchParams(location.search).get("token") ?? "");
  if (!token) {
    return (
      <Page title={t("app.title")}>
        <p className="form-error" role="alert">
          {t("link.missing")}
        </p>
        <p>
          <a href="/#/">{t("link.toPortal")}</a>
        </p>
      </Page>
    );
  }
  if (path === "/reset-password") return <ResetPassword token={token} />;
  return <ConfirmAddress token={token} change={path === "/confirm-email"} />;
}
