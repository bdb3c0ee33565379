"""Several proof bundles in one answer: each the same as its own ``/v1/proofs/{event_id}``."""

from __future__ import annotations

from seeded_city import City
from test_public import kitchen, seed_without_anchoring

__all__ = ["kitchen"]  # the fixture, imported for the tests below


def test_a_batch_holds_each_bundle_as_its_own_path_gives_it(kitchen: City) -> None:
    seeded = seed_without_anchoring(kitchen)
    ids = [seeded.record_event, seeded.lot_event, seeded.transition_event]
    answer = kitchen.client.get(
        "/v1/proofs", params={"event_id": [*ids, "no-such-event", seeded.lot_event]}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert list(body["bundles"]) == ids
    for event_id in ids:
        alone = kitchen.client.get(f"/v1/proofs/{event_id}").json()
        together = body["bundles"][event_id]
        assert together["event"] == alone["event"] and together["format"] == alone["format"]
        assert together["leaf_hash"] == alone["leaf_hash"]
        if together["checkpoint"] == alone["checkpoint"]:  # else one was signed in between
            assert together == alone
    assert (
        list(body["missing"]) == ["no-such-event"]
        and "no-such-event" in body["missing"]["no-such-event"]
    )


def test_a_batch_is_bounded(city: City) -> None:
    assert city.client.get("/v1/proofs").status_code == 422
    many = {"event_id": [f"e{i}" for i in range(51)]}
    assert city.client.get("/v1/proofs", params=many).status_code == 422
    fifty = {"event_id": [f"e{i}" for i in range(50)]}
    answer = city.client.get("/v1/proofs", params=fifty)
    assert answer.status_code == 200 and len(answer.json()["missing"]) == 50


def test_the_batch_and_the_page_scripts_are_compressed_for_who_accepts_it(kitchen: City) -> None:
    import gzip

    seeded = seed_without_anchoring(kitchen)
    url = f"/v1/proofs?event_id={seeded.record_event}"
    plain = kitchen.client.get(url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    packed = kitchen.client.get(url, headers={"Accept-Encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip" and packed.json() == plain.json()
    script = "/static/js/verify.js"
    raw = kitchen.client.get(script, headers={"Accept-Encoding": "identity"})
    small = kitchen.client.get(script, headers={"Accept-Encoding": "gzip, br"})
    assert small.headers["content-encoding"] == "gzip" and small.content == raw.content
    assert small.headers["etag"] != raw.headers["etag"]  # one strong tag per representation
    assert small.headers["vary"] == raw.headers["vary"] == "Accept-Encoding"
    length = int(small.headers["content-length"])
    assert length < len(raw.content) / 2 and len(gzip.compress(raw.content)) <= length + 64
