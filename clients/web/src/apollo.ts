// Apollo Client for the BFF on the same origin: the cookie session, every query and mutation
// sent by its trusted-document id (hash only, queries as GET), subscriptions over graphql-ws.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, Observable } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { getMainDefinition } from "@apollo/client/utilities";
import { createClient, type Client } from "graphql-ws";
import { ids, subscriptionBodies } from "virtual:trusted-documents";
import type { DocumentNode } from "graphql";

function operationName(document: DocumentNode): string {
  const definition = getMainDefinition(document);
  const name = "name" in definition ? definition.name?.value : undefined;
  if (!name || !(name in ids)) throw new Error(`${name ?? "An operation"} is not in clients/manifest.json`);
  return name;
}

class TrustedWebSocketLink extends ApolloLink {
  constructor(private readonly client: Client) {
    super();
  }

  override request(operation: ApolloLink.Operation): Observable<ApolloLink.Result> {
    const name = operationName(operation.query);
    return new Observable((observer) =>
      this.client.subscribe(
        { operationName: name, query: subscriptionBodies[name], variables: operation.variables },
        {
          next: (value) => observer.next(value as ApolloLink.Result),
          error: (error) => observer.error(error instanceof Error ? error : new Error(String(error))),
          complete: () => observer.complete(),
        },
      ),
    );
  }
}

export const websocket = createClient({
  url: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`,
  lazy: true,
  retryAttempts: 5,
});

const http = ApolloLink.from([
  new PersistedQueryLink({
    generateHash: (document) => ids[operationName(document)],
    useGETForHashedQueries: true,
  }),
  new HttpLink({ uri: "/graphql", credentials: "same-origin" }),
]);

export const client = new ApolloClient({
  cache: new InMemoryCache(),
  link: ApolloLink.split(
    ({ query }) => {
      const definition = getMainDefinition(query);
      return definition.kind === "OperationDefinition" && definition.operation === "subscription";
    },
    new TrustedWebSocketLink(websocket),
    http,
  ),
  defaultOptions: { watchQuery: { fetchPolicy: "cache-and-network" } },
});

/** After sign-in or sign-out the websocket must reconnect with the new cookie. */
export async function resetSession(): Promise<void> {
  websocket.terminate();
  await client.clearStore();
}
