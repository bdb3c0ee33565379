"""The ``sunledger`` command and its sub-commands."""
