"""npm's range syntax (`ghapp/skills/release_publish/npm_ranges.py`): the expansions and
prerelease rules mutation testing found unchecked (docs/testing.md, "Mutation testing").

The expected values are npm's `semver` 7.8.5 (release-drafter's pin; 7.7.1 differs on
wildcard order and build metadata) without options (strict parsing, prereleases
excluded): `new Range(text).range` for an expansion (npm's canonical comparators, `1.2.3`
for `=1.2.3`), `validRange` for what is not a range, `satisfies` for a version. npm writes a
lower bound of `>=0.0.0` as nothing, so ranges of major zero are checked through `satisfies`.
"""

from __future__ import annotations

import pytest
from semver import Version

from ghapp.skills.release_publish.npm_ranges import ComparatorSet, parse_range, satisfies


def _text(sets: tuple[ComparatorSet, ...]) -> str:
    """The comparator sets written as npm writes a range."""
    return "||".join(
        " ".join(("" if c.operator == "=" else c.operator) + str(c.version) for c in comparators)
        for comparators in sets
    )


EXPANSIONS = [
    # x-ranges and partial versions
    ("", ""),
    ("*", ""),
    ("x", ""),
    ("X", ""),
    ("x.x", ""),
    ("*.x.X", ""),
    ("1", ">=1.0.0 <2.0.0-0"),
    ("1.x", ">=1.0.0 <2.0.0-0"),
    ("1.X.x", ">=1.0.0 <2.0.0-0"),
    ("1.*", ">=1.0.0 <2.0.0-0"),
    ("1.2", ">=1.2.0 <1.3.0-0"),
    ("1.2.x", ">=1.2.0 <1.3.0-0"),
    ("1.2.*", ">=1.2.0 <1.3.0-0"),
    ("1.2.3", "1.2.3"),
    ("=1.2.3", "1.2.3"),
    ("v1.2.3", "1.2.3"),
    ("=v1.2.3", "1.2.3"),
    ("1.2.3-beta.1", "1.2.3-beta.1"),
    ("1.2.3+build.5", "1.2.3"),
    ("1.2.3-rc.1+build", "1.2.3-rc.1"),
    ("1.2.3-RC.1", "1.2.3-RC.1"),
    ("1.2.3+BUILD", "1.2.3"),
    ("=1.2", ">=1.2.0 <1.3.0-0"),
    ("=1", ">=1.0.0 <2.0.0-0"),
    ("=*", ""),
    # what npm 7.8 reads around a wildcard and before a version
    ("==1.2", ">=1.2.0 <1.3.0-0"),  # a partial version is rebuilt, so its prefix goes
    ("vv1", ">=1.0.0 <2.0.0-0"),
    ("v=1", ">=1.0.0 <2.0.0-0"),
    ("==1.2.x", ">=1.2.0 <1.3.0-0"),
    ("v=1.2.x-beta", ">=1.2.0 <1.3.0-0"),
    (">=v1.2.3", ">=1.2.3"),
    ("1.x.*", ">=1.0.0 <2.0.0-0"),
    # build metadata is dropped wherever it stands
    ("1.x+build", ">=1.0.0 <2.0.0-0"),
    ("1+b.2", ">=1.0.0 <2.0.0-0"),
    ("1.2+b", ">=1.2.0 <1.3.0-0"),
    (">=1.x+build", ">=1.0.0"),
    ("1.2.x-rc+b", ">=1.2.0 <1.3.0-0"),
    ("1.2.3+a+b", "1.2.3"),
    ("1.2.3+b 2.0.0+c", "1.2.3 2.0.0"),
    ("+b", ""),
    # operators against x-ranges
    (">1", ">=2.0.0"),
    (">1.x", ">=2.0.0"),
    (">1.2", ">=1.3.0"),
    (">1.2.x", ">=1.3.0"),
    (">=1", ">=1.0.0"),
    (">=1.2", ">=1.2.0"),
    (">=1.2.x", ">=1.2.0"),
    (">=1.0", ">=1.0.0"),
    (">1.0", ">=1.1.0"),
    ("<1.0", "<1.0.0-0"),
    ("<=1.0", "<1.1.0-0"),
    ("<1", "<1.0.0-0"),
    ("<1.2", "<1.2.0-0"),
    ("<1.2.x", "<1.2.0-0"),
    ("<=1", "<2.0.0-0"),
    ("<=1.x", "<2.0.0-0"),
    ("<=1.2", "<1.3.0-0"),
    ("<=0.2.x", "<0.3.0-0"),
    (">*", "<0.0.0-0"),
    ("<*", "<0.0.0-0"),
    (">=*", ""),
    ("<=*", ""),
    (">x.x", "<0.0.0-0"),
    (">1.2.3", ">1.2.3"),
    (">=1.2.3", ">=1.2.3"),
    ("<1.2.3", "<1.2.3"),
    ("<=1.2.3", "<=1.2.3"),
    ("<1.2.3-rc.1", "<1.2.3-rc.1"),
    # spaces after an operator
    (">= 1.2.3", ">=1.2.3"),
    ("<  1.2", "<1.2.0-0"),
    ("^ 1.2.3", ">=1.2.3 <2.0.0-0"),
    ("~ 1.2", ">=1.2.0 <1.3.0-0"),
    ("~> 1.2", ">=1.2.0 <1.3.0-0"),
    ("  1.2.3  ", "1.2.3"),
    # caret
    ("^*", ""),
    ("^x.x", ""),
    ("^X", ""),
    ("^1", ">=1.0.0 <2.0.0-0"),
    ("^1.x", ">=1.0.0 <2.0.0-0"),
    ("^2.x.x", ">=2.0.0 <3.0.0-0"),
    ("^1.2", ">=1.2.0 <2.0.0-0"),
    ("^1.2.x", ">=1.2.0 <2.0.0-0"),
    ("^0.2", ">=0.2.0 <0.3.0-0"),
    ("^1.0", ">=1.0.0 <2.0.0-0"),
    ("^1.2.3", ">=1.2.3 <2.0.0-0"),
    ("^1.0.0", ">=1.0.0 <2.0.0-0"),
    ("^0.2.3", ">=0.2.3 <0.3.0-0"),
    ("^0.0.3", ">=0.0.3 <0.0.4-0"),
    ("^10.20.30", ">=10.20.30 <11.0.0-0"),
    ("^1.2.3-beta.2", ">=1.2.3-beta.2 <2.0.0-0"),
    ("^0.2.3-beta", ">=0.2.3-beta <0.3.0-0"),
    ("^0.0.3-beta", ">=0.0.3-beta <0.0.4-0"),
    ("^1.2.3+build", ">=1.2.3 <2.0.0-0"),
    ("^1.2.3-RC.1", ">=1.2.3-RC.1 <2.0.0-0"),
    ("^v1.2.3", ">=1.2.3 <2.0.0-0"),
    ("^1.x+build", ">=1.0.0 <2.0.0-0"),
    ("^1+b", ">=1.0.0 <2.0.0-0"),
    ("^1.x.5", ">=1.0.0 <2.0.0-0"),  # no order check after a caret or tilde
    ("^x.1", ""),
    ("^vv1.2.3", ">=1.2.3 <2.0.0-0"),  # nor any on the prefix: the version is rebuilt
    ("^v=1.2.3", ">=1.2.3 <2.0.0-0"),
    ("^==1.2.3", ">=1.2.3 <2.0.0-0"),
    # tilde
    ("~*", ""),
    ("~x", ""),
    ("~X.1", ""),
    ("~1", ">=1.0.0 <2.0.0-0"),
    ("~1.x", ">=1.0.0 <2.0.0-0"),
    ("~1.2", ">=1.2.0 <1.3.0-0"),
    ("~1.2.x", ">=1.2.0 <1.3.0-0"),
    ("~1.2.3", ">=1.2.3 <1.3.0-0"),
    ("~0.0.3", ">=0.0.3 <0.1.0-0"),
    ("~2.0.0", ">=2.0.0 <2.1.0-0"),
    ("~1.2.3-beta.2", ">=1.2.3-beta.2 <1.3.0-0"),
    ("~>1.2.3", ">=1.2.3 <1.3.0-0"),
    ("~=1.2.3", ">=1.2.3 <1.3.0-0"),  # refused before, as after a caret
    ("^=1.2.3", ">=1.2.3 <2.0.0-0"),
    ("~1.2.3+build", ">=1.2.3 <1.3.0-0"),
    ("~1.2.3-Rc.1", ">=1.2.3-Rc.1 <1.3.0-0"),
    ("~1.x+build", ">=1.0.0 <2.0.0-0"),
    ("~1.x.5", ">=1.0.0 <2.0.0-0"),
    ("~x.1.2", ""),
    ("~=v1.2.3", ">=1.2.3 <1.3.0-0"),
    # hyphen ranges
    ("1.2.3 - 2.3.4", ">=1.2.3 <=2.3.4"),
    ("1.2 - 2.3.4", ">=1.2.0 <=2.3.4"),
    ("1 - 2.3.4", ">=1.0.0 <=2.3.4"),
    ("1.x - 2.3.4", ">=1.0.0 <=2.3.4"),
    ("1.2.x - 2.3.4", ">=1.2.0 <=2.3.4"),
    ("* - 2.3.4", "<=2.3.4"),
    ("1.2.3 - 2.3", ">=1.2.3 <2.4.0-0"),
    ("1.2.3 - 2.3.x", ">=1.2.3 <2.4.0-0"),
    ("1.2.3 - 2", ">=1.2.3 <3.0.0-0"),
    ("1.2.3 - 2.x", ">=1.2.3 <3.0.0-0"),
    ("1.2.3 - *", ">=1.2.3"),
    ("* - *", ""),
    ("1.2.3-pre - 2.3.4-pre", ">=1.2.3-pre <=2.3.4-pre"),
    ("1.2.3+a - 2.3.4+b", ">=1.2.3 <=2.3.4"),
    ("1.2.3-rc.1 - 2.0.0-RC.2", ">=1.2.3-rc.1 <=2.0.0-RC.2"),
    ("1.0 - 2.x", ">=1.0.0 <3.0.0-0"),
    ("  1.2 - 3  ", ">=1.2.0 <4.0.0-0"),
    ("1.2.3 - 2.3.4 || 5", ">=1.2.3 <=2.3.4||>=5.0.0 <6.0.0-0"),
    ("1+b - 2+c", ">=1.0.0 <3.0.0-0"),
    ("1.x.5 - 2", ">=1.0.0 <3.0.0-0"),  # no order check in a hyphen range
    ("1 - 2.x.5", ">=1.0.0 <3.0.0-0"),
    ("x.1 - 2", "<3.0.0-0"),
    ("1.2.3 - x.1", ">=1.2.3"),
    ("v1.2.3 - v2.3.4", ">=1.2.3 <=2.3.4"),  # a whole end: one `v` at most
    ("vv1.2 - 2", ">=1.2.0 <3.0.0-0"),
    ("1.2.3 - vv2", ">=1.2.3 <3.0.0-0"),
    ("v=1 - 2", ">=1.0.0 <3.0.0-0"),
    ("1 - vv2.3.4-beta", ">=1.0.0 <=2.3.4-beta"),  # an upper end with a prerelease is rebuilt
    ("1 - v=2.3.4-beta", ">=1.0.0 <=2.3.4-beta"),
    # sets
    (">=1.2.3 <2", ">=1.2.3 <2.0.0-0"),
    ("1.x || >=2.5.0", ">=1.0.0 <2.0.0-0||>=2.5.0"),
    ("^1.2 || ~0.3", ">=1.2.0 <2.0.0-0||>=0.3.0 <0.4.0-0"),
]


