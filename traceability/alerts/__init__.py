"""Alerts from every source (probes, vision, records, inspections) in one queue."""
