"""``modelgate demo``: a workspace of real bundles, a policy and a registry with their history."""
