// The portal's build. `virtual:trusted-documents` gives the app each operation's id in
// ../manifest.json (what the BFF runs under TRUSTED_DOCUMENTS_ONLY), so no query text ships,
// except the subscriptions' bodies, which graphql-ws sends as text.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

const MANIFEST = fileURLToPath(new URL("../manifest.json", import.meta.url));
const VIRTUAL = "virtual:trusted-documents";

type Entry = { id: string; name: string; type: string; body: string };

function trustedDocuments(): Plugin {
  return {
    name: "trusted-documents",
    resolveId: (id) => (id === VIRTUAL ? "\0" + VIRTUAL : undefined),
    load(id) {
      if (id !== "\0" + VIRTUAL) return undefined;
      this.addWatchFile(MANIFEST);
      const operations: Entry[] = JSON.parse(readFileSync(MANIFEST, "utf8")).operations;
      const web = operations.filter((op) => op.name.startsWith("Web"));
      const ids = Object.fromEntries(web.map((op) => [op.name, op.id]));
      const subscriptions = Object.fromEntries(
        web.filter((op) => op.type === "subscription").map((op) => [op.name, op.body]),
      );
      return `export const ids = ${JSON.stringify(ids)};\nexport const subscriptionBodies = ${JSON.stringify(subscriptions)};\n`;
    },
  };
}

export default defineConfig({
  plugins: [react(), trustedDocuments()],
  build: { outDir: "dist", assetsDir: "assets", sourcemap: false },
  server: {
    proxy: { "/graphql": { target: "http://127.0.0.1:8000", ws: true } },
  },
});
