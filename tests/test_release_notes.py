"""`$CHANGES`, `$AUTHORS`, `$CONTRIBUTORS` and the title rules, as release-drafter writes
them (its README and its tests' expected notes, restated here as data)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ghapp.options import validate_options
from ghapp.skills.release_publish.categories import path_matches
from ghapp.skills.release_publish.notes import (
    CommitAuthor,
    CommitInfo,
    MergedPull,
    contributors_sentence,
    included,
    new_contributors,
    render_changes,
    render_released_comment,
    sort_pulls,
)
from ghapp.skills.release_publish.options import ReleaseOptions, Replacer
from ghapp.skills.release_publish.template import (
    apply_replacers,
    escape_title,
    protect,
    render,
    unprotect,
)

T0 = datetime(2026, 3, 1, tzinfo=UTC)
GH = "https://github.com"


def options_from(section: dict[str, Any]) -> ReleaseOptions:
    return validate_options("release-publish", ReleaseOptions, section)  # type: ignore[return-value]


def pull(
    number: int, title: str, *labels: str, author: str | None = "mona", **kw: Any
) -> MergedPull:
    return MergedPull(
        number=number,
        title=title,
        author=author,
        author_is_bot=kw.pop("bot", False),
        labels=labels,
        merged_at=kw.pop("merged_at", T0 + timedelta(hours=number)),
        url=f"{GH}/o/r/pull/{number}",
        **kw,
    )


FEATURE = pull(1, "Add search", "feature")
FIX = pull(2, "Fix crash", "bug")
BOTH = pull(3, "Fix and add", "feature", "bug")
DOCS = pull(4, "Docs")


def changes(
    pulls: list[MergedPull], section: dict[str, Any], commits: tuple[CommitInfo, ...] = ()
) -> str:
    options = options_from({"template": "$CHANGES", **section})
    kept = sort_pulls(included(pulls, options.rules), options)
    return unprotect(render_changes(kept, options, GH, commits))


CATEGORIES = [
    {"title": "Features", "labels": ["feature"]},
    {"title": "Fixes", "when": {"label": "bug"}},
]


@pytest.mark.parametrize(
    ("pulls", "section", "expected"),
    [
        # Newest first, release-drafter's default line.
        ([FEATURE, FIX], {}, "* Fix crash (#2) @mona\n* Add search (#1) @mona"),
        (
            [FEATURE, FIX],
            {"sort-direction": "ascending"},
            "* Add search (#1) @mona\n* Fix crash (#2) @mona",
        ),
        ([FIX, FEATURE], {"sort-by": "title"}, "* Fix crash (#2) @mona\n* Add search (#1) @mona"),
        (
            [FIX, FEATURE],
            {"sort-by": "title", "sort-direction": "ascending"},
            "* Add search (#1) @mona\n* Fix crash (#2) @mona",
        ),
        # Uncategorised first and without a heading; a change in two categories is in both.
        (
            [FEATURE, FIX, BOTH, DOCS],
            {"categories": CATEGORIES},
            "* Docs (#4) @mona\n\n## Features\n\n* Fix and add (#3) @mona\n* Add search (#1) @mona"
            "\n\n## Fixes\n\n* Fix and add (#3) @mona\n* Fix crash (#2) @mona",
        ),
        # An exclusive category keeps its changes to itself.
        (
            [BOTH],
            {"categories": [{**CATEGORIES[0], "exclusive": True}, CATEGORIES[1]]},
            "## Features\n\n* Fix and add (#3) @mona",
        ),
        # A category without labels takes the uncategorised changes, where it stands.
        (
            [FEATURE, DOCS],
            {"categories": [{"title": "Other"}, CATEGORIES[0]]},
            "## Other\n\n* Docs (#4) @mona\n\n## Features\n\n* Add search (#1) @mona",
        ),
        # ghapp's `other-title` is that category, placed last.
        (
            [FEATURE, DOCS],
            {"categories": CATEGORIES[:1], "other-title": "Other"},
            "## Features\n\n* Add search (#1) @mona\n\n## Other\n\n* Docs (#4) @mona",
        ),
        (
            [FEATURE, BOTH],
            {"categories": [{**CATEGORIES[0], "collapse-after": 1}]},
            "## Features\n\n<details>\n<summary>2 changes</summary>\n\n"
            "* Fix and add (#3) @mona\n* Add search (#1) @mona\n</details>",
        ),
        (
            [FEATURE],
            {"categories": [{**CATEGORIES[0], "collapse-after": 0}]},
            "## Features\n\n<details>\n<summary>1 change</summary>\n\n"
            "* Add search (#1) @mona\n</details>",
        ),
        (
            [FEATURE, BOTH],
            {"categories": [{**CATEGORIES[0], "collapse-after": -1}]},
            "## Features\n\n* Fix and add (#3) @mona\n* Add search (#1) @mona",
        ),
        (
            [FEATURE],
            {"categories": CATEGORIES, "category-template": "### $TITLE ($TITLE)"},
            "### Features (Features)\n\n* Add search (#1) @mona",
        ),
        # Filters: excluded labels, included labels, pre-include / pre-exclude categories.
        ([FEATURE, FIX], {"exclude-labels": ["bug"]}, "* Add search (#1) @mona"),
        ([FEATURE, FIX], {"include-labels": ["bug"]}, "* Fix crash (#2) @mona"),
        (
            [FEATURE, FIX],
            {"categories": [{"type": "pre-exclude", "when": {"label": "feature"}}]},
            "* Fix crash (#2) @mona",
        ),
        ([FEATURE, FIX], {"exclude-labels": ["bug", "feature"]}, "* No changes"),
        ([], {"no-changes-template": "Nothing new"}, "Nothing new"),
        # The change template's variables.
        (
            [replace(FIX, body="It crashed", base_ref="main", head_ref="fix/crash")],
            {
                "change-template": "$NUMBER|$TITLE|$AUTHOR|$BODY|$URL|"
                "$BASE_REF_NAME|$HEAD_REF_NAME|$CATEGORY|$UNKNOWN"
            },
            f"2|Fix crash|mona|It crashed|{GH}/o/r/pull/2|main|fix/crash||$UNKNOWN",
        ),
        (
            [FIX],
            {"change-template": "- $TITLE @$AUTHOR ($CATEGORY)", "categories": CATEGORIES},
            "## Fixes\n\n- Fix crash @mona (Fixes)",
        ),
    ],
)
def test_changes(pulls: list[MergedPull], section: dict[str, Any], expected: str) -> None:
    assert changes(pulls, section) == expected


@pytest.mark.parametrize(
    ("title", "escapes", "expected"),
    [
        (
            "`#code_block` fixes #4 for @mona",
            "",
            "`#code_block` fixes #4 for @mona",
        ),  # nothing by default
        ("Rename a\\b", "\\", "Rename a\\\\b"),
        (
            "Adds <example> 2*2 __init__ & co",
            "\\<*_&",
            "Adds \\<example> 2\\*2 \\_\\_init\\_\\_ \\& co",
        ),
        ("Fixes #4 for @mona", "@#", "Fixes #<!---->4 for @<!---->mona"),
        ("Keep `a*b` as code, not a*b", "*", "Keep `a*b` as code, not a\\*b"),
        ("`#x` only", "`#", "\\`#<!---->x\\` only"),  # a listed backtick is escaped too
    ],
)
def test_title_escapes(title: str, escapes: str, expected: str) -> None:
    assert escape_title(title, escapes) == expected


def test_authors_name_the_author_and_every_commit_author() -> None:
    paired = replace(
        FIX,
        author="jetersen",
        commit_authors=(
            CommitAuthor("TimonVS", "Timon"),
            CommitAuthor(None, "Ada Lovelace"),
            CommitAuthor("jetersen"),
        ),
    )
    assert changes([paired], {}) == "* Fix crash (#2) @jetersen, Ada Lovelace, @TimonVS"
    section = {
        "change-author-template": "$AUTHOR",
        "change-authors-separator": "; ",
        "change-authors-final-separator": " & ",
    }
    assert changes([paired], section) == "* Fix crash (#2) jetersen; Ada Lovelace & TimonVS"


def test_a_bot_author_is_a_link_to_its_app_and_a_ghost_is_ghost() -> None:
    bot = pull(5, "Bump x", author="dependabot", bot=True, author_url=f"{GH}/apps/dependabot")
    ghost = pull(6, "Old change", author=None)
    assert changes([bot, ghost], {}) == (
        f"* Old change (#6) @ghost\n* Bump x (#5) [@dependabot[bot]]({GH}/apps/dependabot)"
    )
    assert (
        changes([bot], {"change-template": "$AUTHOR"}) == f"[dependabot[bot]]({GH}/apps/dependabot)"
    )


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        (
            {},
            "@mona, @zoe, Ada Lovelace, @Alan, @lin and [@renovate[bot]](https://github.com/apps/renovate)",
        ),
        # A git name that is no GitHub account is never excluded.
        (
            {"exclude-contributors": ["zoe", "renovate", "Ada Lovelace"]},
            "@mona, Ada Lovelace, @Alan and @lin",
        ),
        ({"exclude-bots": True}, "@mona, @zoe, Ada Lovelace, @Alan and @lin"),
    ],
)
def test_contributors(section: dict[str, Any], expected: str) -> None:
    # Pull request authors first, then the other commit authors, people before bots,
    # each group alphabetical and blind to case.
    pulls = [
        pull(
            1,
            "A",
            author="zoe",
            commit_authors=(CommitAuthor("lin"), CommitAuthor(None, "Ada Lovelace")),
        ),
        pull(
            2,
            "B",
            author="mona",
            commit_authors=(CommitAuthor("Alan"), CommitAuthor("renovate[bot]")),
        ),
    ]
    assert unprotect(contributors_sentence(pulls, options_from(section), GH)) == expected


def test_no_contributors_template() -> None:
    assert (
        contributors_sentence([], options_from({"no-contributors-template": "Nobody"}), GH)
        == "Nobody"
    )


def test_new_contributors() -> None:
    first = pull(3, "First", author="newbie", first_contribution=True)
    options = options_from({})
    assert (
        unprotect(new_contributors([FIX, first], options))
        == "* @newbie made their first contribution in #3"
    )
    assert new_contributors([FIX], options) == "* No new contributors"


def test_commit_messages_stand_in_only_for_ghapps_own_notes() -> None:
    commits = (
        CommitInfo("a" * 40, "Tidy the README\n\nmore", "mona"),
        CommitInfo("b" * 40, "Fix typo", None),
    )
    ghapp_notes = options_from({})
    assert unprotect(render_changes([], ghapp_notes, GH, commits)) == (
        "* Tidy the README (aaaaaaa) @mona\n* Fix typo (bbbbbbb)"
    )
    # A file with its own template is release-drafter's: "No changes".
    assert changes([], {}, commits) == "* No changes"
    assert changes([], {"commits-when-no-pull-requests": True}, commits).startswith(
        "* Tidy the README"
    )


def test_text_from_a_pull_request_is_never_expanded() -> None:
    sneaky = pull(7, "Use $RESOLVED_VERSION and $CONTRIBUTORS")
    options = options_from({"template": "$CHANGES"})
    line = render_changes([sneaky], options, GH)
    assert unprotect(render(line, {"$RESOLVED_VERSION": "9.9.9", "$CONTRIBUTORS": "x"})) == (
        "* Use $RESOLVED_VERSION and $CONTRIBUTORS (#7) @mona"
    )
    assert unprotect(protect("$A")) == "$A"


@pytest.mark.parametrize(
    ("search", "replace_with", "text", "expected"),
    [
        (
            "/Add documentation \\(#(\\d+)/g",
            "Add documentation (#1000",
            "Add documentation (#5) x",
            "Add documentation (#1000) x",
        ),
        ("a.b", "X", "a.b axb a.b", "X axb X"),  # plain text: every occurrence, dots literal
        ("/o/", "0", "foo boo", "f0o boo"),  # no `g`: the first match only
        ("/(\\w+)@(\\w+)/g", "$2 at $1, $$, $&", "me@host", "host at me, $, me@host"),
        ("/(\\w+)/", "\\u$1", "word", "Word"),
        ("/(\\w+)/", "\\U$1", "word", "WORD"),
        ("/FOO/i", "bar\\nbaz", "foo", "bar\nbaz"),
        ("/(?<name>x)/", "[$1]", "axb", "a[x]b"),
        ("/[unclosed/", "never", "[unclosed", "[unclosed"),  # not a valid expression: skipped
    ],
)
def test_replacers(search: str, replace_with: str, text: str, expected: str) -> None:
    assert apply_replacers(text, [Replacer(search=search, replace=replace_with)]) == expected


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("src/5.md", "src/5.md", True),
        ("some/path", "some/path/deep/file.txt", True),
        ("docs/", "docs/a.md", True),
        ("docs/", "docs", False),  # a directory pattern, and `docs` is a file here
        ("*.md", "deep/in/README.md", True),  # no slash: at any depth
        ("/README.md", "sub/README.md", False),
        ("src/**/test_*.py", "src/a/b/test_x.py", True),
        ("!src", "src/a", False),
        ("src/5.md", "src/55.md", False),
    ],
)
def test_paths_match_as_gitignore_patterns(pattern: str, path: str, expected: bool) -> None:
    assert path_matches(pattern, path) is expected


@pytest.mark.parametrize(
    ("mode", "files", "expected"),
    [
        ("any", ("src/a.py", "README.md"), True),
        ("all", ("src/a.py",), False),
        ("all", ("src/a.py", "docs/x.md"), True),
        ("only", ("src/a.py", "README.md"), False),
        ("only", ("src/a.py",), True),
        ("exactly", ("src/a.py", "docs/x.md"), True),
        ("exactly", ("src/a.py",), False),
        ("any", (), False),
    ],
)
def test_path_modes(mode: str, files: tuple[str, ...], expected: bool) -> None:
    section = {
        "categories": [{"title": "Code", "when": {"paths": ["src/", "docs/"], "paths-mode": mode}}]
    }
    listed = changes([pull(1, "Change", changed_files=files)], section)
    assert listed.startswith("## Code") is expected


@pytest.mark.parametrize(
    ("mode", "labels", "expected"),
    [
        ("any", ("a", "z"), True),
        ("all", ("a",), False),
        ("all", ("a", "b", "z"), True),
        ("only", ("a", "z"), False),
        ("only", ("a",), True),
        ("exactly", ("a", "b"), True),
        ("exactly", ("a",), False),
    ],
)
def test_label_modes(mode: str, labels: tuple[str, ...], expected: bool) -> None:
    section = {"categories": [{"title": "AB", "when": {"labels": ["a", "b"], "labels-mode": mode}}]}
    assert changes([pull(1, "Change", *labels)], section).startswith("## AB") is expected


@pytest.mark.parametrize(
    ("title", "condition", "expected"),
    [
        ("feat(api): add endpoint", {"type": "feat"}, True),
        ("feat(api): add endpoint", {"scope": "ui"}, False),
        ("fix!: drop v1", {"breaking": True}, True),
        ("fix: thing\n\nBREAKING CHANGE: gone", {"breaking": True}, True),
        ("fix: thing", {"breaking": True}, False),
        ("Add endpoint", True, False),
        ("chore: tidy", True, True),
    ],
)
def test_conventional_titles(title: str, condition: Any, expected: bool) -> None:
    section = {"categories": [{"title": "Conv", "when": {"conventional": condition}}]}
    assert changes([pull(1, title)], section).startswith("## Conv") is expected


def test_released_comment() -> None:
    options = options_from({"released-comment-template": "Out in $TAG ($RESOLVED_VERSION): $URL"})
    assert (
        render_released_comment(options, version="1.2.0", tag="v1.2.0", url="u")
        == "Out in v1.2.0 (1.2.0): u"
    )
