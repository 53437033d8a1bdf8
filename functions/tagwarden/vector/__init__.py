"""Shared vector stores: a tenant on every vector, usage per tenant, and the split of one index's cost.

Pure core: `stamp` (who a vector or query is for, refusals), `usage` (counts -> ledger usage
records), `split` (the blend policy showback uses). One adapter per store (`pgvector`, `qdrant`,
`pinecone`, `opensearch`, `azure_search`) over the store's own client; no store SDK is imported
until an adapter needs one of its types.
"""
