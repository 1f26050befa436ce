// The shell: who is signed in decides between the sign-in screens and the portal; hash routes,
// the navigation, the language switch and sign-out.
import { useMutation, useQuery } from "@apollo/client/react";
import { Suspense, useCallback, useEffect, useRef, useState } from "react";
import { resetSession } from "./apollo";
import { WebLogoutDocument, WebViewerDocument } from "./gql/graphql";
import { useI18n, type Language } from "./i18n";
import SignIn from "./pages/SignIn";
import SignUp from "./pages/SignUp";
import { routes } from "./routes";
import { NetworkError, SessionContext } from "./ui";

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

function LanguageSwitch() {
  const { language, setLanguage, t } = useI18n();
  return (
    <label className="language">
      {t("app.language")}{" "}
      <select value={language} onChange={(e) => setLanguage(e.target.value as Language)}>
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
  const { t } = useI18n();
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
  let content;
  if (viewer.error && !viewer.data) {
    content = <NetworkError retry={() => void viewer.refetch()} />;
  } else if (viewer.loading && !viewer.data) {
    content = <p aria-busy="true">{t("app.loading")}</p>;
  } else if (!me) {
    content =
      path === "sign-up" ? <SignUp onSignedIn={signedIn} /> : <SignIn onSignedIn={signedIn} notice={notice} />;
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
        <LanguageSwitch />
        {me && (
          <button type="button" onClick={() => void signOut()}>
            {t("app.signOut")}
          </button>
        )}
      </header>
      <div className="layout">
        {me && (
          <nav aria-label={t("nav.main")}>
            <ul>
              {routes.map((r) => (
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
