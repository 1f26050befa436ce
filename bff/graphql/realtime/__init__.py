"""GraphQL subscriptions over graphql-transport-ws: connection auth and per-member streams."""
