"""Kitchen cameras: the registry and its storage."""
