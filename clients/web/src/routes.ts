// The screens of the signed-in portal, in navigation order. A feature adds one entry here, its
// page module under pages/ and its strings in i18n.tsx. Pages other than the dashboard load on
// first visit, so the first screen's JavaScript stays small.
import { lazy, type ComponentType, type LazyExoticComponent } from "react";
import Dashboard from "./pages/Dashboard";
import type { MessageKey } from "./i18n";

export type Route = {
  path: string;
  nav: MessageKey;
  page: ComponentType | LazyExoticComponent<ComponentType>;
  /** Reached otherwise (the header's bell), not listed in the navigation. */
  hidden?: boolean;
};

export const routes: Route[] = [
  { path: "dashboard", nav: "nav.dashboard", page: Dashboard },
  {
    path: "notifications",
    nav: "nav.notifications",
    page: lazy(() => import("./pages/Notifications")),
    hidden: true,
  },
  { path: "cards", nav: "nav.cards", page: lazy(() => import("./pages/Cards")) },
  { path: "purchases", nav: "nav.purchases", page: lazy(() => import("./pages/Purchases")) },
  { path: "points", nav: "nav.points", page: lazy(() => import("./pages/PointsHistory")) },
  { path: "offers", nav: "nav.offers", page: lazy(() => import("./pages/Offers")) },
  { path: "rewards", nav: "nav.rewards", page: lazy(() => import("./pages/Rewards")) },
  { path: "wallet", nav: "nav.wallet", page: lazy(() => import("./pages/Wallet")) },
  { path: "profile", nav: "nav.profile", page: lazy(() => import("./pages/Profile")) },
  { path: "privacy", nav: "nav.privacy", page: lazy(() => import("./pages/Privacy")) },
  { path: "security", nav: "nav.security", page: lazy(() => import("./pages/Security")) },
  { path: "program", nav: "nav.program", page: lazy(() => import("./pages/Program")) },
];
