// Subscribes to pointsBalanceChanged with the graphql-ws client, as the web and mobile apps do,
// prints every balance it receives as one JSON line, and after `count` balances checks the last
// one against the expected fields. Exit 0 when they match, 1 when not, 2 on a protocol error.
//
//   node watch-balance.mjs <ws-url> <bearer-token> <count> '<expected JSON, e.g. {"pending":12}>'
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [url, token, countArg, expectedArg] = process.argv.slice(2);
const count = Number(countArg);
const expected = JSON.parse(expectedArg ?? "{}");
const BALANCE = "subscription { pointsBalanceChanged { available pending expiringSoon lifetimeEarned spent expired } }";

const deadline = setTimeout(() => {
  console.error("no balance in time");
  process.exit(2);
}, 30_000);

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${token}` },
  retryAttempts: 0,
});

let last;
let received = 0;
try {
  for await (const result of client.iterate({ query: BALANCE })) {
    if (result.errors) {
      console.error(JSON.stringify(result.errors));
      process.exit(2);
    }
    last = result.data.pointsBalanceChanged;
    console.log(JSON.stringify(last));
    received += 1;
    if (received === count) break;
  }
} catch (error) {
  // graphql-ws rejects with the CloseEvent (or an Error) when the server refuses or closes.
  console.error(`closed: ${error?.code ?? ""} ${error?.reason ?? error?.message ?? error}`);
  process.exit(2);
} finally {
  clearTimeout(deadline);
  await client.dispose();
}

const mismatched = Object.entries(expected).filter(([field, value]) => last?.[field] !== value);
if (received < count || mismatched.length) {
  console.error(`expected ${JSON.stringify(expected)} in the last of ${count} balances, got ${JSON.stringify(last)}`);
  process.exit(1);
}
