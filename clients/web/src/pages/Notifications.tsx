// Notifications (the bell's list): newest first, paged; what it shows unread is marked read,
// and stays marked "New" until the list is read again.
import { useMutation, useQuery } from "@apollo/client/react";
import { useContext, useEffect, useRef, useState } from "react";
import { notificationTitle } from "../bell";
import { WebMarkNotificationsReadDocument, WebNotificationsDocument } from "../gql/graphql";
import { useI18n } from "../i18n";
import { appendPage } from "../paging";
import { mutationFailure, NetworkError, Page, QueryState, SessionContext } from "../ui";

const SECURITY = new Set(["NEW_SIGN_IN", "PASSWORD_CHANGED", "TWO_FACTOR_DISABLED", "EMAIL_CHANGE_REQUESTED"]);

function formatTime(language: string, value: string): string {
  return new Date(value).toLocaleString(language === "ru" ? "ru-RU" : "en-GB", {
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
}

export default function Notifications() {
  const { t, language } = useI18n();
  const session = useContext(SessionContext);
  const { data, loading, error, refetch, fetchMore } = useQuery(WebNotificationsDocument, {
    variables: { first: 20 },
    fetchPolicy: "network-only",
  });
  const [markRead] = useMutation(WebMarkNotificationsReadDocument);
  const [network, setNetwork] = useState(false);
  const marked = useRef(new Set<string>());
  const me = data?.me;
  const page = me?.notifications;

  async function mark(ids: string[] | null) {
    setNetwork(false);
    try {
      await markRead({ variables: { ids } });
    } catch (failure) {
      setNetwork(mutationFailure(failure, session) === "network");
    }
  }

  // Shown is seen: mark what is on screen and unread (once each).
  useEffect(() => {
    const unread = (page?.edges ?? [])
      .map(({ node }) => node)
      .filter((node) => !node.readAt && !marked.current.has(node.id))
      .map((node) => node.id);
    if (!unread.length) return;
    unread.forEach((id) => marked.current.add(id));
    void mark(unread);
  });

  return (
    <Page title={t("notifications.title")}>
      {network && <NetworkError />}
      <QueryState loading={loading && !data} error={error} signedOut={!!data && !me} retry={() => void refetch()}>
        {me && me.unreadNotificationCount > 0 && (
          <button type="button" onClick={() => void mark(null)}>
            {t("notifications.markAll")}
          </button>
        )}
        {page && page.edges.length === 0 && <p>{t("notifications.empty")}</p>}
        <ol className="list notifications" data-testid="notifications">
          {page?.edges.map(({ node }) => (
            <li key={node.id} className={node.readAt ? "card" : "card unread"} data-testid="notification">
              <h2>
                {notificationTitle(t, node)}
                {!node.readAt && <span className="badge new">{t("notifications.new")}</span>}
                {SECURITY.has(node.kind) && <span className="badge security">{t("notifications.security")}</span>}
              </h2>
              <p>{node.body}</p>
              <p className="hint">
                <time dateTime={node.createdAt}>{formatTime(language, node.createdAt)}</time>
              </p>
            </li>
          ))}
        </ol>
        {page?.pageInfo.hasNextPage && (
          <button
            type="button"
            onClick={() =>
              void fetchMore({
                variables: { after: page.pageInfo.endCursor },
                updateQuery: appendPage("notifications"),
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
