"""The statuses of an alert and its escalation cards.

open → acknowledged → rectification_submitted → closed; a regulator may also ask
for rectification (``rectification_requested``, with a note and maybe a new
deadline) and may reopen a submitted or closed alert (back to ``open``).
"""

from __future__ import annotations

OPEN = "open"
ACKNOWLEDGED = "acknowledged"
RECTIFICATION_REQUESTED = "rectification_requested"
RECTIFICATION_SUBMITTED = "rectification_submitted"
CLOSED = "closed"
STATUSES = (OPEN, ACKNOWLEDGED, RECTIFICATION_REQUESTED, RECTIFICATION_SUBMITTED, CLOSED)

# While the restaurant owes the next step the deadline runs, so these alerts can be
# overdue and escalate; once it submitted evidence the regulator owes the next step.
AWAITING_RESTAURANT = (OPEN, ACKNOWLEDGED, RECTIFICATION_REQUESTED)

ESCALATIONS = ("none", "yellow", "red")
SOURCES = ("probe", "vision", "record", "inspection")
SYSTEM_ACTOR = "system"
