"""Where an invalid option was written (issue 20): a validation error's `loc` leads to the
line (and column) of the key or list item in the file that gave it — the repository's own
file or an `_extends` base — and a YAML syntax error says its line. Lines are found only
when something is reported: the normal load tracks nothing."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from ghapp.options import section_errors, section_problems
from ghapp.repo_config import Location, RepoConfigError, RepoConfigLoader
from ghapp.repo_config import model as model_module
from ghapp.repo_config.lines import locate
from tests.test_repo_config_probot import ContentsApi, github

OWN = "octo/hello:.github/ghapp.yml"
BASE = "octo/base:.github/ghapp.yml"
ORG = "octo/.github:.github/ghapp.yml"

TEXT = """\
# a comment
defaults: &defaults
  color: red
  size: 2
label-sync:
  labels:
    - name: bug
      color: 123
    - name: wip
  exclude-labels: [a, b, c]
other:
  <<: *defaults
  size: 3
  list: &items [x, y]
  again: *items
"""


@pytest.mark.parametrize(
    ("path", "where"),
    [
        (("label-sync",), (5, 1)),
        (("label-sync", "labels"), (6, 3)),
        (("label-sync", "labels", 0), (7, 7)),
        (("label-sync", "labels", 0, "color"), (8, 7)),
        (("label-sync", "labels", 1, "name"), (9, 7)),
        # Keys as validation names them: `-` read as `_`.
        (("label-sync", "exclude_labels"), (10, 3)),
        (("label-sync", "exclude_labels", 2), (10, 26)),
        # A key merged in with `<<: *defaults` is where the anchor's mapping says it.
        (("other", "color"), (3, 3)),
        # The mapping's own key wins over the merged one.
        (("other", "size"), (13, 3)),
        # An alias is its anchor's node.
        (("other", "again", 1), (14, 20)),
        # Parts that name no key or item (pydantic's union members, `[key]`) are passed
        # over; what is missing is reported at its parent.
        (("label-sync", "labels", 0, "str", "color"), (8, 7)),
        (("label-sync", "labels", 1, "color"), (9, 7)),
        (("label-sync", "labels", 7), (6, 3)),
    ],
)
def test_a_path_leads_to_the_line_of_its_deepest_key_or_item(
    path: tuple[Any, ...], where: tuple[int, int]
) -> None:
    assert locate(TEXT, path) == where


def test_what_is_not_there_or_not_yaml_has_no_line() -> None:
    assert locate(TEXT, ("nope", "labels")) is None
    assert locate("a: [1, 2\n", ("a",)) is None
    assert locate("", ("a",)) is None
    assert locate("- a\n- b\n", ("a",)) is None


def test_an_alias_that_merges_a_mapping_into_itself_does_not_hang() -> None:
    text = "a: &x\n  b: 1\n  <<: *x\n"
    assert locate(text, ("a", "b")) == (2, 3)
    assert locate(text, ("a", "c")) == (1, 1)


class Labels(BaseModel):
    model_config = ConfigDict(extra="forbid")
    labels: list[dict[str, str]] = []
    exclude_labels: list[str] = []
    greeting: str = "hi"


async def load(files: dict[str, Any], ref: str | None = None) -> Any:
    api = ContentsApi({k: v for k, v in files.items()})
    return await RepoConfigLoader().load(github(api), "octo", "hello", ref=ref)


async def test_an_invalid_option_of_the_own_file_names_its_line() -> None:
    config = await load({OWN: TEXT})
    _, errors = section_errors(Labels, config.section("label-sync"))
    assert [loc for loc, _ in errors] == [("labels", 0, "color")]
    [problem] = section_problems("label-sync", Labels, config)
    assert problem.text.startswith("label-sync.labels.0.color: ")
    assert problem.location == Location("octo", "hello", ".github/ghapp.yml", None, 8, 7)
    assert problem.location.blob_path() == "/octo/hello/blob/HEAD/.github/ghapp.yml#L8"


async def test_at_a_ref_the_line_links_that_ref() -> None:
    config = await load({f"{OWN}@c0ffee": "label-sync:\n  greting: typo\n"}, ref="c0ffee")
    [problem] = section_problems("label-sync", Labels, config)
    assert problem.location is not None
    assert problem.location.blob_path() == "/octo/hello/blob/c0ffee/.github/ghapp.yml#L2"


async def test_a_key_merged_from_an_extends_base_points_into_the_base() -> None:
    own = "_extends: base\nlabel-sync:\n  greeting: hello\n  exclude-labels: [a]\n"
    base = "# the base\n\nlabel-sync:\n  greeting: base\n  labels: 7\n  other: x\n"
    config = await load({OWN: own, BASE: base})
    problems = section_problems("label-sync", Labels, config)
    # The base's keys, by the base's name and line; never its keys or values.
    assert [(p.text, p.location) for p in problems] == [
        (
            f"`{BASE}` is not a valid ghapp config (its `label-sync` section)",
            Location("octo", "base", ".github/ghapp.yml", None, 5, 3),
        ),
        (
            f"`{BASE}` is not a valid ghapp config (its `label-sync` section)",
            Location("octo", "base", ".github/ghapp.yml", None, 6, 3),
        ),
    ]
    # The own file's keys stay in the own file.
    assert config.locate("label-sync", ("exclude_labels", 0)) == Location(
        "octo", "hello", ".github/ghapp.yml", None, 4, 20
    )


async def test_a_base_s_base_is_reported_under_the_base_s_name_without_a_line() -> None:
    """A file the base names in turn is shown under the base's name: a line in it would
    point into a file nobody was told of, so none is given."""
    deeper = "octo/deeper:.github/ghapp.yml"
    config = await load(
        {
            OWN: "_extends: base\n",
            BASE: "_extends: deeper\n",
            deeper: "label-sync:\n  labels: 7\n",
        }
    )
    [problem] = section_problems("label-sync", Labels, config)
    assert problem.text == f"`{BASE}` is not a valid ghapp config (its `label-sync` section)"
    assert problem.location is None


async def test_the_owner_s_github_file_gives_its_own_lines() -> None:
    config = await load({ORG: "\nlabel-sync:\n  nope: 1\n"})
    [problem] = section_problems("label-sync", Labels, config)
    assert problem.location == Location("octo", ".github", ".github/ghapp.yml", None, 3, 3)


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("label-sync:\n  labels: [a, b\n", 3, 1),
        ("a: 1\nb: 2\n  c: 3\n", 3, 4),
        ("label-sync:\n  greeting: hi\n  greeting: again\n", 3, 3),
    ],
)
async def test_a_yaml_syntax_error_says_its_line(text: str, line: int, column: int) -> None:
    with pytest.raises(RepoConfigError) as raised:
        await load({OWN: text})
    assert f"at line {line}, column {column}" in str(raised.value)
    assert raised.value.location == Location(
        "octo", "hello", ".github/ghapp.yml", None, line, column
    )


async def test_a_syntax_error_in_a_base_gives_the_base_s_line_not_its_text() -> None:
    with pytest.raises(RepoConfigError) as raised:
        await load({OWN: "_extends: base\n", BASE: "\n\ntoken: [SECRET\n"})
    assert str(raised.value) == f"`{BASE}` is not a valid ghapp config"
    assert raised.value.location == Location("octo", "base", ".github/ghapp.yml", None, 4, 1)


async def test_a_wrong_extends_in_the_own_file_names_its_line() -> None:
    with pytest.raises(RepoConfigError) as raised:
        await load({OWN: "label-sync: {}\n_extends: 'no good/x'\n"})
    assert raised.value.location is not None and raised.value.location.line == 2


async def test_the_normal_load_tracks_no_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lines cost a second parse, made only to report: a valid file never pays it."""
    calls: list[Any] = []
    monkeypatch.setattr(model_module, "locate", lambda *a: calls.append(a))
    config = await load({OWN: TEXT})
    assert section_problems("greeter", Labels, config) == []
    assert config.section("label-sync")["labels"][0]["name"] == "bug"
    assert calls == []
