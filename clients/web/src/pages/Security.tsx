// Security: two-factor setup (QR code, recovery codes) or turning it off, change password,
// devices (sessions) with revoke.
import { useMutation, useQuery } from "@apollo/client/react";
import qrcode from "qrcode-generator";
import { useContext, useState, type FormEvent } from "react";
import {
  WebChangePasswordDocument,
  WebConfirmTwoFactorSetupDocument,
  WebDisableTwoFactorDocument,
  WebRevokeSessionDocument,
  WebSettingsDocument,
  WebStartTwoFactorSetupDocument,
} from "../gql/graphql";
import { formatDate, useI18n } from "../i18n";
import {
  byField,
  Field,
  FormErrors,
  formValues,
  mutationFailure,
  NetworkError,
  Page,
  QueryState,
  SessionContext,
  type UserError,
} from "../ui";

function QrCode({ text, label }: { text: string; label: string }) {
  const qr = qrcode(0, "M");
  qr.addData(text);
  qr.make();
  return <img className="qr" src={qr.createDataURL(5, 2)} alt={label} width={qr.getModuleCount() * 5 + 20} />;
}

export default function Security() {
  const { t, language } = useI18n();
  const session = useContext(SessionContext);
  const { data, loading, error, refetch } = useQuery(WebSettingsDocument);
  const refetchQueries = [WebSettingsDocument];
  const [start] = useMutation(WebStartTwoFactorSetupDocument);
  const [confirm] = useMutation(WebConfirmTwoFactorSetupDocument, { refetchQueries });
  const [disable] = useMutation(WebDisableTwoFactorDocument, { refetchQueries });
  const [changePassword] = useMutation(WebChangePasswordDocument, { refetchQueries });
  const [revoke] = useMutation(WebRevokeSessionDocument);
  const [setup, setSetup] = useState<{ secret: string; uri: string } | null>(null);
  const [recoveryCodes, setRecoveryCodes] = useState<readonly string[] | null>(null);
  const [errors, setErrors] = useState<{ form: string; list: readonly UserError[] }>({ form: "", list: [] });
  const [notice, setNotice] = useState<string | null>(null);
  const [network, setNetwork] = useState(false);
  const me = data?.me;

  async function run(form: string, action: () => Promise<readonly UserError[] | undefined>): Promise<boolean> {
    setNetwork(false);
    setNotice(null);
    try {
      const list = (await action()) ?? [];
      setErrors({ form, list });
      return list.length === 0;
    } catch (failure) {
      setNetwork(mutationFailure(failure, session) === "network");
      return false;
    }
  }
  const errorsOf = (form: string) => byField(errors.form === form ? errors.list : []);

  async function startSetup() {
    await run("setup", async () => {
      const payload = (await start()).data?.startTwoFactorSetup;
      if (payload?.secret && payload.provisioningUri) setSetup({ secret: payload.secret, uri: payload.provisioningUri });
      return payload?.userErrors;
    });
  }
  async function confirmSetup(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const { code } = formValues(event.currentTarget);
    await run("setup", async () => {
      const payload = (await confirm({ variables: { code: code.trim() } })).data?.confirmTwoFactorSetup;
      if (payload?.recoveryCodes) {
        setRecoveryCodes(payload.recoveryCodes);
        setSetup(null);
      }
      return payload?.userErrors;
    });
  }
  async function disableTwoFactor(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const { password, code } = formValues(event.currentTarget);
    await run("disable", async () => (await disable({ variables: { password, code: code.trim() } })).data?.disableTwoFactor.userErrors);
  }
  async function submitPassword(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const { currentPassword, newPassword } = formValues(form);
    const ok = await run(
      "password",
      async () => (await changePassword({ variables: { currentPassword, newPassword } })).data?.changePassword.userErrors,
    );
    if (ok) {
      form.reset();
      setNotice(t("security.passwordChanged"));
    }
  }

  return (
    <Page title={t("security.title")}>
      {network && <NetworkError />}
      <QueryState loading={loading && !data} error={error} signedOut={!!data && !me} retry={() => void refetch()}>
        {me && (
          <>
            <section aria-labelledby="twofa-title" className="card">
              <h2 id="twofa-title">{t("security.twoFactor")}</h2>
              <p data-testid="two-factor-state">{t(me.twoFactorEnabled ? "security.twoFactorOn" : "security.twoFactorOff")}</p>
              {recoveryCodes && (
                <div role="status">
                  <p>{t("security.recoveryCodes")}</p>
                  <ul className="codes" data-testid="recovery-codes">
                    {recoveryCodes.map((code) => (
                      <li key={code} className="mono">
                        {code}
                      </li>
                    ))}
                  </ul>
                </div>
              )}
              {!me.twoFactorEnabled && !setup && (
                <button type="button" onClick={() => void startSetup()}>
                  {t("security.setup")}
                </button>
              )}
              {setup && (
                <form onSubmit={confirmSetup} noValidate>
                  <p>{t("security.scan")}</p>
                  <QrCode text={setup.uri} label={t("security.setup")} />
                  <p>
                    {t("security.secret")}: <span className="mono" data-testid="totp-secret">{setup.secret}</span>
                  </p>
                  <Field label={t("auth.code")} name="code" autoComplete="one-time-code" errors={errorsOf("setup")} />
                  <FormErrors errors={errorsOf("setup")} shown={["code"]} />
                  <button type="submit">{t("security.confirm")}</button>
                </form>
              )}
              {me.twoFactorEnabled && (
                <form onSubmit={disableTwoFactor} noValidate>
                  <Field label={t("auth.password")} name="password" type="password" autoComplete="current-password" errors={errorsOf("disable")} />
                  <Field label={t("auth.code")} name="code" autoComplete="one-time-code" errors={errorsOf("disable")} />
                  <FormErrors errors={errorsOf("disable")} shown={["password", "code"]} />
                  <button type="submit">{t("security.disable")}</button>
                </form>
              )}
            </section>
            <section aria-labelledby="password-title" className="card">
              <h2 id="password-title">{t("security.changePassword")}</h2>
              {notice && <p role="status">{notice}</p>}
              <form onSubmit={submitPassword} noValidate>
                <Field
                  label={t("security.currentPassword")}
                  name="currentPassword"
                  type="password"
                  autoComplete="current-password"
                  errors={errorsOf("password")}
                />
                <Field
                  label={t("security.newPassword")}
                  name="newPassword"
                  type="password"
                  autoComplete="new-password"
                  errors={errorsOf("password")}
                />
                <FormErrors errors={errorsOf("password")} shown={["currentPassword", "newPassword"]} />
                <button type="submit">{t("security.changePassword")}</button>
              </form>
            </section>
            <section aria-labelledby="devices-title" className="card">
              <h2 id="devices-title">{t("security.devices")}</h2>
              <ul className="list">
                {me.sessions.map((device) => (
                  <li key={device.id} className="row">
                    <span>
                      {device.userAgent ?? "—"}
                      <br />
                      {t("security.lastSeen", { date: formatDate(language, device.lastSeenAt) })}
                    </span>
                    {device.current ? (
                      <span className="badge ok">{t("security.current")}</span>
                    ) : (
                      <button
                        type="button"
                        onClick={() =>
                          void run("devices", async () => (await revoke({ variables: { sessionId: device.id } })).data?.revokeSession.userErrors)
                        }
                      >
                        {t("security.revoke")}
                      </button>
                    )}
                  </li>
                ))}
              </ul>
            </section>
          </>
        )}
      </QueryState>
    </Page>
  );
}
