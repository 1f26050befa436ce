// Sign in, then the two-factor step when the account has it on (code or recovery code).
import { useMutation } from "@apollo/client/react";
import { useState, type FormEvent } from "react";
import { WebLoginDocument, WebVerifyTwoFactorDocument } from "../gql/graphql";
import { useI18n } from "../i18n";
import { byField, Field, FormErrors, formValues, NetworkError, Page, type UserError } from "../ui";

export default function SignIn({ onSignedIn, notice }: { onSignedIn: () => void; notice: string | null }) {
  const { t } = useI18n();
  const [login, loginState] = useMutation(WebLoginDocument);
  const [verify, verifyState] = useMutation(WebVerifyTwoFactorDocument);
  const [challenge, setChallenge] = useState<string | null>(null);
  const [errors, setErrors] = useState<readonly UserError[]>([]);
  const [network, setNetwork] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const values = formValues(event.currentTarget);
    setNetwork(false);
    try {
      const { data } = await login({ variables: { email: values.email, password: values.password } });
      const payload = data?.login;
      setErrors(payload?.userErrors ?? []);
      if (payload?.twoFactorChallenge) setChallenge(payload.twoFactorChallenge);
      else if (payload?.member) onSignedIn();
    } catch {
      setNetwork(true);
    }
  }

  async function submitCode(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const values = formValues(event.currentTarget);
    setNetwork(false);
    try {
      const { data } = await verify({ variables: { challenge: challenge!, code: values.code.trim() } });
      setErrors(data?.verifyTwoFactor.userErrors ?? []);
      if (data?.verifyTwoFactor.member) onSignedIn();
    } catch {
      setNetwork(true);
    }
  }

  const fieldErrors = byField(errors);
  if (challenge) {
    return (
      <Page title={t("auth.twoFactorTitle")}>
        <p>{t("auth.twoFactorHelp")}</p>
        <form onSubmit={submitCode} noValidate>
          <Field label={t("auth.code")} name="code" autoComplete="one-time-code" required errors={fieldErrors} />
          <FormErrors errors={fieldErrors} shown={["code"]} />
          {network && <NetworkError />}
          <button type="submit" disabled={verifyState.loading}>
            {t("auth.verify")}
          </button>
        </form>
      </Page>
    );
  }
  return (
    <Page title={t("auth.signIn")}>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <form onSubmit={submit} noValidate>
        <Field label={t("auth.email")} name="email" type="email" autoComplete="username" required errors={fieldErrors} />
        <Field
          label={t("auth.password")}
          name="password"
          type="password"
          autoComplete="current-password"
          required
          errors={fieldErrors}
        />
        <FormErrors errors={fieldErrors} shown={["email", "password"]} />
        {network && <NetworkError />}
        <button type="submit" disabled={loginState.loading}>
          {t("auth.signIn")}
        </button>
      </form>
      <p>
        <a href="#/forgot-password">{t("auth.forgot")}</a>
      </p>
      <p>
        {t("auth.noAccount")} <a href="#/sign-up">{t("auth.signUp")}</a>
      </p>
    </Page>
  );
}
