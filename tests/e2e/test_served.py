"""How the pages are served (no browser): paths, content negotiation on the lot path,
security headers, assets and the public config the pages verify with."""

from __future__ import annotations

from seeded_city import City

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def test_pages_are_html_with_a_strict_policy(city: City) -> None:
    for path in ("/", "/r/p-1", "/console", "/kitchen"):
        answer = city.client.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["content-type"].startswith("text/html")
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert '<script type="module" src="/static/js/' in answer.text


def test_assets_are_served_and_nothing_else(city: City) -> None:
    script = city.client.get("/static/js/verify.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "verifyBundle" in script.text
    assert city.client.get("/static/css/app.css").headers["content-type"].startswith("text/css")
    for path in ("/static/../api/app.py", "/static/js/../../__init__.py", "/static/nope.js"):
        assert city.client.get(path).status_code == 404, path
    assert city.client.get("/static/%2e%2e/__init__.py").status_code == 404


def test_the_lot_path_answers_html_to_browsers_and_json_to_the_rest(city: City) -> None:
    path = "/01/09506000134352/10/LOT-1"
    page = city.client.get(path, headers=HTML)
    assert page.status_code == 200
    assert "/static/js/bundle/lot.js" in page.text
    data = city.client.get(path)
    # The JSON answer is unchanged: no such lot has been received here.
    assert data.status_code == 404
    assert data.json()["error"] == "NotFound"
    assert city.client.get(path, headers={"Accept": "application/json"}).status_code == 404


def test_public_config_names_the_key_and_rpc_the_pages_use(city: City) -> None:
    platform = city.app.state.platform
    config = city.client.get("/v1/public/config").json()
    assert config["public_key"] == platform.signer.verifier_key()
    assert config["log"]["origin"] == platform.log.origin
    assert config["rpc_url"] == "/v1/chain/rpc"
    assert config["chain"] == "embedded"


def test_assets_are_gzipped_for_clients_that_accept_it_and_revalidate(city: City) -> None:
    plain = city.client.get("/static/js/consumer.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    packed = city.client.get("/static/js/consumer.js", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.content == plain.content  # httpx decodes it
    assert int(packed.headers["content-length"]) < len(plain.content) / 2
    assert packed.headers["etag"] != plain.headers["etag"]
    again = city.client.get(
        "/static/js/consumer.js",
        headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["etag"]},
    )
    assert again.status_code == 304 and again.content == b""
