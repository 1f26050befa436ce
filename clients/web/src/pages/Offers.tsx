// Offers: public, exclusive (members only) and personal, filtered by kind, each with the lowest
// tier it needs (the tier's name as the program states it); activate.
import { useMutation, useQuery } from "@apollo/client/react";
import { useContext, useState } from "react";
import { WebActivateOfferDocument, WebOffersDocument, type OfferKind } from "../gql/graphql";
import { errorMessage, formatDate, useI18n } from "../i18n";
import { mutationFailure, NetworkError, Page, QueryState, SessionContext } from "../ui";

export default function Offers() {
  const { t, language } = useI18n();
  const session = useContext(SessionContext);
  const [kind, setKind] = useState<OfferKind | null>(null);
  const { data, loading, error, refetch } = useQuery(WebOffersDocument, { variables: { first: 50, kind } });
  const [activate] = useMutation(WebActivateOfferDocument);
  const [problem, setProblem] = useState<string | null>(null);
  const me = data?.me;
  const tierName = (code: string) => data?.program.tiers.find((tier) => tier.code === code)?.name ?? code;

  async function activateOffer(offerId: string) {
    setProblem(null);
    try {
      const result = await activate({ variables: { offerId } });
      const first = result.data?.activateOffer.userErrors[0];
      if (first) setProblem(errorMessage(t, first.code, first.message));
    } catch (failure) {
      if (mutationFailure(failure, session) === "network") setProblem("network");
    }
  }

  return (
    <Page title={t("offers.title")}>
      {problem === "network" ? (
        <NetworkError />
      ) : (
        problem && (
          <p className="form-error" role="alert">
            {problem}
          </p>
        )
      )}
      <label className="filters">
        {t("offers.filter")}
        <select value={kind ?? ""} onChange={(e) => setKind((e.target.value || null) as OfferKind | null)}>
          <option value="">{t("offers.kind.ALL")}</option>
          {(["PUBLIC", "EXCLUSIVE", "PERSONAL"] as const).map((option) => (
            <option key={option} value={option}>
              {t(`offers.kind.${option}`)}
            </option>
          ))}
        </select>
      </label>
      <QueryState loading={loading && !data} error={error} signedOut={!!data && !me} retry={() => void refetch()}>
        {me && me.offers.edges.length === 0 && <p>{t("app.none")}</p>}
        <ul className="list" data-testid="offers">
          {me?.offers.edges.map(({ node }) => (
            <li key={node.id} className="card row" data-testid="offer">
              <span>
                <strong>{node.title}</strong>
                {node.kind !== "PUBLIC" && <span className="badge">{t(`offers.kind.${node.kind}`)}</span>}
                {node.minimumTier && (
                  <span className="badge" data-testid="offer-minimum-tier">
                    {t("offers.minimumTier", { tier: tierName(node.minimumTier) })}
                  </span>
                )}
                <br />
                {node.description}
                <br />
                {node.discountPercent ? `${t("offers.discount", { percent: node.discountPercent })} · ` : ""}
                {t("offers.until", { date: formatDate(language, node.validUntil) })}
              </span>
              {node.activated ? (
                <span className="badge ok">{t("offers.activated")}</span>
              ) : (
                <button type="button" onClick={() => void activateOffer(node.id)}>
                  {t("offers.activate")} <span className="visually-hidden">{node.title}</span>
                </button>
              )}
            </li>
          ))}
        </ul>
      </QueryState>
    </Page>
  );
}
