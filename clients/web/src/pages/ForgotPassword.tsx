// "Forgot password": one address in, the same answer whether or not an account uses it.
import { useMutation } from "@apollo/client/react";
import { useState, type FormEvent } from "react";
import { WebRequestPasswordResetDocument } from "../gql/graphql";
import { useI18n } from "../i18n";
import { byField, Field, FormErrors, formValues, NetworkError, Page, type UserError } from "../ui";

export default function ForgotPassword() {
  const { t } = useI18n();
  const [request, requesting] = useMutation(WebRequestPasswordResetDocument);
  const [errors, setErrors] = useState<readonly UserError[]>([]);
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [network, setNetwork] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const { email } = formValues(event.currentTarget);
    setNetwork(false);
    setSentTo(null);
    try {
      const { data } = await request({ variables: { email: email.trim() } });
      const problems = data?.requestPasswordReset.userErrors ?? [];
      setErrors(problems);
      if (data?.requestPasswordReset.ok && problems.length === 0) setSentTo(email.trim());
    } catch {
      setNetwork(true);
    }
  }

  const fieldErrors = byField(errors);
  return (
    <Page title={t("forgot.title")}>
      <p>{t("forgot.help")}</p>
      <form onSubmit={submit} noValidate>
        <Field label={t("auth.email")} name="email" type="email" autoComplete="username" required errors={fieldErrors} />
        <FormErrors errors={fieldErrors} shown={["email"]} />
        {network && <NetworkError />}
        {sentTo && (
          <p className="notice" role="status">
            {t("forgot.sent", { email: sentTo })}
          </p>
        )}
        <button type="submit" disabled={requesting.loading}>
          {t("forgot.send")}
        </button>
      </form>
      <p>
        <a href="#/">{t("forgot.back")}</a>
      </p>
    </Page>
  );
}
