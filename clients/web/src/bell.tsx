// The header's bell: the unread count (from the shell's query, kept live by notificationReceived)
// linking to the notifications list, and a polite announcement of each arrival.
import { useSubscription } from "@apollo/client/react";
import { useState } from "react";
import { WebNotificationReceivedDocument, WebNotificationsDocument } from "./gql/graphql";
import { isMessageKey, useI18n, type Translate } from "./i18n";

/** A notification's heading in the page's language (the server's title for a kind we lack). */
export function notificationTitle(t: Translate, node: { kind: string; title: string }): string {
  const key = `notifications.kind.${node.kind}`;
  return isMessageKey(key) ? t(key) : node.title;
}

export function Bell({ memberId, count }: { memberId: string; count: number }) {
  const { t } = useI18n();
  const [arrived, setArrived] = useState("");
  useSubscription(WebNotificationReceivedDocument, {
    onData: ({ client, data }) => {
      const node = data.data?.notificationReceived;
      if (!node) return;
      // One more unread now; an open list reads itself again (and marks what it shows).
      client.cache.modify({
        id: client.cache.identify({ __typename: "Member", id: memberId }),
        fields: { unreadNotificationCount: (unread: number) => unread + 1 },
      });
      void client.refetchQueries({ include: [WebNotificationsDocument] });
      setArrived(t("bell.arrived", { title: notificationTitle(t, node) }));
    },
  });
  return (
    <>
      <a
        className="bell"
        href="#/notifications"
        aria-label={count > 0 ? t("bell.label", { count }) : t("bell.none")}
        data-testid="bell"
      >
        <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false">
          <path
            fill="currentColor"
            d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1Z"
          />
        </svg>
        {count > 0 && (
          <span className="bell-count" aria-hidden="true" data-testid="bell-count">
            {count > 99 ? "99+" : count}
          </span>
        )}
      </a>
      <span className="visually-hidden" aria-live="polite">
        {arrived}
      </span>
    </>
  );
}
