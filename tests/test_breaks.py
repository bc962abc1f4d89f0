"""The deliberate-break list (`tests/support/breaks.py`) still breaks something: each
break's text is found exactly once in its file, and its tests exist."""

from __future__ import annotations

import pytest

from tests.support.breaks import BREAKS, ROOT, Break, found


def test_break_names_are_unique() -> None:
    names = [item.name for item in BREAKS]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("item", BREAKS, ids=[item.name for item in BREAKS])
def test_each_break_finds_its_code_once_and_names_existing_tests(item: Break) -> None:
    assert found(item) == 1, f"{item.path} no longer holds {item.old!r} exactly once"
    assert item.old != item.new
    missing = [test for test in item.tests if not (ROOT / test).is_file()]
    assert not missing
