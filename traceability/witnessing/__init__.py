"""Witnessing: C2SP tlog-cosignature keys and lines, the tlog-witness ``add-checkpoint``
logic, its crash-safe state, the HTTP witness and the verifiers' witness policy.

Everything here is pure or uses only the standard library (the witness keeps its
state in its own SQLite file): no platform database, no web framework.
"""
