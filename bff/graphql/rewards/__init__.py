"""Rewards' GraphQL piece: the catalogue, buying, the wallet and cancelling."""
