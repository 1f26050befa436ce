// Rewards: the catalogue (cheapest first; "affordable now" filter), and the redeem flow: a
// confirmation, then the new coupon with its code and barcode. One idempotency key per attempt,
// so a double click or a retry after a network failure gives the same coupon.
import { useMutation, useQuery, useSubscription } from "@apollo/client/react";
import { useContext, useState } from "react";
import { Code128 } from "../barcode";
import {
  WebPointsBalanceChangedDocument,
  WebRedeemRewardDocument,
  WebRewardsDocument,
  type WebRedeemRewardMutation,
} from "../gql/graphql";
import { errorMessage, formatDate, useI18n } from "../i18n";
import { mutationFailure, NetworkError, Page, QueryState, SessionContext } from "../ui";

type NewCoupon = NonNullable<WebRedeemRewardMutation["redeemReward"]["coupon"]>;
type Attempt = { rewardId: string; title: string; cost: number; key: string };

/** A fresh idempotency key (crypto.getRandomValues works outside secure contexts too). */
function newKey(): string {
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export default function Rewards() {
  const { t, language } = useI18n();
  const session = useContext(SessionContext);
  const [affordable, setAffordable] = useState(false);
  const { data, loading, error, refetch } = useQuery(WebRewardsDocument, {
    variables: { first: 50, affordable: affordable || null },
  });
  const live = useSubscription(WebPointsBalanceChangedDocument);
  const [redeem, redeeming] = useMutation(WebRedeemRewardDocument);
  const [attempt, setAttempt] = useState<Attempt | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [coupon, setCoupon] = useState<NewCoupon | null>(null);
  const me = data?.me;
  const available = live.data?.pointsBalanceChanged.available ?? me?.points.available;
  const tierName = (code: string) => data?.program.tiers.find((tier) => tier.code === code)?.name ?? code;

  async function confirm() {
    if (!attempt || redeeming.loading) return;
    setProblem(null);
    try {
      const result = await redeem({ variables: { input: { rewardId: attempt.rewardId, idempotencyKey: attempt.key } } });
      const payload = result.data?.redeemReward;
      const first = payload?.userErrors[0];
      if (first) {
        setProblem(errorMessage(t, first.code, first.message));
        setAttempt(null);
      } else if (payload?.coupon) {
        setCoupon(payload.coupon);
        setAttempt(null);
        void refetch();
      }
    } catch (failure) {
      // The attempt (and its key) stays: "Confirm" again retries it and cannot buy twice.
      if (mutationFailure(failure, session) === "network") setProblem("network");
    }
  }

  return (
    <Page title={t("rewards.title")}>
      <p className="card" aria-live="polite">
        {t("rewards.balance")} <strong data-testid="rewards-balance">{available ?? "—"}</strong>
      </p>
      {problem === "network" ? (
        <NetworkError />
      ) : (
        problem && (
          <p className="form-error" role="alert" data-testid="rewards-error">
            {problem}
          </p>
        )
      )}
      {attempt && (
        <section className="card" aria-labelledby="confirm-title" data-testid="redeem-confirm">
          <h2 id="confirm-title">{t("rewards.confirmTitle")}</h2>
          <p>{t("rewards.confirmText", { title: attempt.title, cost: attempt.cost })}</p>
          <button type="button" onClick={() => void confirm()} disabled={redeeming.loading}>
            {t("rewards.confirm")}
          </button>{" "}
          <button type="button" onClick={() => setAttempt(null)} disabled={redeeming.loading}>
            {t("rewards.keep")}
          </button>
        </section>
      )}
      {coupon && (
        <section className="card" aria-labelledby="coupon-title" data-testid="new-coupon" role="status">
          <h2 id="coupon-title">{t("rewards.done", { title: coupon.reward.title })}</h2>
          <p>
            {t("wallet.code")} <strong className="mono" data-testid="new-coupon-code">{coupon.code}</strong> ·{" "}
            {t("wallet.validUntil", { date: formatDate(language, coupon.validUntil) })}
          </p>
          <Code128 text={coupon.barcode} label={t("wallet.barcode", { code: coupon.code })} />
          <p>
            <a href="#/wallet">{t("rewards.toWallet")}</a>
          </p>
        </section>
      )}
      <div className="field checkbox filters">
        <input
          id="rewards-affordable"
          type="checkbox"
          checked={affordable}
          onChange={(e) => setAffordable(e.target.checked)}
        />
        <label htmlFor="rewards-affordable">{t("rewards.affordable")}</label>
      </div>
      <QueryState loading={loading && !data} error={error} signedOut={!!data && !me} retry={() => void refetch()}>
        {data && data.rewards.edges.length === 0 && <p>{t("app.none")}</p>}
        <ul className="list" data-testid="rewards">
          {data?.rewards.edges.map(({ node }) => (
            <li key={node.id} className="card row" data-testid="reward">
              <span>
                <strong>{node.title}</strong>
                {node.minimumTier && (
                  <span className="badge" data-testid="reward-minimum-tier">
                    {t("offers.minimumTier", { tier: tierName(node.minimumTier) })}
                  </span>
                )}
                <br />
                {node.description}
                <br />
                <span data-testid="reward-cost">{t("rewards.cost", { cost: node.cost })}</span> ·{" "}
                <span data-testid="reward-remaining">
                  {node.remaining === null || node.remaining === undefined
                    ? t("rewards.unlimited")
                    : t("rewards.left", { count: node.remaining })}
                </span>{" "}
                · {node.validUntil ? t("offers.until", { date: formatDate(language, node.validUntil) }) : t("rewards.always")}{" "}
                · {t("rewards.couponDays", { days: node.couponValidDays })}
              </span>
              <span>
                {!node.redeemable && <span className="hint">{t("rewards.notNow")} </span>}
                <button
                  type="button"
                  onClick={() => {
                    setProblem(null);
                    setCoupon(null);
                    setAttempt({ rewardId: node.id, title: node.title, cost: node.cost, key: newKey() });
                  }}
                >
                  {t("rewards.redeem")} <span className="visually-hidden">{node.title}</span>
                </button>
              </span>
            </li>
          ))}
        </ul>
      </QueryState>
    </Page>
  );
}