@pytest.mark.parametrize(("range_", "expanded"), EXPANSIONS)
def test_a_range_expands_to_npms_comparators(range_: str, expanded: str) -> None:
    sets = parse_range(range_)
    assert sets is not None
    assert _text(sets) == expanded


NOT_RANGES = [
    "garbage",
    "1.2.3.4",
    ">=1.2.3.4",
    "^1.2.3.4",
    "~1.2.3.4",
    "1.2-3",
    "1.2 -3",
    "- 1.2",
    "1.2 -",
    "1.2.3 - 2.3.4 1.2.3",
    "^1.2.3 - 2",
    "1.2.3 - ^2",
    ">=1.2.3 - 2",
    "~<1.2",
    ">=x1",
    "=>1.2.3",
    "1.2.3 || garbage",
    "^",
    "~",
    ">",
    "^garbage",
    "~1.2.3.4 || 1",
    "1.2.3-beta..1",
    "<>1.2.3",
    "1.-2.3",
    "a.b.c",
    "1.2.3-01",
    "^1.2.3-01",
    # strict forms ghapp accepted before: an empty or dashless prerelease, leading zeros,
    # a caret or tilde before another operator
    "1.2.3-",
    "^1.2.3-",
    ">=01.2.3",
    "1.02",
    "~1.2.3beta",
    "1.2.3beta",
    "^>1.2.3",
    "^^1.2",
    "~~1.2",
    # a number after a wildcard, outside `^`, `~` and hyphen ranges (npm 7.8)
    "1.x.5",
    "x.1",
    ">1.x.3",
    "1.*.3",
    "x.1.2",
    "*.1",
    "X.x.1",
    "<=1.x.3",
    ">=x.1",
    "=1.x.5",
    "1.x.3-beta",
    "1.x.5+b",
    "x.1+b",
    "1.x.3 || 2",
    # a whole version with more than a `v` between operator and number
    "==1.2.3",
    "vv1.2.3",
    "v=1.2.3",
    "=v=1.2.3",
    "=vv1.2.3",
    ">==1.2.3",
    ">=vv1.2.3",
    ">=v=1.2.3",
    "==1.2.3-beta",
    "v=1.2.3-beta",
    "==1.2.3 || 1",
    "vv1.2.3 - 2",
    "=1.2.3 - 2",
    "v=1.2.3-beta - 2",
    "1 - vv2.3.4",
    "1.2.3 - =2.3.4",
    "1 - v 2.3.4",
    # build metadata that is not any
    "1.2.3+",
    "1.2.3+b..c",
    "1+b.",
]


