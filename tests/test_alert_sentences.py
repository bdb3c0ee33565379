"""Every alert rule the platform can raise has a sentence in Chinese and in English.

The rule ids come from the code that raises them: the probe profiles' rules
(traceability/rules/profiles/*.json), the record checks (traceability/records/checks.py),
the inspections (traceability/inspections), and the camera rules (kitchen_vision: tamper,
pest, flame and offline checks, and the observation rules, named by what a detector saw:
the mask and work-clothes checks, the example YOLO classes and the documented example
configuration). The sentences are in the pages' catalog (mobile_web/static/js/
i18n_messages.js) and built in mobile_web/static/js/messages.js. A rule without both
fails here, so no reader sees only the logged English for it.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped]

import kitchen_vision.config
from kitchen_vision.masks import NO_MASK
from kitchen_vision.rules import OFFLINE, PEST, UNATTENDED_FLAME
from kitchen_vision.tamper import KINDS as TAMPER_KINDS
from kitchen_vision.yolo import EXAMPLE_CLASS_MAP
from tests.test_message_catalog import pages_catalog
from traceability.inspections.history import VIOLATION_RULE as IMPORTED_VIOLATION_RULE
from traceability.inspections.service import (
    KEY_ITEM_RULE,
    VIOLATION_RULE,
    inspection_alert_detail,
)
from traceability.records.checks import RecordPolicy, record_findings
from traceability.records.schemas import PurchaseInspection

ROOT = Path(__file__).resolve().parents[1]
SENTENCES = ROOT / "mobile_web/static/js/messages.js"

# Classes of the example YOLO map that say a rule is kept, not broken: no alert is named
# after them.
COMPLIANT_CLASSES = {"person", "chef_hat", "mask", "gloves"}


def probe_rules() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "traceability/rules/profiles").glob("*.json"):
        found |= set(json.loads(path.read_text(encoding="utf-8"))["rules"])
    return found


def record_rules() -> set[str]:
    text = (ROOT / "traceability/records/checks.py").read_text(encoding="utf-8")
    findings = set(re.findall(r'Finding\(\s*"([a-z_]+)"', text))
    deadlines = set(re.findall(r'\(\s*"([a-z_]+_missing)"', text))
    return findings | deadlines


def observation_rules() -> set[str]:
    """What the observation rules are named by: what a detector reports, or the name the
    documented example configuration gives."""
    doc = kitchen_vision.config.__doc__ or ""
    example = yaml.safe_load(doc.split("```yaml", 1)[1].split("```", 1)[0])
    named = {str(r.get("rule", r["type"])) for r in example["observation_rules"]}
    clothes = (ROOT / "kitchen_vision/clothes.py").read_text(encoding="utf-8")
    seen = set(re.findall(r'type="([a-z_]+)"', clothes))
    return named | seen | {NO_MASK} | (set(EXAMPLE_CLASS_MAP) - COMPLIANT_CLASSES)


def raised_rules() -> set[str]:
    return (
        probe_rules()
        | record_rules()
        | {KEY_ITEM_RULE, VIOLATION_RULE, IMPORTED_VIOLATION_RULE}
        | {PEST, UNATTENDED_FLAME, OFFLINE, *TAMPER_KINDS}
        | observation_rules()
    )


def test_the_scan_finds_the_rules_of_every_source() -> None:
    rules = raised_rules()
    # one of each source, so that a broken scan cannot pass by finding nothing
    assert {"cold_holding", "probe_silent", "supplier_certificate_expired"} <= rules
    assert {"morning_check_missing", "inspection_key_item", "camera_covered"} <= rules
    assert {"no_hat", "no_mask", "work_clothes_mismatch", "pest_seen"} <= rules


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_rule_has_a_sentence_in_each_language(language: str) -> None:
    labels = pages_catalog()[language]
    missing = sorted(
        rule
        for rule in raised_rules()
        if not (
            labels.get(f"alert.say.{rule}", "").strip()
            or labels.get(f"alert.say.what.{rule}", "").strip()
        )
    )
    assert not missing, f"no {language} sentence for {missing}"


def test_the_page_builds_a_sentence_for_every_rule() -> None:
    """messages.js names each rule it words (a catalog text nothing builds is no sentence)."""
    source = SENTENCES.read_text(encoding="utf-8")
    unnamed = sorted(rule for rule in raised_rules() if f'"{rule}"' not in source)
    assert not unnamed


def js_pattern(name: str) -> re.Pattern[str]:
    source = SENTENCES.read_text(encoding="utf-8")
    found = re.search(rf"^const {name} = /(.*)/s?;$", source, re.M)
    assert found, name
    return re.compile(found.group(1), re.S)


def test_the_supplier_sentence_reads_what_the_record_check_logs() -> None:
    record = PurchaseInspection.model_validate(
        {
            "date": "2026-12-01",
            "supplier": "O'Brien 蔬菜配送",
            "supplier_licence": "JY1234",
            "supplier_certificate_expiry": "2026-11-30",
            "product": "鸡蛋",
            "lot_code": "L-7",
            "quantity": 10,
            "unit": "kg",
            "receiver": "王芳",
        }
    )
    assert record.date == date(2026, 12, 1)
    (finding,) = [
        f
        for f in record_findings(record, "p-1", RecordPolicy())
        if f.rule == "supplier_certificate_expired"
    ]
    found = js_pattern("SUPPLIER").match(f"{finding.detail} (record e-1)")
    assert found is not None, finding.detail
    assert (found.group(1), found.group(3), found.group(4)) == ("L-7", "鸡蛋", "2026-12-01")
    assert (found.group(6), found.group(7)) == ("O'Brien 蔬菜配送", "2026-11-30")


def test_the_inspection_sentences_read_what_an_inspection_logs() -> None:
    text = inspection_alert_detail(
        date(2026, 11, 2), "district-east", "e-9", ["从业人员健康管理", "冷藏设施"], ["02B"]
    )
    found = js_pattern("INSPECTION").match(text)
    assert found is not None, text
    assert found.group(1) == "2026-11-02"
    key = js_pattern("KEY_ITEMS").match(found.group(2))
    assert key is not None and (key.group(1), key.group(2)) == ("从业人员健康管理; 冷藏设施", "02B")
    only = inspection_alert_detail(date(2026, 11, 2), "district-east", "e-9", [], ["02B", "04L"])
    found = js_pattern("INSPECTION").match(only)
    assert found is not None and js_pattern("KEY_ITEMS").match(found.group(2)) is None
    violations = js_pattern("VIOLATIONS").match(found.group(2))
    assert violations is not None and violations.group(1) == "02B; 04L"
