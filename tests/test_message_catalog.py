"""Every message the server can send the pages has a Chinese and an English text.

The codes come from the server's catalog (traceability/messages.py) and from every literal
code the sources pass to ``message(...)`` or a validator's ``_problem(...)``; the texts
from the pages' catalog (mobile_web/static/js/i18n_messages.js, plain JSON after its
``export``). A new message without both translations fails here.
"""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

import pytest

from traceability.messages import _PYDANTIC, CATALOG, field_message, message

ROOT = Path(__file__).resolve().parents[1]
PAGES_CATALOG = ROOT / "mobile_web/static/js/i18n_messages.js"
_USED = re.compile(r"""\b(?:message|_problem|Message)\(\s*["']([a-z_]+\.[a-z0-9_]+)["']""")


def pages_catalog() -> dict[str, dict[str, str]]:
    text = PAGES_CATALOG.read_text(encoding="utf-8")
    start = text.index("export const MESSAGE_LABELS = ") + len("export const MESSAGE_LABELS = ")
    labels: dict[str, dict[str, str]] = json.loads(text[start:].rstrip().removesuffix(";"))
    return labels


def codes_in_sources() -> set[str]:
    found: set[str] = set()
    for folder in ("traceability", "api"):
        for path in (ROOT / folder).rglob("*.py"):
            found |= set(_USED.findall(path.read_text(encoding="utf-8")))
    return found


def names(template: str) -> set[str]:
    return {
        field.split("!")[0].split(":")[0]
        for _, field, _, _ in string.Formatter().parse(template)
        if field
    }


def test_the_sources_use_only_catalogued_codes() -> None:
    used = codes_in_sources()
    assert len(used) > 100  # the scan finds the raises (a broken pattern would find none)
    assert used <= set(CATALOG), sorted(used - set(CATALOG))
    assert set(_PYDANTIC.values()) <= set(CATALOG)


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_code_has_a_text_in_each_language(language: str) -> None:
    labels = pages_catalog()[language]
    missing = sorted(code for code in CATALOG if not labels.get(f"msg.{code}", "").strip())
    assert not missing, f"no {language} text for {missing}"


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_pages_texts_name_only_parameters_the_server_sends(language: str) -> None:
    labels = pages_catalog()[language]
    wrong = {
        code: sorted(names(labels[f"msg.{code}"]) - names(template))
        for code, template in CATALOG.items()
        if names(labels[f"msg.{code}"]) - names(template)
    }
    assert not wrong


def test_both_languages_have_the_same_keys() -> None:
    labels = pages_catalog()
    assert set(labels["zh"]) == set(labels["en"])


def test_an_unknown_code_is_refused_at_once() -> None:
    with pytest.raises(KeyError):
        message("record.no_such_code")


def test_pydantic_errors_map_to_codes_with_their_parameters() -> None:
    said = field_message(
        {"type": "greater_than", "msg": "Input should be greater than 0", "ctx": {"gt": 0}}
    )
    assert (said.code, dict(said.params)) == ("field.greater_than", {"gt": 0})
    odd = field_message({"type": "some_new_type", "msg": "Something odd"})
    assert (odd.code, dict(odd.params), odd.text) == (
        "field.invalid",
        {"reason": "Something odd"},
        "Something odd",
    )
