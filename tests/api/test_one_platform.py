"""Embedded mode: one process opens one platform and one chain. The app's platform serves
the requests, runs the anchoring tick a write asks for after its commit (eager, no broker)
and answers what the chain endpoints read; nothing opens a second database or chain."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.seeded_city import City
from traceability.chain.embedded import EmbeddedChain
from traceability.settings import Settings
from traceability.storage.models import AnchorRow
from traceability.transparency.log import TransparencyLog

pytestmark = pytest.mark.clock_sensitive  # also run under the pinned clocks (make clocks)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Anchor after every event, so one write asks for a tick that anchors."""
    return settings.model_copy(update={"anchor_every_events": 1})


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often this process initialises a log (every platform opening does) and opens
    the embedded chain (every chain opening deploys or checks its contract)."""
    counts = {"platforms": 0, "chains": 0}
    initialise = TransparencyLog.initialise
    ensure_deployed = EmbeddedChain.ensure_deployed

    def counted_initialise(self: TransparencyLog, *args: Any, **kwargs: Any) -> Any:
        counts["platforms"] += 1
        return initialise(self, *args, **kwargs)

    def counted_ensure_deployed(self: EmbeddedChain, *args: Any, **kwargs: Any) -> Any:
        counts["chains"] += 1
        return ensure_deployed(self, *args, **kwargs)

    monkeypatch.setattr(TransparencyLog, "initialise", counted_initialise)
    monkeypatch.setattr(EmbeddedChain, "ensure_deployed", counted_ensure_deployed)
    return counts


@pytest.fixture
def counted_city(opened: dict[str, int], city: City) -> Iterator[tuple[City, dict[str, int]]]:
    """The city, built after the counting began (its app opens the one platform)."""
    yield city, opened


def test_a_write_and_its_after_commit_anchoring_share_the_apps_platform_and_chain(
    counted_city: tuple[City, dict[str, int]],
) -> None:
    city, opened = counted_city
    assert opened == {"platforms": 1, "chains": 0}  # the app's, at start-up; chain on use
    response = city.client.post(
        "/v1/regulator/premises/p-1/inspections",
        json={
            "inspected_on": "2026-01-05",
            "score": 92.0,
            "findings": "Clean kitchen.",
            "items": [{"item": "cold chain", "passed": True, "key": True}],
        },
        headers=city.headers("reg-1"),
    )
    assert response.status_code == 201, response.text
    with city.app.state.platform.sessions() as session:
        anchors = session.execute(select(func.count()).select_from(AnchorRow)).scalar_one()
    assert anchors >= 1  # the tick asked for after the commit ran, and anchored
    trust = city.client.get("/v1/trust")  # the chain endpoints read the same chain
    assert trust.status_code == 200, trust.text
    assert opened == {"platforms": 1, "chains": 1}
