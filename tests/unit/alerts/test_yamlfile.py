"""The YAML reader that keeps every value's line."""

from __future__ import annotations

import pytest

from perfmon.alerts.yamlfile import MAX_BYTES, FileError, Located, load


def test_every_value_keeps_its_line() -> None:
    doc = load("rules:\n  - name: A\n    above: 90\n    on: yes\n", "f.yml")
    assert doc is not None and doc.line == 1
    rule = doc.value["rules"].value[0]
    assert rule.line == 2 and rule.value["name"] == Located("A", 2)
    assert rule.value["above"] == Located(90, 3)
    assert rule.value["on"] == Located(True, 4)  # the key is the name "on", as written


def test_an_empty_document_is_none() -> None:
    assert load("", "f.yml") is None and load("# nothing\n", "f.yml") is None


@pytest.mark.parametrize(("text", "where"), [
    ("a: 1\na: 2\n", "f.yml:2: 'a' is given twice (first on line 1)"),
    ("a: [1, 2\n", "f.yml:2: not valid YAML"),
    ("? [1]\n: 2\n", "f.yml:1: a key must be a name"),
    ("a: !!python/object x\n", "f.yml:1: not valid YAML: could not determine a constructor"),
    ("a: !env X\n", "f.yml:1: tags such as '!env' are not read here"),
])
def test_what_a_configuration_should_not_hold_is_refused_at_its_line(text: str, where: str) -> None:
    with pytest.raises(FileError) as raised:
        load(text, "f.yml")
    assert str(raised.value).startswith(where) and "\n" not in str(raised.value)


def test_a_huge_file_is_refused_before_it_is_parsed() -> None:
    with pytest.raises(FileError, match="larger than 1024 KiB"):
        load("a: 1\n" * (MAX_BYTES // 4), "f.yml")


def test_anchors_and_aliases_work_as_in_any_yaml_file() -> None:
    doc = load("base: &b 90\nother: *b\n", "f.yml")
    assert doc is not None and doc.value["other"].value == 90
