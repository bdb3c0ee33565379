"""Projections of the log and their audit: each table re-derived from events."""
