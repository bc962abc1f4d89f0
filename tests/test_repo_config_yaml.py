"""`.github/ghapp.yml` is read as YAML 1.2 (the core schema), as Probot's parser reads it:
the words and numbers YAML 1.1 turns into booleans, dates and octal or sexagesimal numbers
stay what was written."""

from __future__ import annotations

import math
from typing import Any

import pytest

from ghapp.repo_config import RepoConfigError, parse_config_text
from ghapp.repo_config.yaml12 import Yaml12Loader

SOURCE = "octo/hello:.github/ghapp.yml"


@pytest.mark.parametrize(
    ("scalar", "value"),
    [
        # YAML 1.1 booleans are strings in 1.2.
        ("on", "on"),
        ("off", "off"),
        ("yes", "yes"),
        ("no", "no"),
        ("y", "y"),
        ("On", "On"),
        # 1.2's booleans and nulls.
        ("true", True),
        ("False", False),
        ("~", None),
        ("null", None),
        ("", None),
        # Dates, sexagesimal numbers, leading zeros, underscores: strings.
        ("2024-01-01", "2024-01-01"),
        ("2001-12-14t21:59:43.10-05:00", "2001-12-14t21:59:43.10-05:00"),
        ("1:30", "1:30"),
        ("0755", "0755"),
        ("010", "010"),
        ("1_000", "1_000"),
        ("0b101", "0b101"),
        ("+0755", "+0755"),
        # 1.2's numbers.
        ("0", 0),
        ("-12", -12),
        ("+7", 7),
        ("0o17", 15),
        ("0x1f", 31),
        ("1.5", 1.5),
        ("0.5", 0.5),
        ("-.5", -0.5),
        ("1e3", 1000.0),
        ("1.5E-3", 0.0015),
        (".inf", math.inf),
        ("-.Inf", -math.inf),
        # Quoted is always a string.
        ("'true'", "true"),
        ('"12"', "12"),
    ],
)
def test_scalars_read_as_yaml_1_2(scalar: str, value: Any) -> None:
    assert parse_config_text(f"key: {scalar}\n", SOURCE) == {"key": value}


def test_not_a_number_is_a_float() -> None:
    assert math.isnan(parse_config_text("key: .nan\n", SOURCE)["key"])


def test_the_c_parser_is_used_when_pyyaml_has_it() -> None:
    import yaml

    assert Yaml12Loader.__mro__[1] is getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    if yaml.__with_libyaml__:
        assert Yaml12Loader.__mro__[1] is yaml.CSafeLoader


@pytest.mark.parametrize(
    "text",
    [
        "evil: !!python/object/apply:os.system ['echo owned']\n",
        "evil: !!python/name:os.system\n",
        "evil: !<tag:yaml.org,2002:js/function> 'function () {}'\n",
    ],
)
def test_tags_that_would_build_objects_build_plain_data(text: str) -> None:
    value = parse_config_text(text, SOURCE)["evil"]
    assert isinstance(value, str | list)


def test_merge_keys_still_merge_and_explicit_keys_win() -> None:
    text = "base: &b {color: red, size: 1}\nlabel: {<<: *b, size: 2}\n"
    assert parse_config_text(text, SOURCE)["label"] == {"color": "red", "size": 2}


def test_a_key_written_twice_is_an_error_naming_the_line() -> None:
    with pytest.raises(RepoConfigError, match=r"found key 'a' twice at line 3"):
        parse_config_text("a: 1\nb: 2\na: 3\n", SOURCE)


def test_a_wide_file_is_refused_before_anything_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    """Counting happens on libyaml's nodes: a hostile file costs no Python construction."""
    built: list[object] = []
    real = Yaml12Loader.construct_mapping

    def counting(self: Yaml12Loader, node: object, deep: bool = False) -> object:
        built.append(node)
        return real(self, node, deep)

    monkeypatch.setattr(Yaml12Loader, "construct_mapping", counting)
    wide = "x: [" + ", ".join(["{a: 1}"] * 11_000) + "]\n"
    with pytest.raises(RepoConfigError, match="more than 20000 values"):
        parse_config_text(wide, SOURCE)
    assert built == []
    assert parse_config_text("x: [{a: 1}]\n", SOURCE) == {"x": [{"a": 1}]} and built
