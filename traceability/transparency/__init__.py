"""The transparency core: canonical JSON, events, the tiled Merkle log, checkpoints,
ingest, receipts, proof bundles and the full-log audit."""
