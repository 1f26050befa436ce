// Profile: names, phone, company, INN.
import { useMutation, useQuery } from "@apollo/client/react";
import { useContext, useState, type FormEvent } from "react";
import { WebSettingsDocument, WebUpdateProfileDocument } from "../gql/graphql";
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
        {me && (
          <form onSubmit={submit} noValidate>
            <p>
              {t("auth.email")}: {me.email}
            </p>
            {FIELDS.map(([name, label]) => (
              <Field key={name} label={t(label)} name={name} defaultValue={me[name] ?? ""} errors={fieldErrors} />
            ))}
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
