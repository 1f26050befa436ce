// The member's tier and the progress to the next one (spend still needed, when the tier lapses),
// as the dashboard and the program page show it; both keep it live through tierChanged.
import { useSubscription } from "@apollo/client/react";
import { WebTierChangedDocument } from "./gql/graphql";
import { formatDate, formatMoney, useI18n } from "./i18n";

type TierRef = { code: string; name: string };
export type TierProgressStatus = {
  tier: TierRef;
  windowSpend: string;
  nextTier?: (TierRef & { threshold: string }) | null;
  spendToNextTier?: string | null;
  lapsesAt?: string | null;
};

/** The status a query read, replaced by each tierChanged message (a purchase moved the tier). */
export function useLiveTier<T extends TierProgressStatus>(read: T | null | undefined): TierProgressStatus | null {
  const live = useSubscription(WebTierChangedDocument, { skip: !read });
  return live.data?.tierChanged ?? read ?? null;
}

export function TierProgress({ status, headingLevel = 2 }: { status: TierProgressStatus; headingLevel?: 2 | 3 }) {
  const { t, language } = useI18n();
  const Heading = headingLevel === 2 ? "h2" : "h3";
  const next = status.nextTier;
  return (
    <section aria-labelledby="tier-title" className="card" data-testid="tier">
      <Heading id="tier-title">{t("tier.title")}</Heading>
      <p className="tier-name" data-testid="tier-name">
        {status.tier.name}
      </p>
      <p>
        {t("tier.windowSpend")}: <strong>{formatMoney(language, status.windowSpend)}</strong>
      </p>
      {next ? (
        <>
          <label className="progress">
            {t("tier.progress", { tier: next.name })}
            <progress max={Number(next.threshold)} value={Math.min(Number(status.windowSpend), Number(next.threshold))} />
          </label>
          <p data-testid="tier-to-next">
            {t("tier.toNext", { amount: formatMoney(language, status.spendToNextTier ?? "0"), tier: next.name })}
          </p>
        </>
      ) : (
        <p data-testid="tier-to-next">{t("tier.top")}</p>
      )}
      <p data-testid="tier-lapses">
        {status.lapsesAt ? t("tier.lapses", { date: formatDate(language, status.lapsesAt) }) : t("tier.kept")}
      </p>
    </section>
  );
}
