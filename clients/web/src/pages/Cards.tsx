// Cards: link with the verification code, get a digital card (its barcode shown), rename,
// block with a reason / unblock (live status), unlink.
import { useMutation, useQuery, useSubscription } from "@apollo/client/react";
import { useContext, useState, type FormEvent } from "react";
import { Barcode } from "../barcode";
import {
  WebActivateCardDocument,
  WebCardStatusChangedDocument,
  WebDeactivateCardDocument,
  WebLinkCardDocument,
  WebRenameCardDocument,
  WebRequestDigitalCardDocument,
  WebUnlinkCardDocument,
  WebViewerDocument,
  type CardDeactivationReason,
  type WebViewerQuery,
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

type CardRow = NonNullable<WebViewerQuery["me"]>["cards"][number];
type Run = (form: string, action: () => Promise<readonly UserError[] | undefined>) => Promise<boolean>;
const REASONS: CardDeactivationReason[] = ["LOST", "STOLEN", "OTHER"];

function CardItem({ card, run, errors }: { card: CardRow; run: Run; errors: Record<string, UserError[]> }) {
  const { t } = useI18n();
  const [activate] = useMutation(WebActivateCardDocument);
  const [deactivate] = useMutation(WebDeactivateCardDocument);
  const [unlink] = useMutation(WebUnlinkCardDocument, { refetchQueries: [WebViewerDocument] });
  const [rename] = useMutation(WebRenameCardDocument);
  const [renaming, setRenaming] = useState(false);
  const [reason, setReason] = useState<CardDeactivationReason | "">("");
  const name = card.label ?? card.number;

  async function submitRename(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const { label } = formValues(event.currentTarget);
    const ok = await run(
      `rename-${card.id}`,
      async () => (await rename({ variables: { cardId: card.id, label: label.trim() || null } })).data?.renameCard.userErrors,
    );
    if (ok) setRenaming(false);
  }

  return (
    <li className="card" data-testid="card">
      <div className="row">
        <span>
          {card.label && <strong>{card.label} </strong>}
          <span className="mono">{card.number}</span> · {t(`cards.kind.${card.kind}`)} ·{" "}
          <span data-testid="card-status">
            {t(`cards.status.${card.status}`)}
            {card.status === "INACTIVE" && card.deactivationReason && ` · ${t(`cards.reason.${card.deactivationReason}`)}`}
          </span>
        </span>
        <span className="actions">
          <button type="button" onClick={() => setRenaming(!renaming)} aria-expanded={renaming}>
            {t("cards.rename")} <span className="visually-hidden">{name}</span>
          </button>
          <button
            type="button"
            onClick={() =>
              void run("card", async () => (await unlink({ variables: { cardId: card.id } })).data?.unlinkCard.userErrors)
            }
          >
            {t("cards.unlink")} <span className="visually-hidden">{name}</span>
          </button>
        </span>
      </div>
      <div className="inline">
        {card.status === "ACTIVE" ? (
          <>
            <label>
              {t("cards.reason")} <span className="visually-hidden">{name}</span>
              <select value={reason} onChange={(e) => setReason(e.target.value as CardDeactivationReason | "")}>
                <option value="">{t("cards.reason.none")}</option>
                {REASONS.map((r) => (
                  <option key={r} value={r}>
                    {t(`cards.reason.${r}`)}
                  </option>
                ))}
              </select>
            </label>
            <button
              type="button"
              onClick={() =>
                void run(
                  "card",
                  async () =>
                    (await deactivate({ variables: { cardId: card.id, reason: reason || null } })).data?.deactivateCard
                      .userErrors,
                )
              }
            >
              {t("cards.deactivate")} <span className="visually-hidden">{name}</span>
            </button>
          </>
        ) : (
          <button
            type="button"
            onClick={() =>
              void run("card", async () => (await activate({ variables: { cardId: card.id } })).data?.activateCard.userErrors)
            }
          >
            {t("cards.activate")}
          </button>
        )}
      </div>
      {renaming && (
        <form className="inline" onSubmit={submitRename} noValidate>
          <Field
            label={t("cards.newName", { card: card.number })}
            name="label"
            defaultValue={card.label ?? ""}
            errors={errors}
            autoFocus
          />
          <button type="submit">{t("app.save")}</button>
          <button type="button" onClick={() => setRenaming(false)}>
            {t("cards.cancel")}
          </button>
          <FormErrors errors={errors} shown={["label"]} />
        </form>
      )}
      {card.kind === "DIGITAL" && <Barcode digits={card.barcode} label={t("cards.barcode", { number: card.number })} />}
    </li>
  );
}

export default function Cards() {
  const { t } = useI18n();
  const session = useContext(SessionContext);
  const { data, loading, error, refetch } = useQuery(WebViewerDocument);
  useSubscription(WebCardStatusChangedDocument);
  const refetchQueries = [WebViewerDocument];
  const [link, linking] = useMutation(WebLinkCardDocument, { refetchQueries });
  const [requestDigital, requesting] = useMutation(WebRequestDigitalCardDocument, { refetchQueries });
  const [errors, setErrors] = useState<{ form: string; list: readonly UserError[] }>({ form: "", list: [] });
  const [issued, setIssued] = useState<string | null>(null);
  const [network, setNetwork] = useState(false);

  const run: Run = async (form, action) => {
    setNetwork(false);
    try {
      const list = (await action()) ?? [];
      setErrors({ form, list });
      return list.length === 0;
    } catch (failure) {
      setNetwork(mutationFailure(failure, session) === "network");
      return false;
    }
  };
  const errorsOf = (form: string) => byField(errors.form === form ? errors.list : []);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const values = formValues(form);
    const ok = await run("link", async () => {
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

  async function getDigitalCard() {
    setIssued(null);
    let number: string | undefined;
    await run("digital", async () => {
      const result = (await requestDigital()).data?.requestDigitalCard;
      number = result?.card?.number;
      return result?.userErrors;
    });
    if (number) setIssued(number);
  }

  const linkErrors = errorsOf("link");
  const me = data?.me;
  return (
    <Page title={t("cards.title")}>
      {network && <NetworkError />}
      <QueryState loading={loading && !data} error={error} signedOut={!!data && !me} retry={() => void refetch()}>
        {me && me.cards.length === 0 && <p>{t("app.none")}</p>}
        <FormErrors errors={errorsOf("card")} />
        <ul className="list">
          {me?.cards.map((card) => (
            <CardItem key={card.id} card={card} run={run} errors={errorsOf(`rename-${card.id}`)} />
          ))}
        </ul>
      </QueryState>
      <section aria-labelledby="digital-title" className="card">
        <h2 id="digital-title">{t("cards.digital")}</h2>
        <p>{t("cards.digitalHelp")}</p>
        <FormErrors errors={errorsOf("digital")} />
        {issued && (
          <p role="status" className="notice">
            {t("cards.digitalIssued", { number: issued })}
          </p>
        )}
        <button type="button" onClick={() => void getDigitalCard()} disabled={requesting.loading}>
          {t("cards.requestDigital")}
        </button>
      </section>
      <h2>{t("cards.link")}</h2>
      <form onSubmit={submit} noValidate>
        <Field label={t("cards.number")} name="number" inputMode="numeric" autoComplete="off" errors={linkErrors} />
        <Field label={t("cards.code")} name="verificationCode" autoComplete="off" errors={linkErrors} />
        <Field label={t("cards.label")} name="label" errors={linkErrors} />
        <FormErrors errors={linkErrors} shown={["number", "verificationCode", "label"]} />
        <button type="submit" disabled={linking.loading}>
          {t("cards.link")}
        </button>
      </form>
    </Page>
  );
}
