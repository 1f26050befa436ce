// Cards: link with the verification code, block / unblock (live status), unlink.
import { useMutation, useQuery, useSubscription } from "@apollo/client/react";
import { useContext, useState, type FormEvent } from "react";
import {
  WebActivateCardDocument,
  WebCardStatusChangedDocument,
  WebDeactivateCardDocument,
  WebLinkCardDocument,
  WebUnlinkCardDocument,
  WebViewerDocument,
} from "../gql/graphql";
import { useI18n } from "../i18n";
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

export default function Cards() {
  const { t } = useI18n();
  const session = useContext(SessionContext);
  const { data, loading, error, refetch } = useQuery(WebViewerDocument);
  useSubscription(WebCardStatusChangedDocument);
  const refetchQueries = [WebViewerDocument];
  const [link, linking] = useMutation(WebLinkCardDocument, { refetchQueries });
  const [activate] = useMutation(WebActivateCardDocument);
  const [deactivate] = useMutation(WebDeactivateCardDocument);
  const [unlink] = useMutation(WebUnlinkCardDocument, { refetchQueries });
  const [errors, setErrors] = useState<readonly UserError[]>([]);
  const [network, setNetwork] = useState(false);

  async function run(action: () => Promise<readonly UserError[] | undefined>): Promise<boolean> {
    setNetwork(false);
    try {
      const problems = (await action()) ?? [];
      setErrors(problems);
      return problems.length === 0;
    } catch (failure) {
      setNetwork(mutationFailure(failure, session) === "network");
      return false;
    }
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const values = formValues(form);
    const ok = await run(async () => {
      const result = await link({
        variables: {
          input: {
            number: values.number.replace(/\s/g, ""),
            verificationCode: values.verificationCode.trim(),
            label: values.label.trim() || null,
          },
        },
      });
      return result.data?.linkCard.userErrors;
    });
    if (ok) form.reset();
  }

  const fieldErrors = byField(errors);
  const me = data?.me;
  return (
    <Page title={t("cards.title")}>
      <QueryState loading={loading && !data} error={error} signedOut={!!data && !me} retry={() => void refetch()}>
        {me && me.cards.length === 0 && <p>{t("app.none")}</p>}
        <ul className="list">
          {me?.cards.map((card) => (
            <li key={card.id} className="card row" data-testid="card">
              <span>
                {card.label && <strong>{card.label} </strong>}
                <span className="mono">{card.number}</span> ·{" "}
                <span data-testid="card-status">{t(`cards.status.${card.status}`)}</span>
              </span>
              <span className="actions">
                {card.status === "ACTIVE" ? (
                  <button
                    type="button"
                    onClick={() =>
                      void run(async () => (await deactivate({ variables: { cardId: card.id } })).data?.deactivateCard.userErrors)
                    }
                  >
                    {t("cards.deactivate")}
                  </button>
                ) : (
                  <button
                    type="button"
                    onClick={() =>
                      void run(async () => (await activate({ variables: { cardId: card.id } })).data?.activateCard.userErrors)
                    }
                  >
                    {t("cards.activate")}
                  </button>
                )}
                <button
                  type="button"
                  onClick={() =>
                    void run(async () => (await unlink({ variables: { cardId: card.id } })).data?.unlinkCard.userErrors)
                  }
                >
                  {t("cards.unlink")} <span className="visually-hidden">{card.label ?? card.number}</span>
                </button>
              </span>
            </li>
          ))}
        </ul>
      </QueryState>
      <h2>{t("cards.link")}</h2>
      <form onSubmit={submit} noValidate>
        <Field label={t("cards.number")} name="number" inputMode="numeric" autoComplete="off" errors={fieldErrors} />
        <Field label={t("cards.code")} name="verificationCode" autoComplete="off" errors={fieldErrors} />
        <Field label={t("cards.label")} name="label" errors={fieldErrors} />
        <FormErrors errors={fieldErrors} shown={["number", "verificationCode", "label"]} />
        {network && <NetworkError />}
        <button type="submit" disabled={linking.loading}>
          {t("cards.link")}
        </button>
      </form>
    </Page>
  );
}
