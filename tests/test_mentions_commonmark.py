"""ghapp's mention decision against the rendered page, on every CommonMark spec example.

Each example of the CommonMark 0.31.2 spec gets ``@slug help`` put at the start of each of
its lines, and at the end of each line before its line break — 3,800 comments that reach
every block and inline construct the spec knows. For each, the number of mentions ghapp
finds must equal the number GitHub shows: the reference (tests/support/rendered_mentions)
renders the comment to HTML, builds the page as a browser does and applies GitHub's
mention pattern to its text nodes, sharing no code with ghapp's parser. There is no
documented exception: every case must agree.
"""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt

from ghapp.skills.mention_reply.mentions import find_mentions
from tests.support.commonmark_spec import SPEC_EXAMPLES, SpecExample, spec_examples
from tests.support.rendered_mentions import reference_mentions

SLUG = "slug"
CASES_IN_SPEC = 3800


def injected(example: SpecExample) -> list[tuple[str, int, str]]:
    """The comments made from one example: ``@slug help`` at each line's start and end."""
    lines = example.markdown.split("\n")
    cases = []
    for i in range(len(lines)):
        changed = [*lines[:i], f"@{SLUG} help {lines[i]}", *lines[i + 1 :]]
        cases.append(("start", i, "\n".join(changed)))
    for i in range(len(lines) - 1):  # the last "line" is what follows the final newline
        changed = [*lines[:i], f"{lines[i]} @{SLUG} help", *lines[i + 1 :]]
        cases.append(("end", i, "\n".join(changed)))
    return cases


def test_the_spec_makes_as_many_cases_as_the_issue_counts() -> None:
    assert sum(len(injected(example)) for example in spec_examples()) == CASES_IN_SPEC


def test_the_reference_renderer_is_commonmark() -> None:
    """The reference renders every spec example as the spec says (its GFM extras off),
    up to the line breaks between tags (`<blockquote></blockquote>` for an empty quote)."""
    plain = MarkdownIt("commonmark")

    def same(html: str) -> str:
        return re.sub(r">\n+<", "><", html)

    wrong = [e.number for e in spec_examples() if same(plain.render(e.markdown)) != same(e.html)]
    assert wrong == []


@pytest.mark.parametrize("number", range(1, SPEC_EXAMPLES + 1), ids=lambda n: f"example-{n}")
def test_mentions_agree_with_the_rendered_page(number: int) -> None:
    example = spec_examples()[number - 1]
    disagreements = []
    for where, line, comment in injected(example):
        expected = reference_mentions(comment, SLUG)
        found = find_mentions(comment, SLUG)
        for mention in found:
            assert comment[mention.start : mention.end].lower() == f"@{SLUG}"
        if len(found) != expected:
            disagreements.append((where, line, comment, expected, len(found)))
    assert disagreements == []
