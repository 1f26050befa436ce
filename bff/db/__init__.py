"""Database plumbing: connection and migrations, hand-written SQL, keyset paging."""
