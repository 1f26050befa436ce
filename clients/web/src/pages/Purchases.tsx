// Purchases: paged history, filtered by card.
import { useQuery } from "@apollo/client/react";
import { useState } from "react";
import { WebTransactionsDocument } from "../gql/graphql";
import { formatDate, formatMoney, useI18n } from "../i18n";
import { appendPage } from "../paging";
import { Page, QueryState } from "../ui";

export default function Purchases() {
  const { t, language } = useI18n();
  const [cardId, setCardId] = useState<string | null>(null);
  const { data, loading, error, refetch, fetchMore } = useQuery(WebTransactionsDocument, {
    variables: { first: 20, cardId },
  });
  const me = data?.me;
  const page = me?.transactions;
  return (
    <Page title={t("purchases.title")}>
      <QueryState loading={loading && !data} error={error} signedOut={!!data && !me} retry={() => void refetch()}>
        <label>
          {t("purchases.filter")}{" "}
          <select value={cardId ?? ""} onChange={(e) => setCardId(e.target.value || null)}>
            <option value="">{t("purchases.allCards")}</option>
            {me?.cards.map((card) => (
              <option key={card.id} value={card.id}>
                {card.label ?? card.number}
              </option>
            ))}
          </select>
        </label>
        <table>
          <thead>
            <tr>
              <th scope="col">{t("purchases.date")}</th>
              <th scope="col">{t("purchases.store")}</th>
              <th scope="col">{t("purchases.card")}</th>
              <th scope="col">{t("purchases.total")}</th>
              <th scope="col">{t("purchases.earned")}</th>
              <th scope="col">{t("purchases.redeemed")}</th>
            </tr>
          </thead>
          <tbody>
            {page?.edges.map(({ node }) => (
              <tr key={node.id}>
                <td>{formatDate(language, node.occurredAt)}</td>
                <td>{node.storeId}</td>
                <td>{node.card?.label ?? node.card?.number ?? "—"}</td>
                <td className="num">{formatMoney(language, node.total)}</td>
                <td className="num">{node.pointsEarned}</td>
                <td className="num">{node.pointsRedeemed}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {page?.pageInfo.hasNextPage && (
          <button
            type="button"
            onClick={() =>
              void fetchMore({
                variables: { after: page.pageInfo.endCursor },
                updateQuery: appendPage("transactions"),
              })
            }
          >
            {t("app.more")}
          </button>
        )}
      </QueryState>
    </Page>
  );
}
