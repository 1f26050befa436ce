// Offers: public, exclusive (members only) and personal; activate.
import { useMutation, useQuery } from "@apollo/client/react";
import { useContext, useState } from "react";
import { WebActivateOfferDocument, WebOffersDocument } from "../gql/graphql";
import { errorMessage, formatDate, useI18n } from "../i18n";
import { mutationFailure, NetworkError, Page, QueryState, SessionContext } from "../ui";

export default function Offers() {
  const { t, language } = useI18n();
  const session = useContext(SessionContext);
  const { data, loading, error, refetch } = useQuery(WebOffersDocument, { variables: { first: 50 } });
  const [activate] = useMutation(WebActivateOfferDocument);
  const [problem, setProblem] = useState<string | null>(null);
  const me = data?.me;

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
      <QueryState loading={loading && !data} error={error} signedOut={!!data && !me} retry={() => void refetch()}>
        <ul className="list">
          {me?.offers.edges.map(({ node }) => (
            <li key={node.id} className="card row">
              <span>
                <strong>{node.title}</strong>
                {node.exclusive && <span className="badge">{t("offers.exclusive")}</span>}
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
