// Sign up: one round trip, every field's problem shown beside it at once; nothing typed is lost.
// The page's language becomes the member's language of mail and notices.
import { useMutation } from "@apollo/client/react";
import { useState, type FormEvent } from "react";
import { WebRegisterDocument } from "../gql/graphql";
import { toApiLanguage, useI18n, type MessageKey } from "../i18n";
import { byField, Field, FormErrors, formValues, NetworkError, Page, type UserError } from "../ui";

const FIELDS: [string, MessageKey, string, string][] = [
  ["email", "auth.email", "email", "username"],
  ["password", "auth.password", "password", "new-password"],
  ["firstName", "field.firstName", "text", "given-name"],
  ["lastName", "field.lastName", "text", "family-name"],
  ["phone", "field.phone", "tel", "tel"],
  ["companyName", "field.companyName", "text", "organization"],
  ["taxId", "field.taxId", "text", "off"],
];

export default function SignUp({ onSignedIn }: { onSignedIn: () => void }) {
  const { t, language } = useI18n();
  const [register, { loading }] = useMutation(WebRegisterDocument);
  const [errors, setErrors] = useState<readonly UserError[]>([]);
  const [network, setNetwork] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const values = formValues(event.currentTarget);
    const optional = (name: string) => values[name]?.trim() || null;
    setNetwork(false);
    try {
      const { data } = await register({
        variables: {
          input: {
            email: values.email,
            password: values.password,
            firstName: values.firstName,
            lastName: values.lastName,
            phone: optional("phone"),
            companyName: optional("companyName"),
            taxId: optional("taxId"),
            acceptTerms: values.acceptTerms === "on",
            sessionTransport: "COOKIE",
            // Mail and notices in the language the member reads this page in.
            language: toApiLanguage(language),
          },
        },
      });
      setErrors(data?.register.userErrors ?? []);
      if (data?.register.member) onSignedIn();
    } catch {
      setNetwork(true);
    }
  }

  const fieldErrors = byField(errors);
  return (
    <Page title={t("auth.signUp")}>
      <form onSubmit={submit} noValidate>
        {FIELDS.map(([name, label, type, autoComplete]) => (
          <Field key={name} label={t(label)} name={name} type={type} autoComplete={autoComplete} errors={fieldErrors} />
        ))}
        <Field label={t("field.acceptTerms")} name="acceptTerms" type="checkbox" errors={fieldErrors} />
        <FormErrors errors={fieldErrors} shown={[...FIELDS.map(([name]) => name), "acceptTerms"]} />
        {network && <NetworkError />}
        <button type="submit" disabled={loading}>
          {t("auth.signUp")}
        </button>
      </form>
      <p>
        {t("auth.haveAccount")} <a href="#/">{t("auth.signIn")}</a>
      </p>
    </Page>
  );
}
