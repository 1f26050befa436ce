// Privacy and notifications: one switch per channel, saved as it is flipped.
import { useMutation, useQuery } from "@apollo/client/react";
import { useContext, useState } from "react";
import { WebSettingsDocument, WebUpdatePreferencesDocument, type UpdatePreferencesInput } from "../gql/graphql";
import { useI18n, type MessageKey } from "../i18n";
import { mutationFailure, NetworkError, Page, QueryState, SessionContext } from "../ui";

type Switch = keyof UpdatePreferencesInput;
const GROUPS: [MessageKey, [Switch, MessageKey][]][] = [
  ["privacy.service", [["notifyByEmail", "privacy.email"], ["notifyBySms", "privacy.sms"], ["notifyByPush", "privacy.push"]]],
  ["privacy.marketing", [["marketingByEmail", "privacy.email"], ["marketingBySms", "privacy.sms"], ["marketingByPush", "privacy.push"]]],
];

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
        {me &&
          GROUPS.map(([legend, switches]) => (
            <fieldset key={legend}>
              <legend>{t(legend)}</legend>
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
            </fieldset>
          ))}
      </QueryState>
    </Page>
  );
}
