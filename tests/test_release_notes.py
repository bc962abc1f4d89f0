"""Release notes rendering: categories, exclusions, escaping, contributors, fallbacks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from semver import Version

from ghapp.skills.release_publish.notes import (
    CommitInfo,
    MergedPull,
    escape_title,
    render_notes,
    render_release_name,
    render_released_comment,
    substitute,
)
from ghapp.skills.release_publish.options import ReleaseOptions

T0 = datetime(2024, 1, 1, tzinfo=UTC)
V = Version(1, 3, 0)

# Only $CHANGES, so each test sees the block it is about.
CHANGES_ONLY: dict[str, Any] = {"template": "$CHANGES"}
CATEGORIES: list[dict[str, Any]] = [
    {"title": "Features", "labels": ["feature", "enhancement"]},
    {"title": "Fixes", "label": "bug"},
]


def pull(
    number: int,
    title: str = "",
    *labels: str,
    author: str = "alice",
    bot: bool = False,
    minutes: int | None = None,
) -> MergedPull:
    return MergedPull(
        number=number,
        title=title or f"Change {number}",
        author=author,
        author_is_bot=bot,
        labels=labels,
        merged_at=T0 + timedelta(minutes=number if minutes is None else minutes),
        url=f"https://github.com/o/r/pull/{number}",
    )


def options(**data: Any) -> ReleaseOptions:
    return ReleaseOptions.model_validate({**CHANGES_ONLY, **data})


def changes(pulls: list[MergedPull], **data: Any) -> str:
    return render_notes(pulls, options(**data), version=V, previous_tag="v1.2.0")


def test_default_template() -> None:
    notes = render_notes(
        [pull(1, "Add x", author="bob")], ReleaseOptions(), version=V, previous_tag=None
    )
    assert notes == ("## What's changed\n\n- Add x (#1) @bob\n\n**Contributors:** @bob")


@pytest.mark.parametrize(
    ("pulls", "data", "expected"),
    [
        pytest.param(
            [pull(1, "A", "feature"), pull(2, "B", "bug"), pull(3, "C", "enhancement")],
            {"categories": CATEGORIES},
            "## Features\n\n- A (#1) @alice\n- C (#3) @alice\n\n## Fixes\n\n- B (#2) @alice",
            id="grouped-in-configured-order",
        ),
        pytest.param(
            [pull(1, "A", "bug", "feature")],
            {"categories": CATEGORIES},
            "## Features\n\n- A (#1) @alice",
            id="first-matching-category-wins",
        ),
        pytest.param(
            [pull(1, "A", "docs"), pull(2, "B", "bug"), pull(3, "C")],
            {"categories": CATEGORIES},
            "## Fixes\n\n- B (#2) @alice\n\n## Other changes\n\n- A (#1) @alice\n- C (#3) @alice",
            id="other-bucket-last-and-empty-categories-omitted",
        ),
        pytest.param(
            [pull(1, "A", "docs")],
            {"categories": CATEGORIES, "other_title": "Misc"},
            "## Misc\n\n- A (#1) @alice",
            id="other-title-configurable",
        ),
        pytest.param(
            [pull(1, "A", "docs"), pull(2, "B", "bug")],
            {"categories": [{"title": "Everything else"}, *CATEGORIES]},
            "## Everything else\n\n- A (#1) @alice\n\n## Fixes\n\n- B (#2) @alice",
            id="label-less-category-collects-the-rest-where-placed",
        ),
        pytest.param(
            [pull(1, "A", "Feature")],
            {"categories": CATEGORIES},
            "## Features\n\n- A (#1) @alice",
            id="labels-case-insensitive",
        ),
        pytest.param(
            [pull(1, "A", "bug"), pull(2, "B")],
            {},
            "- A (#1) @alice\n- B (#2) @alice",
            id="no-categories-no-headings",
        ),
        pytest.param(
            [pull(1, "A", "bug"), pull(2, "B", "skip-changelog", "bug")],
            {"exclude_labels": ["Skip-Changelog"]},
            "- A (#1) @alice",
            id="exclude-labels",
        ),
        pytest.param(
            [pull(1, "A", "bug"), pull(2, "B", "docs"), pull(3, "C")],
            {"include_labels": ["bug", "docs"], "exclude_labels": ["docs"]},
            "- A (#1) @alice",
            id="include-labels-then-exclude",
        ),
        pytest.param(
            [pull(1, "A", "bug"), pull(2, "B", "bug"), pull(3, "C", "bug")],
            {"categories": [{"title": "Fixes", "label": "bug", "collapse_after": 2}]},
            "## Fixes\n\n<details>\n<summary>3 changes</summary>\n\n"
            "- A (#1) @alice\n- B (#2) @alice\n- C (#3) @alice\n</details>",
            id="collapse-after",
        ),
        pytest.param(
            [pull(1, "A")],
            {"change_template": "* [$TITLE]($URL) by $AUTHOR", "category_template": "### $TITLE"},
            "* [A](https://github.com/o/r/pull/1) by alice",
            id="change-template-variables",
        ),
        pytest.param(
            [pull(5, "Late", minutes=10), pull(9, "Tie", minutes=1), pull(3, "Tie2", minutes=1)],
            {},
            "- Tie2 (#3) @alice\n- Tie (#9) @alice\n- Late (#5) @alice",
            id="ordered-by-merged-at-then-number",
        ),
        pytest.param(
            [pull(1, "A"), pull(1, "A")],
            {},
            "- A (#1) @alice",
            id="duplicate-pulls-from-overlapping-pages-once",
        ),
    ],
)
def test_changes(pulls: list[MergedPull], data: dict[str, Any], expected: str) -> None:
    assert changes(pulls, **data) == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Use **bold** and _it_", "Use \\*\\*bold\\*\\* and \\_it\\_"),
        ("Escape <script>alert(1)</script>", "Escape \\<script>alert(1)\\</script>"),
        ("Fix `code` span", "Fix \\`code\\` span"),
        ("Thanks @octocat for #12", "Thanks \\@octocat for \\#12"),
        ("A & B", "A \\& B"),
        ("Path C:\\temp", "Path C:\\\\temp"),
        ("Two\nlines\r\n  here ", "Two lines here"),
        ("Plain title [link](x)", "Plain title [link](x)"),
    ],
)
def test_escape_title_default(title: str, expected: str) -> None:
    assert escape_title(title, ReleaseOptions().change_title_escapes) == expected


def test_escaping_is_configurable_and_can_be_off() -> None:
    assert changes([pull(1, "a_b *c*")], change_title_escapes="") == "- a_b *c* (#1) @alice"
    assert changes([pull(1, "a_b *c*")], change_title_escapes="*") == "- a_b \\*c\\* (#1) @alice"


def test_title_text_is_never_expanded_as_a_variable() -> None:
    notes = render_notes(
        [pull(1, "Mention $CONTRIBUTORS and $NUMBER")],
        ReleaseOptions(change_title_escapes="", template="$CHANGES | $CONTRIBUTORS"),
        version=V,
        previous_tag=None,
    )
    assert notes == "- Mention $CONTRIBUTORS and $NUMBER (#1) @alice | @alice"


def test_no_pulls_falls_back_to_commit_messages() -> None:
    commits = [
        CommitInfo("abcdef1234567", "Fix *typo*\n\nLonger body", "bob"),
        CommitInfo("1234567abcdef", "Initial import", None),
        CommitInfo("fedcba9876543", "Bump deps", "dependabot[bot]"),
    ]
    notes = render_notes(
        [],
        ReleaseOptions(template="$CHANGES\n\nBy $CONTRIBUTORS"),
        version=V,
        previous_tag="v1.2.0",
        commits_if_no_pulls=commits,
    )
    assert notes == (
        "- Fix \\*typo\\* (abcdef1) @bob\n"
        "- Initial import (1234567)\n"
        "- Bump deps (fedcba9) @dependabot[bot]\n"
        "\n"
        "By @bob"
    )


def test_commits_are_not_used_when_there_are_pulls() -> None:
    notes = render_notes(
        [pull(1, "A")],
        options(),
        version=V,
        previous_tag=None,
        commits_if_no_pulls=[CommitInfo("abc1234", "ignored", "x")],
    )
    assert notes == "- A (#1) @alice"


def test_all_pulls_excluded_and_no_commits_says_no_changes() -> None:
    notes = render_notes(
        [pull(1, "A", "skip")],
        ReleaseOptions(exclude_labels=("skip",), template="$CHANGES / $CONTRIBUTORS"),
        version=V,
        previous_tag=None,
    )
    assert notes == "- No changes / No contributors"


def test_250_pulls_all_rendered_without_truncation() -> None:
    pulls = [pull(n, f"Change {n}", "feature" if n % 2 else "bug") for n in range(1, 251)]
    notes = changes(list(reversed(pulls)), categories=CATEGORIES)
    lines = [line for line in notes.splitlines() if line.startswith("- ")]
    assert len(lines) == 250
    assert {int(line.split("(#")[1].split(")")[0]) for line in lines} == set(range(1, 251))
    assert "## Features\n\n- Change 1 (#1) @alice\n- Change 3 (#3)" in notes


@pytest.mark.parametrize(
    ("pulls", "data", "expected"),
    [
        pytest.param(
            [pull(1, author="carol"), pull(2, author="Alice"), pull(3, author="bob")],
            {},
            "@Alice, @bob and @carol",
            id="sorted-case-insensitively",
        ),
        pytest.param(
            [pull(1, author="bob"), pull(2, author="bob"), pull(3, author="BOB")],
            {},
            "@bob",
            id="each-once",
        ),
        pytest.param(
            [
                pull(1, author="bob"),
                pull(2, author="dependabot[bot]", bot=True),
                pull(3, author="renovate[bot]"),
                pull(4, author="ci-user", bot=True),
            ],
            {},
            "@bob",
            id="bots-excluded-by-default",
        ),
        pytest.param(
            [pull(1, author="bob"), pull(2, author="dependabot[bot]", bot=True)],
            {"exclude_bots": False},
            "@bob and @dependabot[bot]",
            id="bots-kept-when-asked",
        ),
        pytest.param(
            [pull(1, author="bob"), pull(2, author="Maintainer")],
            {"exclude_contributors": ["maintainer"]},
            "@bob",
            id="exclude-contributors",
        ),
        pytest.param(
            [pull(1, author="dependabot[bot]", bot=True)],
            {"no_contributors_template": "Nobody"},
            "Nobody",
            id="no-contributors-template",
        ),
        pytest.param(
            [pull(1, "A", "skip", author="zed"), pull(2, author="bob")],
            {"exclude_labels": ["skip"]},
            "@bob",
            id="excluded-pulls-credit-nobody",
        ),
    ],
)
def test_contributors(pulls: list[MergedPull], data: dict[str, Any], expected: str) -> None:
    assert changes(pulls, **{**data, "template": "$CONTRIBUTORS"}) == expected


def test_bot_changes_stay_listed() -> None:
    assert changes([pull(1, "Bump", author="dependabot[bot]", bot=True)]) == (
        "- Bump (#1) @dependabot[bot]"
    )


@pytest.mark.parametrize(
    ("template", "previous_tag", "expected"),
    [
        ("$RESOLVED_VERSION / $VERSION", "v1.2.0", "1.3.0 / 1.3.0"),
        ("$PREVIOUS_TAG", "v1.2.0", "v1.2.0"),
        ("[$PREVIOUS_TAG]", None, "[]"),
        (
            "$NEXT_PATCH_VERSION $NEXT_MINOR_VERSION $NEXT_MAJOR_VERSION",
            "v1.2.0",
            "1.2.1 1.3.0 2.0.0",
        ),
        ("$NEXT_PATCH_VERSION", None, "0.0.1"),
        ("$NEXT_PATCH_VERSION", "1.2.0", "1.2.1"),  # a tag from before the template
        ("$NEXT_PATCH_VERSION", "nightly", "0.0.1"),
        ("$UNKNOWN stays", "v1.2.0", "$UNKNOWN stays"),
    ],
)
def test_release_variables(template: str, previous_tag: str | None, expected: str) -> None:
    notes = render_notes(
        [], ReleaseOptions(template=template), version=V, previous_tag=previous_tag
    )
    assert notes == expected


def test_header_and_footer_surround_the_template() -> None:
    notes = render_notes(
        [pull(1, "A")],
        ReleaseOptions(header="Release $RESOLVED_VERSION", template="$CHANGES", footer="Bye\n"),
        version=V,
        previous_tag=None,
    )
    assert notes == "Release 1.3.0\n\n- A (#1) @alice\n\nBye"


def test_rendering_is_deterministic() -> None:
    pulls = [pull(n, f"C{n}", "bug" if n % 3 else "feature") for n in range(30)]
    first = changes(pulls, categories=CATEGORIES)
    assert changes(list(reversed(pulls)), categories=CATEGORIES) == first


def test_release_name_and_released_comment() -> None:
    opts = ReleaseOptions(name_template="Release $RESOLVED_VERSION (after $PREVIOUS_TAG)")
    assert render_release_name(opts, version=V, previous_tag="v1.2.0") == (
        "Release 1.3.0 (after v1.2.0)"
    )
    comment = render_released_comment(
        ReleaseOptions(), version=V, tag="v1.3.0", url="https://github.com/o/r/releases/v1.3.0"
    )
    assert comment == "🎉 Released in [v1.3.0](https://github.com/o/r/releases/v1.3.0)"


@pytest.mark.parametrize(
    ("template", "values", "expected"),
    [
        ("$A$AB", {"A": "1", "AB": "2"}, "12"),
        ("$A", {"A": "$A"}, "$A"),
        ("$a $B", {"A": "x"}, "$a $B"),
        ("plain", {}, "plain"),
    ],
)
def test_substitute(template: str, values: dict[str, str], expected: str) -> None:
    assert substitute(template, values) == expected
