// Drives the BFF with a real Apollo Client and its persisted-queries link; prints one JSON
// object: every HTTP request the link made and what each operation returned.
// usage: node run.mjs apq <graphqlUrl> <bearerToken>
//        node run.mjs trusted <graphqlUrl> <bearerToken> <manifest.json>
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";

import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { generatePersistedQueryIdsFromManifest } from "@apollo/persisted-query-lists";

const [mode, uri, token, manifestPath] = process.argv.slice(2);
const requests = [];

async function recordingFetch(input, init = {}) {
  const url = new URL(typeof input === "string" ? input : input.url);
  const method = init.method ?? "GET";
  const body = method === "POST" ? JSON.parse(init.body) : Object.fromEntries(url.searchParams);
  const extensions =
    typeof body.extensions === "string" ? JSON.parse(body.extensions) : body.extensions;
  const response = await fetch(input, init);
  const text = await response.clone().text();
  requests.push({
    method,
    sentQuery: typeof body.query === "string" && body.query.length > 0,
    sha256Hash: extensions?.persistedQuery?.sha256Hash ?? null,
    status: response.status,
    errorCode: JSON.parse(text).errors?.[0]?.extensions?.code ?? null,
  });
  return response;
}

function client(persisted) {
  const http = new HttpLink({
    uri,
    fetch: recordingFetch,
    headers: { authorization: `Bearer ${token}` },
  });
  return new ApolloClient({
    cache: new InMemoryCache(),
    link: ApolloLink.from([new PersistedQueryLink(persisted), http]),
  });
}

async function run(apollo, query) {
  try {
    const result = await apollo.query({ query, fetchPolicy: "network-only" });
    return { data: result.data ?? null, error: result.error?.message ?? null };
  } catch (error) {
    return { data: null, error: error.message };
  }
}

const sha256 = (text) => createHash("sha256").update(text).digest("hex");
const ME = gql`
  query ApolloMe {
    me {
      id
      email
    }
  }
`;
const results = {};

if (mode === "apq") {
  // POST: the first request sends the hash alone, the retry registers the text, the third is
  // the hash alone again. Then GET for hashed queries (useGETForHashedQueries).
  const byPost = client({ sha256 });
  results.first = await run(byPost, ME);
  results.second = await run(byPost, ME);
  const byGet = client({ sha256, useGETForHashedQueries: true });
  results.get = await run(byGet, ME);
} else if (mode === "trusted") {
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
  const byManifest = client(generatePersistedQueryIdsFromManifest({ loadManifest: () => manifest }));
  // The operation's name picks its id from the manifest; the server runs the manifest's body.
  results.trusted = await run(byManifest, gql(manifest.operations[0].body));
  // An operation outside the manifest, hashed by Apollo itself: refused, never registered.
  results.untrusted = await run(client({ sha256 }), ME);
} else {
  throw new Error(`unknown mode ${mode}`);
}

process.stdout.write(JSON.stringify({ requests, results }) + "\n");
