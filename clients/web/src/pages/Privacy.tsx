// Privacy and notifications: where messages go (the bell always; email, SMS, push by choice),
// a switch per channel for service and marketing messages, each group saying what it holds, and
// the security notices, which are always sent and cannot be switched off.
import { useMutation, useQuery } from "@apollo/client/react";
import { useContext, useId, useState, type ReactNode } from "react";
import { WebSettingsDocument, WebUpdatePreferencesDocument, type UpdatePreferencesInput } from "../gql/graphql";
import { useI18n, type MessageKey } from "../i18n";
import { mutationFailure, NetworkError, Page, QueryState, SessionContext } from "../ui";

type Switch = keyof UpdatePreferencesInput;
const GROUPS: [MessageKey, MessageKey, [Switch, MessageKey][]][] = [
  [
    "privacy.service",
    "privacy.serviceHelp",
    [["notifyByEmail", "privacy.email"], ["notifyBySms", "privacy.sms"], ["notifyByPush", "privacy.push"]],
  ],
  [
    "privacy.marketing",
    "privacy.marketingHelp",
    [["marketingByEmail", "privacy.email"], ["marketingBySms", "privacy.sms"], ["marketingByPush", "privacy.push"]],
  ],
];

function Group({ legend, help, children }: { legend: MessageKey; help: MessageKey; children: ReactNode }) {
  const { t } = useI18n();
  const id = useId();
  return (
    <fieldset aria-describedby={id}>
      <legend>{t(legend)}</legend>
      <p className="hint" id={id}>
        {t(help)}
      </p>
      {children}
    </fieldset>
  );
}

export default function Privacy() {
  const { t } = useI18n();
  const session = useContext(SessionContext);
  const { data, loading, error, refetch } = useQuery(WebSettingsDocument);
  const [update] = useMutation(WebUpdatePreferencesDocument);
  const [network, setNetwork] = useState(false);
  const me = data?.me;

  async function flip(name: Switch, value: boolean) {
    setNetwork(false);
    try {
      await update({ variables: { input: { [name]: value } } });
    } catch (failure) {
      setNetwork(mutationFailure(failure, session) === "network");
    }
  }

  return (
    <Page title={t("privacy.title")}>
      {network && <NetworkError />}
      <QueryState loading={loading && !data} error={error} signedOut={!!data && !me} retry={() => void refetch()}>
        {me && (
          <>
            <p>{t("privacy.intro")}</p>
            <section className="card" aria-labelledby="channels-title">
              <h2 id="channels-title">{t("privacy.channels")}</h2>
              <ul className="channels" data-testid="channels">
                <li>{t("privacy.channel.inApp")}</li>
                <li>{t("privacy.channel.email", { email: me.email })}</li>
                <li>{me.phone ? t("privacy.channel.sms", { phone: me.phone }) : t("privacy.channel.smsNoPhone")}</li>
                <li>{t("privacy.channel.push")}</li>
              </ul>
            </section>
            {GROUPS.map(([legend, help, switches]) => (
              <Group key={legend} legend={legend} help={help}>
                {switches.map(([name, label]) => (
                  <label key={name} className="switch">
                    <input
                      type="checkbox"
                      role="switch"
                      name={name}
                      checked={me.preferences[name]}
                      onChange={(e) => void flip(name, e.target.checked)}
                    />{" "}
                    {t(label)}
                  </label>
                ))}
                {legend === "privacy.marketing" && !me.emailVerified && (
                  <p className="notice" data-testid="marketing-unverified">
                    {t("privacy.unverified")} <a href="#/profile">{t("privacy.verifyInProfile")}</a>
                  </p>
                )}
              </Group>
            ))}
            <Group legend="privacy.security" help="privacy.securityHelp">
              {(["privacy.email", "privacy.push"] as const).map((label) => (
                <label key={label} className="switch always">
                  <input type="checkbox" role="switch" checked disabled readOnly /> {t(label)}
                </label>
              ))}
            </Group>
          </>
        )}
      </QueryState>
    </Page>
  );
}
