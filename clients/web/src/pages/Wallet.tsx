// The wallet: the member's coupons by status, newest first; each active coupon with its code and
// barcode for the till, its validity and a cancel (points back) after a confirmation. Live:
// couponChanged (used at a till, issued, cancelled) and the points balance.
import { useMutation, useQuery, useSubscription } from "@apollo/client/react";
import { useContext, useState } from "react";
import { Code128 } from "../barcode";
import {
  WebCancelCouponDocument,
  WebCouponChangedDocument,
  WebPointsBalanceChangedDocument,
  WebWalletDocument,
  type CouponStatus,
} from "../gql/graphql";
import { errorMessage, formatDate, useI18n } from "../i18n";
import { mutationFailure, NetworkError, Page, QueryState, SessionContext } from "../ui";

const STATUSES = ["ACTIVE", "USED", "EXPIRED", "CANCELLED"] as const;

export default function Wallet() {
  const { t, language } = useI18n();
  const session = useContext(SessionContext);
  const [status, setStatus] = useState<CouponStatus | null>(null);
  const { data, loading, error, refetch } = useQuery(WebWalletDocument, { variables: { first: 50, status } });
  // The coupon's new status lands in the cache by its id; the list is read again so a filtered
  // view gains or loses it.
  useSubscription(WebCouponChangedDocument, { onData: () => void refetch() });
  const live = useSubscription(WebPointsBalanceChangedDocument);
  const [cancel, cancelling] = useMutation(WebCancelCouponDocument);
  const [asking, setAsking] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const me = data?.me;

  async function cancelCoupon(couponId: string) {
    setProblem(null);
    try {
      const result = await cancel({ variables: { input: { couponId } } });
      const first = result.data?.cancelCoupon.userErrors[0];
      if (first) setProblem(errorMessage(t, first.code, first.message));
      setAsking(null);
      void refetch();
    } catch (failure) {
      if (mutationFailure(failure, session) === "network") setProblem("network");
    }
  }

  return (
    <Page title={t("wallet.title")}>
      <p className="card" aria-live="polite">
        {t("rewards.balance")}{" "}
        <strong data-testid="wallet-balance">{live.data?.pointsBalanceChanged.available ?? me?.points.available ?? "—"}</strong>
      </p>
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
        <select value={status ?? ""} onChange={(e) => setStatus((e.target.value || null) as CouponStatus | null)}>
          <option value="">{t("wallet.status.ALL")}</option>
          {STATUSES.map((option) => (
            <option key={option} value={option}>
              {t(`wallet.status.${option}`)}
            </option>
          ))}
        </select>
      </label>
      <QueryState loading={loading && !data} error={error} signedOut={!!data && !me} retry={() => void refetch()}>
        {me && me.coupons.edges.length === 0 && <p>{t("app.none")}</p>}
        <ul className="list" data-testid="coupons">
          {me?.coupons.edges.map(({ node }) => (
            <li key={node.id} className="card" data-testid="coupon" data-code={node.code}>
              <strong>{node.reward.title}</strong>
              <span className={node.status === "ACTIVE" ? "badge ok" : "badge"} data-testid="coupon-status">
                {t(`wallet.is.${node.status}`)}
              </span>
              <br />
              {t("wallet.code")} <span className="mono">{node.code}</span> ·{" "}
              {t("wallet.spent", { points: node.pointsSpent })} ·{" "}
              {node.status === "USED"
                ? t("wallet.usedAt", { date: formatDate(language, node.usedAt) })
                : node.status === "CANCELLED"
                  ? t("wallet.cancelledAt", { date: formatDate(language, node.cancelledAt) })
                  : t("wallet.validUntil", { date: formatDate(language, node.validUntil) })}
              {node.status === "ACTIVE" && (
                <>
                  <br />
                  <Code128 text={node.barcode} label={t("wallet.barcode", { code: node.code })} />
                  <br />
                  {asking === node.id ? (
                    <span role="group" aria-label={t("wallet.cancelTitle")} data-testid="cancel-confirm">
                      {t("wallet.cancelText", { points: node.pointsSpent })}{" "}
                      <button type="button" onClick={() => void cancelCoupon(node.id)} disabled={cancelling.loading}>
                        {t("wallet.cancelYes")}
                      </button>{" "}
                      <button type="button" onClick={() => setAsking(null)}>
                        {t("wallet.cancelNo")}
                      </button>
                    </span>
                  ) : (
                    <button type="button" onClick={() => setAsking(node.id)}>
                      {t("wallet.cancel")} <span className="visually-hidden">{node.reward.title}</span>
                    </button>
                  )}
                </>
              )}
            </li>
          ))}
        </ul>
      </QueryState>
    </Page>
  );
}