@pytest.mark.parametrize("range_", NOT_RANGES)
def test_text_npm_does_not_read_as_a_range_is_refused(range_: str) -> None:
    assert parse_range(range_) is None
    assert satisfies(Version(1, 2, 3), range_) is False


SATISFIES = [
    # each operator below, at and above its version
    ("<1.2.3", "1.2.2", True),
    ("<1.2.3", "1.2.3", False),
    ("<1.2.3", "1.2.4", False),
    ("<=1.2.3", "1.2.2", True),
    ("<=1.2.3", "1.2.3", True),
    ("<=1.2.3", "1.2.4", False),
    (">1.2.3", "1.2.2", False),
    (">1.2.3", "1.2.3", False),
    (">1.2.3", "1.2.4", True),
    (">=1.2.3", "1.2.2", False),
    (">=1.2.3", "1.2.3", True),
    (">=1.2.3", "1.2.4", True),
    ("=1.2.3", "1.2.2", False),
    ("=1.2.3", "1.2.3", True),
    ("=1.2.3", "1.2.4", False),
    ("1.2.3", "1.2.3+build.7", True),
    ("1.2.3+build.7", "1.2.3", True),
    # major zero
    ("^0", "0.0.0", True),
    ("^0", "0.9.9", True),
    ("^0", "1.0.0", False),
    ("^0.x", "0.5.0", True),
    ("^0.x", "1.0.0", False),
    ("^0.0", "0.0.9", True),
    ("^0.0", "0.1.0", False),
    ("^0.0.x", "0.0.5", True),
    ("^0.0.x", "0.1.0", False),
    ("^0.0.0", "0.0.0", True),
    ("^0.0.0", "0.0.1", False),
    ("~0", "0.9.0", True),
    ("~0", "1.0.0", False),
    ("~0.0", "0.0.9", True),
    ("~0.0", "0.1.0", False),
    ("0.0", "0.0.5", True),
    ("0.0", "0.1.0", False),
    ("0.0 - 0.0", "0.0.5", True),
    ("0.0 - 0.0", "0.1.0", False),
    (">=0.0.0", "0.0.0", True),
    ("<0.0.1", "0.0.0", True),
    (">*", "0.0.0", False),
    ("<*", "0.0.0", False),
    ("*", "0.0.0", True),
    # sets: any one of them
    ("1.2.3 ||", "9.9.9", True),
    ("|| 1.2.3", "0.0.1", True),
    ("1.2.3 || +b", "9.9.9", True),
    ("<1 || >2", "1.5.0", False),
    ("<1 || >2", "2.5.0", False),
    ("<1 || >2", "3.0.0", True),
    ("<1 || >2", "0.5.0", True),
    (">=1.2.3 <2", "2.0.0", False),
    (">=1.2.3 <2", "1.9.9", True),
    (">=1.2.3 <2", "1.2.2", False),
    # prereleases
    ("*", "1.0.0-rc.1", False),
    ("", "1.0.0-rc.1", False),
    (">=1.0.0", "1.5.0-rc.1", False),
    ("<2.0.0", "2.0.0-beta", False),
    ("1.x", "1.5.0-beta", False),
    ("^1.2.3-beta.2", "1.2.3-beta.4", True),
    ("^1.2.3-beta.2", "1.2.3-beta.1", False),
    ("^1.2.3-beta.2", "1.2.4-beta.3", False),
    ("^1.2.3-beta.2", "1.2.4", True),
    ("^1.2.3-beta.2", "1.2.3", True),
    (">1.2.3-alpha.3", "1.2.3-alpha.7", True),
    (">1.2.3-alpha.3", "3.4.5-alpha.9", False),
    (">1.2.3-alpha.3", "3.4.5", True),
    (">1.2.3-alpha.3", "1.2.3-alpha.3", False),
    ("1.2.3-rc.1 - 2.0.0", "2.0.0-rc.1", False),
    ("1.2.3 - 2.0.0-rc.2", "2.0.0-rc.1", True),
    ("1.0.0 - 1.2.3", "1.2.3-beta", False),
    (">=1.2.3-alpha <3", "2.0.0-beta", False),
    ("<1.2.3-rc.1", "1.2.3-beta", True),
    ("<1.2.3-rc.1", "1.2.2-zeta", False),
    ("1.2.3-rc.1", "1.2.3-rc.1", True),
    ("1.2.3-rc.1", "1.2.3-rc.2", False),
    ("^1.2.3-alpha || 2.x", "1.2.3-beta", True),
    ("2.x || ^1.2.3-alpha", "1.2.3-beta", True),
    ("1.x || >=1.2.3-alpha", "1.2.3-beta", True),
    ("1.x || >=1.2.3-alpha", "1.2.4-beta", False),
    ("~1.2.3-beta.2", "1.2.3-beta.10", True),
    ("~1.2.3-beta.2", "1.2.4-beta.10", False),
    ("<=1.2.3-rc.1 >=1.0.0", "1.2.3-alpha", True),
    (">=1.0.0 <=1.2.3-rc.1", "1.2.3-alpha", True),
    # not a range
    ("garbage", "1.0.0", False),
    ("1.2.3 || garbage", "1.2.3", False),
    (">=01.2.3", "1.2.3", False),
]


@pytest.mark.parametrize(("range_", "version", "expected"), SATISFIES)
def test_a_version_satisfies_a_range_as_in_npm(range_: str, version: str, expected: bool) -> None:
    assert satisfies(Version.parse(version), range_) is expected
