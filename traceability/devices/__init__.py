"""Probes and gateways: the registry, reading intake and rule judging."""
