"""Proofs for auditors: proof bundles (sunledger-proof/1) and offline tlog-proofs, built from
the log, its anchors on chain and the witnesses' cosignatures."""
