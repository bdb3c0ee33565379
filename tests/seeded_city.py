"""The small city most API tests run against (the ``city`` fixture in conftest.py builds it).

A module of its own, not conftest: two ``conftest`` modules exist in this
suite, so ``from conftest import ...`` would depend on which loaded first.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.testclient import TestClient


@dataclass
class City:
    """A small city on the test database: two districts, two restaurants (one premises
    each, one per district), a regulator per district, an auditor and an admin, each with
    an API key. ``headers(name)`` gives the Authorization header of that organisation."""

    app: FastAPI
    client: TestClient
    keys: dict[str, str]
    key_ids: dict[str, str]

    def headers(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[name]}"}


CITY_ORGS = {
    # name: (role, districts)
    "admin": ("admin", []),
    "rest-1": ("restaurant", []),
    "rest-2": ("restaurant", []),
    "reg-1": ("regulator", ["d1"]),
    "reg-2": ("regulator", ["d2"]),
    "auditor": ("auditor", []),
}
CITY_PREMISES = {
    # premises: (owner, district)
    "p-1": ("rest-1", "d1"),
    "p-2": ("rest-2", "d2"),
}
