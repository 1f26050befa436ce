// Points history: the ledger, newest first, paged.
import { useQuery } from "@apollo/client/react";
import { WebPointsHistoryDocument } from "../gql/graphql";
import { formatDate, useI18n } from "../i18n";
import { appendPage } from "../paging";
import { Page, QueryState } from "../ui";

export default function PointsHistory() {
  const { t, language } = useI18n();
  const { data, loading, error, refetch, fetchMore } = useQuery(WebPointsHistoryDocument, { variables: { first: 20 } });
  const me = data?.me;
  const page = me?.pointsHistory;
  return (
    <Page title={t("points.title")}>
      <QueryState loading={loading && !data} error={error} signedOut={!!data && !me} retry={() => void refetch()}>
        {me && (
          <p>
            {t("points.lifetime")}: {me.points.lifetimeEarned} · {t("points.spent")}: {me.points.spent} ·{" "}
            {t("points.expired")}: {me.points.expired}
          </p>
        )}
        <table>
          <thead>
            <tr>
              <th scope="col">{t("purchases.date")}</th>
              <th scope="col">{t("points.kind")}</th>
              <th scope="col">{t("points.amount")}</th>
              <th scope="col">{t("purchases.store")}</th>
            </tr>
          </thead>
          <tbody>
            {page?.edges.map(({ node }) => (
              <tr key={node.id}>
                <td>{formatDate(language, node.occurredAt)}</td>
                <td>{t(`points.kind.${node.kind}`)}</td>
                <td className="num">{node.amount}</td>
                <td>{node.transaction?.storeId ?? "—"}</td>
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
                updateQuery: appendPage("pointsHistory"),
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
