// The shell: who is signed in decides between the sign-in screens and the portal; hash routes,
// the navigation, the bell, the language switch and sign-out. A signed-in member's language is
// theirs: the portal adopts the saved one at sign-in, and the switch saves a new one (it is also
// the language of their mail and notices). The links mailed to members
// (/verify-email, /reset-password, /confirm-email with ?token=) are paths, not hash routes: their
// page shows whoever is signed in.
import { useMutation, useQuery } from "@apollo/client/react";
import { lazy, Suspense, useCallback, useEffect, useRef, useState } from "react";
import { resetSession } from "./apollo";
import { Bell } from "./bell";
import { WebLogoutDocument, WebUpdateProfileDocument, WebViewerDocument } from "./gql/graphql";
import { fromApiLanguage, toApiLanguage, useI18n, type Language } from "./i18n";
import SignIn from "./pages/SignIn";
import SignUp from "./pages/SignUp";
import { routes } from "./routes";
import { NetworkError, SessionContext } from "./ui";

const MailLink = lazy(() => import("./pages/MailLink"));
const ForgotPassword = lazy(() => import("./pages/ForgotPassword"));
export const MAIL_LINKS = ["/verify-email", "/reset-password", "/confirm-email"] as const;
export type MailLinkPath = (typeof MAIL_LINKS)[number];
const mailLink = MAIL_LINKS.find((path) => path === location.pathname);

function useHashPath(): string {
  const read = () => location.hash.replace(/^#\/?/, "");
  const [path, setPath] = useState(read);
  useEffect(() => {
    const changed = () => setPath(read());
    window.addEventListener("hashchange", changed);
    return () => window.removeEventListener("hashchange", changed);
  }, []);
  return path;
}

function LanguageSwitch({ signedIn }: { signedIn: boolean }) {
  const { language, setLanguage, t } = useI18n();
  const [save] = useMutation(WebUpdateProfileDocument);
  const choose = (next: Language) => {
    setLanguage(next);
    // Saved for the member (mail, notices, next sign-in); offline, the page still switches.
    if (signedIn) void save({ variables: { input: { language: toApiLanguage(next) } } }).catch(() => undefined);
  };
  return (
    <label className="language">
      {t("app.language")}{" "}
      <select value={language} onChange={(e) => choose(e.target.value as Language)}>
        <option value="ru" lang="ru">
          Русский
        </option>
        <option value="en" lang="en">
          English
        </option>
      </select>
    </label>
  );
}

export default function App() {
  const { t, setLanguage } = useI18n();
  const path = useHashPath();
  const viewer = useQuery(WebViewerDocument, { fetchPolicy: "network-only" });
  const [logout] = useMutation(WebLogoutDocument);
  const [notice, setNotice] = useState<string | null>(null);
  const main = useRef<HTMLElement>(null);

  const signedIn = useCallback(async () => {
    setNotice(null);
    await resetSession();
    await viewer.refetch();
    location.hash = "#/dashboard";
  }, [viewer]);
  const expired = useCallback(() => {
    setNotice(t("app.sessionExpired"));
    void resetSession().then(() => viewer.refetch());
  }, [t, viewer]);
  const signOut = async () => {
    await logout().catch(() => undefined);
    await resetSession();
    await viewer.refetch();
    location.hash = "#/";
  };

  useEffect(() => {
    main.current?.querySelector<HTMLElement>("h1")?.focus();
  }, [path]);

  const me = viewer.data?.me;
  const savedLanguage = me?.language;
  useEffect(() => {
    // At sign-in (and whenever the saved choice changes, e.g. in the profile) the page follows it.
    if (savedLanguage) setLanguage(fromApiLanguage(savedLanguage));
  }, [me?.id, savedLanguage]); // setLanguage is a new function on each render: not a dependency
  let content;
  if (mailLink) {
    content = (
      <Suspense fallback={<p aria-busy="true">{t("app.loading")}</p>}>
        <MailLink path={mailLink} />
      </Suspense>
    );
  } else if (viewer.error && !viewer.data) {
    content = <NetworkError retry={() => void viewer.refetch()} />;
  } else if (viewer.loading && !viewer.data) {
    content = <p aria-busy="true">{t("app.loading")}</p>;
  } else if (!me) {
    content =
      path === "sign-up" ? (
        <SignUp onSignedIn={signedIn} />
      ) : path === "forgot-password" ? (
        <Suspense fallback={<p aria-busy="true">{t("app.loading")}</p>}>
          <ForgotPassword />
        </Suspense>
      ) : (
        <SignIn onSignedIn={signedIn} notice={notice} />
      );
  } else {
    const route = routes.find((r) => r.path === path) ?? routes[0];
    const Page = route.page;
    content = (
      <Suspense fallback={<p aria-busy="true">{t("app.loading")}</p>}>
        <Page key={route.path} />
      </Suspense>
    );
  }
  const current = routes.find((r) => r.path === path) ?? routes[0];

  return (
    <SessionContext.Provider value={{ expired }}>
      <a className="skip" href="#main" onClick={(e) => { e.preventDefault(); main.current?.focus(); }}>
        {t("app.skip")}
      </a>
      <header className="top">
        <span className="brand">{t("app.title")}</span>
        {me && !mailLink && <Bell memberId={me.id} count={me.unreadNotificationCount} />}
        <LanguageSwitch signedIn={!!me && !mailLink} />
        {me && !mailLink && (
          <button type="button" onClick={() => void signOut()}>
            {t("app.signOut")}
          </button>
        )}
      </header>
      <div className="layout">
        {me && !mailLink && (
          <nav aria-label={t("nav.main")}>
            <ul>
              {routes.filter((r) => !r.hidden).map((r) => (
                <li key={r.path}>
                  <a href={`#/${r.path}`} aria-current={r === current ? "page" : undefined}>
                    {t(r.nav)}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
        )}
        <main id="main" ref={main} tabIndex={-1}>
          {content}
        </main>
      </div>
    </SessionContext.Provider>
  );
}
