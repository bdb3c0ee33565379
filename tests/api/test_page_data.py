"""The consumer and lot pages carry their data in their HTML (api.routers.pages): the same
bytes as the record, lot, config, trust and proof endpoints, escaped so that nothing in
the data can end its element, cached like the record, and left out when there is none."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from seeded_city import City
from sqlalchemy import update
from test_public import GTIN, kitchen, seed_without_anchoring  # noqa: F401 (a fixture)

from api.page_scripts import ScriptJoinError, joined_script, without_comment_lines
from traceability.orgs.registry import Directory
from traceability.public_record.page_data import data_block, purchase_records, referenced_events
from traceability.storage.db import transaction
from traceability.storage.models import PremisesRow

HTML = {"Accept": "text/html"}
BLOCK = re.compile(r'<script type="application/json" id="data-(\w+)">(.*?)</script>', re.S)


def blocks(text: str) -> dict[str, Any]:
    found = {name: json.loads(body) for name, body in BLOCK.findall(text)}
    assert len(found) == len(BLOCK.findall(text)), "a block appears twice"
    return found


def test_the_consumer_page_carries_what_its_endpoints_give(kitchen: City) -> None:  # noqa: F811
    city = kitchen
    seeded = seed_without_anchoring(city)
    page = city.client.get("/r/p-1", headers=HTML)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "unsafe-inline" not in page.headers["content-security-policy"]
    data = blocks(page.text)
    assert data["record"] == city.client.get("/v1/public/restaurants/p-1").json()
    assert data["config"] == city.client.get("/v1/public/config").json()
    trust = city.client.get("/v1/trust")
    if trust.status_code == 200:
        assert data["trust"] == trust.json()
    bundles = data["proofs"]["bundles"]
    assert seeded.record_event in bundles and seeded.lot_event in bundles
    for event_id, bundle in bundles.items():
        alone = city.client.get(f"/v1/proofs/{event_id}").json()
        # The same proof (the checkpoint may gain cosignatures between the two reads).
        assert {**bundle, "checkpoint": None} == {**alone, "checkpoint": None}
    # The blocks come after everything the page shows, before </body>.
    assert page.text.index("data-record") > page.text.index('id="page"')
    assert page.text.rstrip().endswith("</html>")


def test_the_page_is_cached_like_the_record(kitchen: City) -> None:  # noqa: F811
    city = kitchen
    first = city.client.get("/r/p-1", headers=HTML)
    etag = first.headers["etag"]
    assert etag.startswith('W/"') and "public, max-age=" in first.headers["cache-control"]
    again = city.client.get("/r/p-1", headers={**HTML, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    # A change to what the record shows is a new version of the page.
    with transaction(city.app.state.platform.sessions) as session:
        session.execute(
            update(PremisesRow).where(PremisesRow.premises_id == "p-1").values(name="Renamed")
        )
    changed = city.client.get("/r/p-1", headers={**HTML, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_the_page_is_gzipped_for_clients_that_accept_it(kitchen: City) -> None:  # noqa: F811
    city = kitchen
    packed = city.client.get("/r/p-1", headers={**HTML, "Accept-Encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip"
    plain = city.client.get("/r/p-1", headers={**HTML, "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert blocks(packed.text)["record"] == blocks(plain.text)["record"]


def test_nothing_in_the_data_can_end_its_element(city: City) -> None:
    name = "</script><script>alert(1)</script><!-- Bad & <b>"
    with transaction(city.app.state.platform.sessions) as session:
        Directory().add_premises(
            session,
            premises_id="p-evil",
            org_id="rest-1",
            name=name,
            kind="restaurant",
            licence_number="JY1evil0000",
            licence_issued_on=date(2024, 1, 1),
            district="d1",
            address="1 Road",
            now=datetime.now(UTC),
        )
    page = city.client.get("/r/p-evil", headers=HTML)
    assert page.status_code == 200, page.text
    assert "<script>alert" not in page.text and "<!--" not in page.text.split('id="page"')[1]
    assert blocks(page.text)["record"]["premises"]["name"] == name


def test_an_unknown_premises_gets_the_bare_page(city: City) -> None:
    page = city.client.get("/r/nobody", headers=HTML)
    assert page.status_code == 200
    assert blocks(page.text) == {}
    assert '<script type="module" src="/static/js/bundle/consumer.js">' in page.text


def test_the_lot_page_carries_its_lot_and_proofs(kitchen: City) -> None:  # noqa: F811
    city = kitchen
    seeded = seed_without_anchoring(city)
    path = f"/01/{GTIN}/10/LOT%2042A"
    data = blocks(city.client.get(path, headers=HTML).text)
    assert data["record"] == city.client.get(path).json()
    assert list(data["proofs"]["bundles"]) == [seeded.lot_event]
    # A lot never received here: the bare page, which shows the endpoint's 404.
    assert blocks(city.client.get(f"/01/{GTIN}/10/OTHER", headers=HTML).text) == {}


@pytest.mark.parametrize("entry", ["consumer", "lot"])
def test_each_page_loads_one_joined_script(city: City, entry: str) -> None:
    script = city.client.get(f"/static/js/bundle/{entry}.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert not re.search(r"^\s*(import|export)\b", script.text, re.M)
    assert "verifyBundle" in script.text and f"// ---- js/{entry}.js" in script.text
    assert city.client.get("/static/js/bundle/kitchen.js").status_code == 404


def _reader(files: dict[str, str]) -> Any:
    return lambda path: files[path.removeprefix("js/")].encode()


def test_the_joiner_keeps_each_module_in_its_scope_and_its_import_order() -> None:
    script = joined_script(
        "lot",
        _reader(
            {
                "lot.js": 'import { a as b } from "./x.js";\nimport { c } from "./y.js";\nb(c);\n',
                "x.js": 'import { c } from "./y.js";\nconst hidden = 1;\nexport function a() {}\n',
                "y.js": "const hidden = 2;\nexport const c = hidden;\n",
            }
        ),
    ).decode()
    assert script.index("js/y.js") < script.index("js/x.js") < script.index("js/lot.js")
    assert script.count("// ---- js/y.js") == 1  # imported twice, evaluated once
    assert "const { a: b } = $module_x;" in script and "return { c };" in script
    assert not re.search(r"^\s*(import|export)\b", script, re.M)


@pytest.mark.parametrize(
    "source",
    [
        "export { a };\n",
        "export default 1;\n",
        'const m = await import("./x.js");\n',
        "const u = import.meta.url;\n",
        'import * as x from "./x.js";\n',
    ],
)
def test_the_joiner_refuses_forms_it_does_not_carry(source: str) -> None:
    with pytest.raises(ScriptJoinError, match=r"lot\.js"):
        joined_script("lot", _reader({"lot.js": source, "x.js": ""}))


def test_the_joined_script_leaves_out_comment_lines_only() -> None:
    module = (
        '// a comment\nconst url = "http://x";  // kept: code\n  // indented\n'
        "export const u = url;\n"
    )
    script = joined_script("lot", _reader({"lot.js": module})).decode()
    assert "a comment" not in script and "indented" not in script
    assert 'const url = "http://x";  // kept: code' in script and "return { u };" in script
    # A template literal over lines: a "//" line may be its text, so the module stays whole.
    spanning = "const t = `first\n// text, not a comment\n`;\n// a comment\n"
    assert without_comment_lines(spanning) == spanning
    continued = 'const s = "a\\\n// text";\n'
    assert without_comment_lines(continued) == continued


def test_the_joiner_refuses_an_import_cycle() -> None:
    files = {"lot.js": 'import { a } from "./x.js";\n', "x.js": 'import { b } from "./lot.js";\n'}
    with pytest.raises(ScriptJoinError, match="cycle"):
        joined_script("lot", _reader(files))


def test_a_block_escapes_every_angle_bracket_and_keeps_the_json() -> None:
    data = json.dumps({"name": "</script><!--x", "n": 1}).encode()
    block = data_block("record", data).decode()
    inner = block.split(">", 1)[1].rsplit("</script>", 1)[0]
    assert "<" not in inner and json.loads(inner) == {"name": "</script><!--x", "n": 1}
    with pytest.raises(ValueError):
        data_block("script", data)


def test_the_events_a_page_verifies_are_found_once_each() -> None:
    record = {
        "grade": {"event": {"event_id": "e1"}},
        "alerts": {
            "items": [{"event": {"event_id": "e2"}, "steps": [{"event": {"event_id": "e1"}}]}]
        },
        "other": {"event": "not a reference", "event_id": "e9"},
    }
    assert referenced_events(record) == ["e1", "e2"]
    receipts = [
        {
            "event": {
                "payload": {
                    "reference_document_type": "purchase_inspection",
                    "reference_document_number": "e3",
                }
            }
        },
        {
            "event": {
                "payload": {
                    "reference_document_type": "invoice",
                    "reference_document_number": "INV-1",
                }
            }
        },
    ]
    assert purchase_records(receipts) == ["e3"]
