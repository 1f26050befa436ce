// The program: its rules and tiers as the server states them (Query.program, nothing hard-coded
// here), the member's tier (live); opt out (refused while cards are linked, naming them), join
// again, close the account, download the data export.
import { useApolloClient, useMutation, useQuery } from "@apollo/client/react";
import { useContext, useState, type FormEvent } from "react";
import {
  WebCloseAccountDocument,
  WebDataExportDocument,
  WebJoinProgramDocument,
  WebOptOutDocument,
  WebProgramDocument,
  WebViewerDocument,
  type WebProgramQuery,
} from "../gql/graphql";
import { formatDate, formatMoney, useI18n } from "../i18n";
import { TierProgress, useLiveTier } from "../tier";
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

type ProgramRules = WebProgramQuery["program"];

function Rules({ program, current }: { program: ProgramRules; current?: string }) {
  const { t, language } = useI18n();
  return (
    <section aria-labelledby="rules-title" className="card">
      <h2 id="rules-title">{t("rules.title", { program: program.name })}</h2>
      <ul>
        <li>{t("rules.earn", { amount: formatMoney(language, program.currencyUnitsPerPoint) })}</li>
        <li>{t("rules.pending", { days: program.pendingDays })}</li>
        <li>{t("rules.expiry", { days: program.expiryDays })}</li>
      </ul>
      <table data-testid="tiers">
        <caption className="visually-hidden">{t("rules.tiers")}</caption>
        <thead>
          <tr>
            <th scope="col">{t("rules.tier")}</th>
            <th scope="col">{t("rules.threshold")}</th>
            <th scope="col">{t("rules.multiplier")}</th>
            <th scope="col">{t("rules.benefits")}</th>
          </tr>
        </thead>
        <tbody>
          {program.tiers.map((tier) => (
            <tr key={tier.code} className={tier.code === current ? "current" : undefined}>
              <th scope="row">
                {tier.name}
                {tier.code === current && <span className="badge ok">{t("tier.yours")}</span>}
              </th>
              <td className="num">{formatMoney(language, tier.threshold)}</td>
              <td className="num">×{tier.pointsMultiplier}</td>
              <td>
                <ul>
                  {tier.benefits.map((benefit) => (
                    <li key={benefit}>{benefit}</li>
                  ))}
                </ul>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export default function Program() {
  const { t, language } = useI18n();
  const session = useContext(SessionContext);
  const apollo = useApolloClient();
  const { data, loading, error, refetch } = useQuery(WebViewerDocument);
  const rules = useQuery(WebProgramDocument);
  const tier = useLiveTier(rules.data?.me?.tier);
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
    void rules.refetch();
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
            {tier && <TierProgress status={tier} />}
            {tier && rules.data?.me?.tier && (
              <p className="hint">
                {t("tier.since", { date: formatDate(language, rules.data.me.tier.since) })} ·{" "}
                {t("tier.window", {
                  from: formatDate(language, rules.data.me.tier.windowStartsAt),
                  // windowEndsAt is exclusive (the next month's first instant): show its last day.
                  to: formatDate(language, new Date(Date.parse(rules.data.me.tier.windowEndsAt) - 1).toISOString()),
                })}
              </p>
            )}
            {rules.data && <Rules program={rules.data.program} current={tier?.tier.code} />}
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
                  onClick={() =>
                    void run("join", async () => (await join()).data?.joinProgram.userErrors).then(() => rules.refetch())
                  }
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
