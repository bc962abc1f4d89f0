"""The config check run's text: each problem with its line, then the next step linking
the first line on the GitHub web site the repository lives on (GitHub Enterprise too),
at the default branch the check read."""

from __future__ import annotations

from ghapp.config_check import _site, check_output
from ghapp.repo_config import Location, Problem

FILE = ".github/ghapp.yml"


def test_problems_say_their_line_and_the_first_is_linked_on_the_repository_s_site() -> None:
    site = _site("https://ghe.example.com/octo/hello", "octo/hello")
    assert site == "https://ghe.example.com"
    output = check_output(
        [
            Problem(
                "hello.greting: Extra inputs are not permitted",
                Location("octo", "hello", FILE, None, 5),
            ),
            Problem("nope: no such skill"),
        ],
        ["a note"],
        repo="octo/hello",
        branch="trunk",
        site=site,
    )
    assert output["conclusion"] == "failure"
    assert output["output"]["summary"] == (
        "- hello.greting: Extra inputs are not permitted (line 5)\n"
        "- nope: no such skill\n"
        "- a note\n\n"
        f"**Next:** Fix line 5 of {FILE}; the next event uses it. "
        f"[Open line 5 of {FILE}](https://ghe.example.com/octo/hello/blob/trunk/{FILE}#L5)"
    )


def test_without_a_known_line_nothing_is_linked() -> None:
    output = check_output(["nope: no such skill"], [], repo="octo/hello", branch="main")
    assert output["output"]["summary"] == "- nope: no such skill"
    assert check_output([], [])["output"]["summary"] == "Every skill's section validates."


def test_a_site_is_read_from_the_repository_s_page_or_is_github_com() -> None:
    assert _site("https://github.com/Octo/Hello", "octo/hello") == "https://github.com"
    assert _site(None, "octo/hello") == "https://github.com"
    assert _site("https://elsewhere.example/other/repo", "octo/hello") == "https://github.com"
