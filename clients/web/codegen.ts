// Types for every operation under operations/, from the BFF's committed schema.graphql.
// `npm run codegen` writes src/gql/ (not committed: the build regenerates it).
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../../schema.graphql",
  documents: ["operations/*.graphql"],
  generates: {
    "src/gql/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: { DateTime: "string", Decimal: "string", JSON: "unknown" },
      },
    },
  },
  silent: true,
};

export default config;
