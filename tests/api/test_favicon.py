"""The pages' icon: named by every page and allowed by their CSP, and /favicon.ico answers
it too, so a browser logs no 404."""

from __future__ import annotations

import re

import pytest
from seeded_city import City

PAGES = ("/", "/r/p-1", "/console", "/kitchen")


@pytest.mark.parametrize("path", PAGES)
def test_every_page_names_an_icon_its_csp_allows(city: City, path: str) -> None:
    page = city.client.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 200
    linked = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page.text)
    assert linked, "the page names no icon"
    assert "img-src 'self'" in page.headers["Content-Security-Policy"]
    icon = city.client.get(linked.group(1))
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
    assert icon.content.startswith(b"<svg ")


def test_favicon_ico_answers_the_same_svg(city: City) -> None:
    icon = city.client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
    assert icon.content == city.client.get("/static/img/favicon.svg").content
