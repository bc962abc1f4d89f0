"""npm's version rules (`ghapp/skills/release_publish/npm_semver.py`): the behaviour mutation
testing found unchecked (docs/testing.md, "Mutation testing").

Tag order is compare-versions' (release-drafter's): the order the Semantic Versioning spec
(§11) gives as its example, where numeric identifiers compare as numbers and below
alphanumeric ones, a longer list of identifiers is higher when the rest is equal, and a
prerelease is below its release; `x`, `X` and `*` stand for any number. Reading and bumping
versions is npm's `semver`: `parse` refuses text over 256 characters and numbers above
JavaScript's largest safe integer, and keeps build metadata; `inc(…, "prerelease", id)`
bumps the number after `id` when the prerelease starts with it, and starts `id.0` otherwise.
The expected values are npm semver's and compare-versions' own answers.
"""

from __future__ import annotations

import itertools
from typing import Literal

import pytest
from semver import Version

from ghapp.skills.release_publish.npm_semver import (
    compare_tags,
    increment,
    parse,
    read,
    render,
)

SPEC_ORDER = [
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
]


@pytest.mark.parametrize(("low", "high"), list(itertools.combinations(SPEC_ORDER, 2)))
def test_prereleases_compare_in_the_specs_order(low: str, high: str) -> None:
    assert compare_tags(low, high) == -1
    assert compare_tags(high, low) == 1


@pytest.mark.parametrize("tag", SPEC_ORDER)
def test_a_tag_equals_itself(tag: str) -> None:
    assert compare_tags(tag, tag) == 0


@pytest.mark.parametrize(("a", "b"), [("nightly", "1.0.0"), ("1.0.0", "nightly")])
def test_an_unreadable_tag_is_named_in_the_error(a: str, b: str) -> None:
    with pytest.raises(ValueError, match=r"^not a version: 'nightly'$"):
        compare_tags(a, b)


@pytest.mark.parametrize(
    ("low", "high"),
    [
        ("1.0.0-1", "1.0.0-Beta"),
        ("1.0.0-alpha.7", "1.0.0-alpha.Final"),
        ("1.0.0-rc.2", "1.0.0-rc.2.Hotfix"),
    ],
)
def test_a_numeric_identifier_is_below_a_capitalised_one(low: str, high: str) -> None:
    # Capitals sort before `N`: a number must not be read as any other text here.
    assert compare_tags(low, high) == -1
    assert compare_tags(high, low) == 1


@pytest.mark.parametrize("wildcard", ["x", "X", "*"])
@pytest.mark.parametrize("side", ["left", "right"])
def test_a_wildcard_matches_any_number(wildcard: str, side: str) -> None:
    pattern, version = f"3.{wildcard}.{wildcard}", "3.3.3"
    a, b = (pattern, version) if side == "left" else (version, pattern)
    assert compare_tags(a, b) == 0
    # …but only in its own place: the numbers before it still decide.
    assert compare_tags(a.replace("3.", "4.", 1), b) == 1
    assert compare_tags(a, b.replace("3.", "4.", 1)) == -1


Level = Literal["prerelease", "prepatch"]


@pytest.mark.parametrize(
    ("version", "level", "identifier", "expected"),
    [
        # An identifier of several parts is matched part by part, numbers as numbers.
        ("1.2.3-alpha.1.0", "prerelease", "alpha.1", "1.2.3-alpha.1.1"),
        ("1.2.3-alpha.1.5", "prerelease", "alpha.1", "1.2.3-alpha.1.6"),
        ("1.2.3-alpha.2.5", "prerelease", "alpha.1", "1.2.3-alpha.1.0"),
        ("1.2.3-1.0", "prerelease", "1", "1.2.3-1.1"),
        ("1.2.3", "prepatch", "alpha.1", "1.2.4-alpha.1.0"),
        # Another identifier starts again at 0, whichever way it sorts.
        ("1.2.3-rc.1", "prerelease", "beta", "1.2.3-beta.0"),
        ("1.2.3-beta.1", "prerelease", "alpha", "1.2.3-alpha.0"),
        ("1.2.3-Beta.1", "prerelease", "beta", "1.2.3-beta.0"),
        # An identifier naming the whole bumped prerelease has no number after it to bump.
        ("1.2.3-beta", "prerelease", "beta.0", "1.2.3-beta.0.0"),
        ("1.2.3-rc.1", "prerelease", "rc.2", "1.2.3-rc.2.0"),
        ("1.2.3", "prerelease", "0", "1.2.4-0.0"),
    ],
)
def test_prerelease_identifiers_as_npm_inc_matches_them(
    version: str, level: Level, identifier: str, expected: str
) -> None:
    assert str(increment(Version.parse(version), level, identifier)) == expected


@pytest.mark.parametrize(
    ("text", "prerelease", "build"),
    [
        ("1.2.3+build.5", None, "build.5"),
        ("v1.2.3-rc.1+sha.0abc", "rc.1", "sha.0abc"),
        ("1.2.3", None, None),
    ],
)
def test_parse_keeps_build_metadata(text: str, prerelease: str | None, build: str | None) -> None:
    version = parse(text)
    assert version is not None
    assert (version.prerelease, version.build) == (prerelease, build)


SAFE = 2**53 - 1  # JavaScript's Number.MAX_SAFE_INTEGER


@pytest.mark.parametrize("place", [0, 1, 2])
def test_each_number_may_be_as_large_as_javascripts_safe_integers(place: int) -> None:
    def text(number: int) -> str:
        parts = ["0", "0", "0"]
        parts[place] = str(number)
        return ".".join(parts)

    largest = parse(text(SAFE))
    assert largest is not None
    assert largest.to_tuple()[place] == SAFE
    assert parse(text(SAFE + 1)) is None
    # Nor can `coerce` read it: npm rebuilds the text it found and parses it strictly.
    assert read(text(SAFE + 1)) is None


LONG = "1.2.3-" + "a" * 251  # 257 characters


@pytest.mark.parametrize(
    ("text", "parsed", "read_as"),
    [
        pytest.param(LONG[:256], LONG[:256], LONG[:256], id="256"),
        # One more and npm refuses it whole (not its first 256): `read` falls back to coerce.
        pytest.param(LONG, None, "1.2.3", id="257"),
        # The spaces around a version count too: the length is taken before trimming.
        pytest.param(" " * 251 + "1.2.3", "1.2.3", "1.2.3", id="256-with-spaces"),
        pytest.param(" " * 252 + "1.2.3", None, "1.2.3", id="257-spaces-before"),
        pytest.param("1.2.3" + " " * 252, None, "1.2.3", id="257-spaces-after"),
    ],
)
def test_parse_refuses_text_over_256_characters(
    text: str, parsed: str | None, read_as: str
) -> None:
    version = parse(text)
    assert (str(version) if version else None) == parsed
    assert str(read(text)) == read_as


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("v$MAJOR.$MINOR.$PATCH$PRERELEASE+$BUILD", "v1.2.3-rc.1+$BUILD"),
        ("$COMPLETE", "$COMPLETE"),
        ("$MAJOR$NOT_A_VARIABLE$MINOR", "1$NOT_A_VARIABLE2"),
    ],
)
def test_render_leaves_unknown_variables_as_written(template: str, expected: str) -> None:
    # release-drafter leaves a `$NAME` it has no value for untouched.
    assert render(Version(1, 2, 3, prerelease="rc.1"), template) == expected
