"""Tag order (`ghapp/skills/release_publish/npm_semver.py`): the prerelease comparisons
mutation testing found unchecked (docs/testing.md, "Mutation testing").

The order is the one the Semantic Versioning spec (§11) gives as its example, which
compare-versions (release-drafter's tag order) follows: numeric identifiers compare as
numbers and below alphanumeric ones, a longer list of identifiers is higher when the rest is
equal, and a prerelease is below its release.
"""

from __future__ import annotations

import itertools

import pytest

from ghapp.skills.release_publish.npm_semver import compare_tags

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
