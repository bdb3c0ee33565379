"""Organisations, premises and API keys."""
