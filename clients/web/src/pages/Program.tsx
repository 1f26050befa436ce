// The program: opt out (refused while cards are linked, naming them), join again, close the
// account, download the data export.
import { useApolloClient, useMutation, useQuery } from "@apollo/client/react";
import { useContext, useState, type FormEvent } from "react";
import {
  WebCloseAccountDocument,
  WebDataExportDocument,
  WebJoinProgramDocument,
  WebOptOutDocument,
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

export default function Program() {
  const { t } = useI18n();
  const session = useContext(SessionContext);
  const apollo = useApolloClient();
  const { data, loading, error, refetch } = useQuery(WebViewerDocument);
  const [optOut] = useMutation(WebOptOutDocument);
  const [join] = useMutation(WebJoinProgramDocument);
  const [close] = useMutation(WebCloseAccountDocument);
  const [errors, setErrors] = useState<{ form: string; list: readonly UserError[] }>({ form: "", list: [] });
  const [network, setNetwork] = useState(false);
  const me = data?.me;

  async function run(form: string, action: () => Promise<readonly UserError[] | undefined>): Promise<boolean> {
    setNetwork(false);
    try {
      const list = (await action()) ?? [];
      setErrors({ form, list });
      return list.length === 0;
    } catch (failure) {
      setNetwork(mutationFailure(failure, session) === "network");
      return false;
    }
  }
  const errorsOf = (form: string) => byField(errors.form === form ? errors.list : []);
  const cardsStillLinked = errors.form === "optOut" && errors.list.some((e) => e.code === "CARDS_STILL_LINKED");

  async function submitOptOut(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const { password } = formValues(event.currentTarget);
    await run("optOut", async () => (await optOut({ variables: { password } })).data?.optOut.userErrors);
  }
  async function submitClose(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const { password } = formValues(event.currentTarget);
    const ok = await run("close", async () => (await close({ variables: { password } })).data?.closeAccount.userErrors);
    if (ok) session.expired();
  }
  async function download() {
    setNetwork(false);
    try {
      const result = await apollo.query({ query: WebDataExportDocument, fetchPolicy: "network-only" });
      const blob = new Blob([JSON.stringify(result.data?.me?.dataExport, null, 2)], { type: "application/json" });
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = "my-data.json";
      link.click();
      URL.revokeObjectURL(link.href);
    } catch {
      setNetwork(true);
    }
  }

  const optOutErrors = errorsOf("optOut");
  delete optOutErrors[""];
  return (
    <Page title={t("programPage.title")}>
      {network && <NetworkError />}
      <QueryState loading={loading && !data} error={error} signedOut={!!data && !me} retry={() => void refetch()}>
        {me && (
          <>
            <p data-testid="program-status">{t("programPage.status", { status: t(`program.${me.programStatus}`) })}</p>
            {me.programStatus === "ENROLLED" ? (
              <section aria-labelledby="optout-title" className="card">
                <h2 id="optout-title">{t("programPage.optOut")}</h2>
                <p>{t("programPage.optOutHelp")}</p>
                {cardsStillLinked && (
                  <p className="form-error" role="alert">
                    {t("programPage.cardsStillLinked", {
                      cards: me.cards.map((card) => `${card.label ?? card.number} (${card.number})`).join(", "),
                    })}{" "}
                    <a href="#/cards">{t("nav.cards")}</a>
                  </p>
                )}
                <form onSubmit={submitOptOut} noValidate>
                  <Field label={t("auth.password")} name="password" type="password" autoComplete="current-password" errors={optOutErrors} />
                  <FormErrors errors={optOutErrors} shown={["password"]} />
                  <button type="submit">{t("programPage.optOut")}</button>
                </form>
              </section>
            ) : (
              <section aria-labelledby="join-title" className="card">
                <h2 id="join-title">{t("programPage.join")}</h2>
                <FormErrors errors={errorsOf("join")} />
                <button
                  type="button"
                  onClick={() => void run("join", async () => (await join()).data?.joinProgram.userErrors)}
                >
                  {t("programPage.join")}
                </button>
              </section>
            )}
            <section aria-labelledby="export-title" className="card">
              <h2 id="export-title">{t("programPage.export")}</h2>
              <p>{t("programPage.exportHelp")}</p>
              <button type="button" onClick={() => void download()}>
                {t("programPage.export")}
              </button>
            </section>
            <section aria-labelledby="close-title" className="card danger">
              <h2 id="close-title">{t("programPage.close")}</h2>
              <p>{t("programPage.closeHelp")}</p>
              <form onSubmit={submitClose} noValidate>
                <Field label={t("auth.password")} name="password" type="password" autoComplete="current-password" errors={errorsOf("close")} />
                <FormErrors errors={errorsOf("close")} shown={["password"]} />
                <button type="submit" className="danger">
                  {t("programPage.close")}
                </button>
              </form>
            </section>
          </>
        )}
      </QueryState>
    </Page>
  );
}
