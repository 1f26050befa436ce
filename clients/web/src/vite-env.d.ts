/// <reference types="vite/client" />

declare module "virtual:trusted-documents" {
  /** Operation name -> sha256 id in clients/manifest.json. */
  export const ids: Record<string, string>;
  /** Subscription name -> its manifest body (graphql-ws sends text). */
  export const subscriptionBodies: Record<string, string>;
}
