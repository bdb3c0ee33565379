"""What every part of one seeding shares: the platform it writes through, the simulated
week, the organisations' API keys (each step acts as a real principal) and the summary."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from traceability.demo.credentials import DemoApiKey
from traceability.demo.data_dir import SeedSummary
from traceability.demo.scenario import Scenario
from traceability.demo.timeline import Timeline
from traceability.orgs.registry import Directory, Principal
from traceability.platform import Platform


class Seeding:
    """One run's shared state; the parts (city, readings, records, ...) each take it."""

    def __init__(self, platform: Platform, scenario: Scenario, now: datetime | None) -> None:
        self.settings = platform.settings
        self.scenario = scenario
        self.timeline = Timeline(now, ZoneInfo(scenario.timezone))
        self.data_dir = platform.settings.data_dir
        self.sessions, self.log, self.signer = platform.sessions, platform.log, platform.signer
        self.directory = Directory()
        self.summary = SeedSummary(seeded_at=self.timeline.now.isoformat())
        self.tokens: dict[str, DemoApiKey] = {}
        self.story_alerts: dict[str, str] = {}
        """The story's alerts by story step, as they are opened."""
        self.unexpected: list[str] = []
        """Probe alerts the story did not plan (``device:rule``)."""

    def principal(self, session: Session, org_id: str, now: datetime) -> Principal:
        return self.directory.authenticate(session, self.tokens[org_id].token, now)
