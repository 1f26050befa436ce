// Dashboard: profile summary, the tier with the progress to the next (live), cards, the points
// buckets (live over graphql-ws), latest purchases and offers.
import { useQuery, useSubscription } from "@apollo/client/react";
import { useRef } from "react";
import { WebDashboardDocument, WebPointsBalanceChangedDocument } from "../gql/graphql";
import { formatDate, formatMoney, useI18n } from "../i18n";
import { TierProgress, useLiveTier } from "../tier";
import { Page, QueryState } from "../ui";

export default function Dashboard() {
  const { t, language } = useI18n();
  const { data, loading, error, refetch } = useQuery(WebDashboardDocument);
  // The first message is the balance now; each later one follows a change (a purchase at a
  // till, say): the latest purchases are read again then.
  const updates = useRef(0);
  const live = useSubscription(WebPointsBalanceChangedDocument, {
    onData: () => {
      if (updates.current++ > 0) void refetch();
    },
  });
  const me = data?.me;
  const tier = useLiveTier(me?.tier);
  const points = live.data?.pointsBalanceChanged ?? me?.points;
  return (
    <QueryState loading={loading && !data} error={error} signedOut={!!data && !me} retry={() => void refetch()}>
      {me && points && (
        <Page title={t("dashboard.hello", { name: me.firstName })}>
          <p>
            {[me.firstName, me.lastName].join(" ")}
            {me.companyName ? ` · ${me.companyName}` : ""} · {t(`program.${me.programStatus}`)}
          </p>
          {tier && <TierProgress status={tier} />}
          <section aria-labelledby="points-title" className="card">
            <h2 id="points-title">{t("dashboard.points")}</h2>
            <dl className="points" aria-live="polite" data-testid="points">
              <div>
                <dt>{t("dashboard.available")}</dt>
                <dd data-testid="points-available">{points.available}</dd>
              </div>
              <div>
                <dt>{t("dashboard.pending")}</dt>
                <dd data-testid="points-pending">{points.pending}</dd>
              </div>
              <div>
                <dt>{t("dashboard.expiringSoon")}</dt>
                <dd>{points.expiringSoon}</dd>
              </div>
              <div>
                <dt>{t("dashboard.nextExpiry")}</dt>
                <dd>{formatDate(language, points.nextExpiryAt)}</dd>
              </div>
            </dl>
            {live.data && <p className="hint">{t("dashboard.live")}</p>}
          </section>
          <section aria-labelledby="cards-title" className="card">
            <h2 id="cards-title">{t("dashboard.cards")}</h2>
            {me.cards.length === 0 && <p>{t("app.none")}</p>}
            <ul>
              {me.cards.map((card) => (
                <li key={card.id}>
                  {card.label && `${card.label} · `}
                  <span className="mono">{card.number}</span> ·{" "}
                  {t(`cards.status.${card.status}`)}
                </li>
              ))}
            </ul>
          </section>
          <section aria-labelledby="latest-title" className="card">
            <h2 id="latest-title">{t("dashboard.latest")}</h2>
            {me.transactions.edges.length === 0 && <p>{t("app.none")}</p>}
            <ul>
              {me.transactions.edges.map(({ node }) => (
                <li key={node.id}>
                  {formatDate(language, node.occurredAt)} · {node.storeId} · {formatMoney(language, node.total)} · +
                  {node.pointsEarned}
                </li>
              ))}
            </ul>
          </section>
          <section aria-labelledby="offers-title" className="card">
            <h2 id="offers-title">{t("dashboard.offers")}</h2>
            <ul>
              {me.offers.edges.map(({ node }) => (
                <li key={node.id}>
                  {node.title}
                  {node.discountPercent ? ` · ${t("offers.discount", { percent: node.discountPercent })}` : ""} ·{" "}
                  {t("offers.until", { date: formatDate(language, node.validUntil) })}
                  {node.activated ? ` · ${t("offers.activated")}` : ""}
                </li>
              ))}
            </ul>
            <a href="#/offers">{t("nav.offers")}</a>
          </section>
        </Page>
      )}
    </QueryState>
  );
}
