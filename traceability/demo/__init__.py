"""The demo city (``sunledger demo``): a scenario shipped with the package, a week of
history seeded through the platform's services, and live data while the site is served."""
