// "Show more" on one of the member's connections: Apollo's `updateQuery` that puts the next
// page's edges after the ones already shown (the rest of the answer is the newer one).
type Connection = { readonly edges: readonly unknown[] };
type MemberQuery<K extends string> = { readonly me?: { readonly [key in K]: Connection } | null };

export function appendPage<K extends string>(key: K) {
  return <Q extends MemberQuery<K>>(previous: Q, { fetchMoreResult }: { fetchMoreResult: Q }): Q => {
    const shown = previous.me![key];
    const next = fetchMoreResult.me!;
    return {
      ...fetchMoreResult,
      me: { ...next, [key]: { ...next[key], edges: [...shown.edges, ...next[key].edges] } },
    } as Q;
  };
}
