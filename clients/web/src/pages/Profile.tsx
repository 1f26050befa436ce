// Profile: the email address (verified or not, the link sent again, a change to a new address
// confirmed by a link sent there), names, phone, company, INN, and the language of mail and
// notices (the portal's own: saving it switches the page, the header's switch saves it too).
import { useMutation, useQuery } from "@apollo/client/react";
import { useContext, useId, useState, type FormEvent } from "react";
import {
  type Language,
  WebRequestEmailChangeDocument,
  WebRequestEmailVerificationDocument,
  WebSettingsDocument,
  WebUpdateProfileDocument,
} from "../gql/graphql";
import { useI18n, type MessageKey } from "../i18n";
import {
  byField,
  Field,
  FormErrors,
  formValues,
  mutationFailure,
  NetworkError,
  Page,
  QueryState,
  SessionContext,
  type UserError,
} from "../ui";

const FIELDS: [("firstName" | "lastName" | "phone" | "companyName" | "taxId"), MessageKey][] = [
  ["firstName", "field.firstName"],
  ["lastName", "field.lastName"],
  ["phone", "field.phone"],
  ["companyName", "field.companyName"],
  ["taxId", "field.taxId"],
];

function LanguageField({ saved }: { saved: Language }) {
  const { t } = useI18n();
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{t("profile.language")}</label>
      {/* Keyed by the saved value: a change from the header's switch shows here at once. */}
      <select id={id} name="language" defaultValue={saved} key={saved} aria-describedby={`${id}-hint`}>
        <option value="RU" lang="ru">
          Русский
        </option>
        <option value="EN" lang="en">
          English
        </option>
      </select>
      <p className="hint" id={`${id}-hint`}>
        {t("profile.languageHelp")}
      </p>
    </div>
  );
}

function EmailAddress({ email, verified }: { email: string; verified: boolean }) {
  const { t } = useI18n();
  const session = useContext(SessionContext);
  const [resend, resending] = useMutation(WebRequestEmailVerificationDocument);
  const [change, changing] = useMutation(WebRequestEmailChangeDocument);
  const [errors, setErrors] = useState<{ form: "resend" | "change"; list: readonly UserError[] }>({
    form: "change",
    list: [],
  });
  const [notice, setNotice] = useState<string | null>(null);
  const [network, setNetwork] = useState(false);

  async function run(form: "resend" | "change", action: () => Promise<readonly UserError[] | undefined>) {
    setNetwork(false);
    setNotice(null);
    try {
      const list = (await action()) ?? [];
      setErrors({ form, list });
      return list.length === 0;
    } catch (failure) {
      setNetwork(mutationFailure(failure, session) === "network");
      return false;
    }
  }

  async function sendAgain() {
    if (await run("resend", async () => (await resend()).data?.requestEmailVerification.userErrors)) {
      setNotice(t("profile.resent"));
    }
  }

  async function requestChange(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const { newEmail, password } = formValues(form);
    const sent = await run(
      "change",
      async () => (await change({ variables: { newEmail: newEmail.trim(), password } })).data?.requestEmailChange.userErrors,
    );
    if (sent) {
      form.reset();
      setNotice(t("profile.changeRequested", { email: newEmail.trim(), current: email }));
    }
  }

  const fieldErrors = byField(errors.form === "change" ? errors.list : []);
  return (
    <section className="card" aria-labelledby="email-title">
      <h2 id="email-title">{t("profile.emailTitle")}</h2>
      <p>
        <span data-testid="email">{email}</span>
        <span className={verified ? "badge ok" : "badge warn"} data-testid="email-verified">
          {verified ? t("profile.verified") : t("profile.unverified")}
        </span>
      </p>
      {!verified && (
        <>
          <p className="hint">{t("profile.unverifiedHelp")}</p>
          <button type="button" onClick={() => void sendAgain()} disabled={resending.loading}>
            {t("profile.resend")}
          </button>
          {errors.form === "resend" && <FormErrors errors={byField(errors.list)} />}
        </>
      )}
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {network && <NetworkError />}
      <h3>{t("profile.changeEmail")}</h3>
      <p className="hint">{t("profile.changeEmailHelp", { email })}</p>
      <form onSubmit={requestChange} noValidate>
        <Field label={t("profile.newEmail")} name="newEmail" type="email" autoComplete="email" required errors={fieldErrors} />
        <Field
          label={t("auth.password")}
          name="password"
          type="password"
          autoComplete="current-password"
          required
          errors={fieldErrors}
        />
        <FormErrors errors={fieldErrors} shown={["newEmail", "password"]} />
        <button type="submit" disabled={changing.loading}>
          {t("profile.changeEmail")}
        </button>
      </form>
    </section>
  );
}

export default function Profile() {
  const { t } = useI18n();
  const session = useContext(SessionContext);
  const { data, loading, error, refetch } = useQuery(WebSettingsDocument);
  const [update, updating] = useMutation(WebUpdateProfileDocument);
  const [errors, setErrors] = useState<readonly UserError[]>([]);
  const [status, setStatus] = useState<"saved" | "network" | null>(null);
  const me = data?.me;

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const values = formValues(event.currentTarget);
    setStatus(null);
    try {
      const result = await update({ variables: { input: values } });
      const problems = result.data?.updateProfile.userErrors ?? [];
      setErrors(problems);
      if (problems.length === 0) setStatus("saved");
    } catch (failure) {
      if (mutationFailure(failure, session) === "network") setStatus("network");
    }
  }

  const fieldErrors = byField(errors);
  return (
    <Page title={t("profile.title")}>
      <QueryState loading={loading && !data} error={error} signedOut={!!data && !me} retry={() => void refetch()}>
        {me && <EmailAddress email={me.email} verified={me.emailVerified} />}
        {me && (
          <form onSubmit={submit} noValidate>
            {FIELDS.map(([name, label]) => (
              <Field key={name} label={t(label)} name={name} defaultValue={me[name] ?? ""} errors={fieldErrors} />
            ))}
            <LanguageField saved={me.language} />
            <FormErrors errors={fieldErrors} shown={FIELDS.map(([name]) => name)} />
            {status === "network" && <NetworkError />}
            {status === "saved" && <p role="status">{t("app.saved")}</p>}
            <button type="submit" disabled={updating.loading}>
              {t("app.save")}
            </button>
          </form>
        )}
      </QueryState>
    </Page>
  );
}
