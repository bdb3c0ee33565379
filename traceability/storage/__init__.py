"""Storage: engines, sessions, migrations and the tables of the core."""
