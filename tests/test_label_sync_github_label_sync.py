"""github-label-sync's label lists work as they are (issue 22 §1), measured case by case.

The table holds, as facts, the cases of github-label-sync's own `calculate-label-diff`
tests (Financial-Times/github-label-sync, `test/unit/lib/calculate-label-diff.test.js`):
the labels a repository has, the label list, whether `--allow-added-labels` is given, and
what github-label-sync's expected diff does to the repository, written here as the labels
it ends with and the issues it moves. Each list is placed unchanged under `label-sync:
labels:` in `.github/ghapp.yml`, read by ghapp's own loading (YAML, key normalisation,
validation), planned, and applied to a model repository with an issue on every label.

Its `--allow-added-labels` flag lives on its command line, not in the file; ghapp's
`delete-undeclared` is the same switch the other way round (github-label-sync deletes
undeclared labels unless the flag is given, ghapp keeps them unless the key is set), so
each case sets `delete-undeclared` to what the flag was.

All 19 cases give the same labels and the same issue moves.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass, field

import pytest
import yaml

from ghapp.options import validate_options
from ghapp.repo_config import CONFIG_PATH, RepoConfigError, parse_config_text
from ghapp.skills.label_sync.options import LabelSyncOptions
from ghapp.skills.label_sync.plan import Merge, plan_label_changes
from tests.support.label_repo import LabelRepo
from tests.support.peer_files import github_label_sync_file

# (name, color, description or None when GitHub has none)
Label = tuple[str, str, str | None]


@dataclass
class PeerCase:
    id: str
    current: list[Label]
    labels_yaml: str  # the label list exactly as a github-label-sync file would hold it
    allow_added_labels: bool
    # What github-label-sync's expected diff leaves: every label, the labels merged
    # (their issues moved onto another), and what each issue ends up with (an issue per
    # current label, keyed by that label).
    expected: list[Label]
    moved: list[tuple[str, str]] = field(default_factory=list)
    issues: dict[str, set[str]] = field(default_factory=dict)


CASES = [
    PeerCase(
        "a configured label that does not exist is created",
        [],
        "- name: bar\n  color: '00ff00'\n",
        False,
        [("bar", "00ff00", None)],
        issues={},
    ),
    PeerCase(
        "a label set to delete that does not exist is not created",
        [],
        "- name: bar\n  color: '00ff00'\n  delete: true\n",
        False,
        [],
        issues={},
    ),
    PeerCase(
        "a missing label is created with its description",
        [],
        "- name: bar\n  color: '00ff00'\n  description: foo\n",
        False,
        [("bar", "00ff00", "foo")],
        issues={},
    ),
    PeerCase(
        "a label that matches is left alone",
        [("foo", "ff0000", "bar")],
        "- name: foo\n  color: 'ff0000'\n  description: bar\n",
        False,
        [("foo", "ff0000", "bar")],
        issues={"foo": {"foo"}},
    ),
    PeerCase(
        "a label with another color is changed",
        [("foo", "ff0000", None)],
        "- name: foo\n  color: '00ff00'\n",
        False,
        [("foo", "00ff00", None)],
        issues={"foo": {"foo"}},
    ),
    PeerCase(
        "a label marked for deletion is deleted with its aliases",
        [("foo", "ff0000", None), ("bar", "00ff00", None)],
        "- name: foo\n  delete: true\n  aliases: [bar]\n",
        False,
        [],
        issues={"foo": set(), "bar": set()},
    ),
    PeerCase(
        "a description declared for a label without one is set",
        [("foo", "ff0000", None)],
        "- name: foo\n  color: 'ff0000'\n  description: bar\n",
        False,
        [("foo", "ff0000", "bar")],
        issues={"foo": {"foo"}},
    ),
    PeerCase(
        "a label declared without description keeps its own",
        [("foo", "ff0000", "bar")],
        "- name: foo\n  color: 'ff0000'\n",
        False,
        [("foo", "ff0000", "bar")],
        issues={"foo": {"foo"}},
    ),
    PeerCase(
        "an empty description declared clears the label's",
        [("foo", "ff0000", "bar")],
        "- name: foo\n  color: 'ff0000'\n  description: ''\n",
        False,
        [("foo", "ff0000", "")],
        issues={"foo": {"foo"}},
    ),
    PeerCase(
        "a change of case only is a rename",
        [("FOO", "ff0000", None)],
        "- name: foo\n  color: 'ff0000'\n",
        False,
        [("foo", "ff0000", None)],
        issues={"FOO": {"foo"}},
    ),
    PeerCase(
        "an alias that exists is renamed (its issues keep it)",
        [("foo", "ff0000", None)],
        "- name: bar\n  color: '00ff00'\n  aliases:\n    - foo\n",
        False,
        [("bar", "00ff00", None)],
        issues={"foo": {"bar"}},
    ),
    PeerCase(
        "the label is changed and its alias merged into it",
        [("bar", "00ff00", None), ("foo", "ff0000", None)],
        "- name: foo\n  color: '0000ff'\n  aliases:\n    - bar\n",
        False,
        [("foo", "0000ff", None)],
        moved=[("bar", "foo")],
        issues={"bar": {"foo"}, "foo": {"foo"}},
    ),
    PeerCase(
        "of two aliases, the first the repository lists is renamed, the other merged",
        [("bar", "00ff00", None), ("foo", "ff0000", None)],
        "- name: baz\n  color: '0000ff'\n  aliases:\n    - foo\n    - bar\n",
        False,
        [("baz", "0000ff", None)],
        moved=[("foo", "baz")],
        issues={"bar": {"baz"}, "foo": {"baz"}},
    ),
    PeerCase(
        "without --allow-added-labels a label not configured is deleted",
        [("foo", "ff0000", None)],
        "[]\n",
        False,
        [],
        issues={"foo": set()},
    ),
    PeerCase(
        "without --allow-added-labels a label with a description not configured is deleted",
        [("foo", "ff0000", "bar")],
        "[]\n",
        False,
        [],
        issues={"foo": set()},
    ),
    PeerCase(
        "with --allow-added-labels a label not configured stays",
        [("foo", "ff0000", None)],
        "[]\n",
        True,
        [("foo", "ff0000", None)],
        issues={"foo": {"foo"}},
    ),
    PeerCase(
        "with --allow-added-labels a label marked for deletion is deleted",
        [("foo", "ff0000", None)],
        "- name: foo\n  delete: true\n",
        True,
        [],
        issues={"foo": set()},
    ),
    PeerCase(
        "with --allow-added-labels a label with a description marked for deletion is deleted",
        [("foo", "ff0000", "bar")],
        "- name: foo\n  delete: true\n",
        True,
        [],
        issues={"foo": set()},
    ),
    PeerCase(
        "a range: create, rename an alias, recolor, delete what is not configured",
        [("pub", "00ff00", None), ("baz", "ffffff", None), ("qux", "000000", None)],
        "- name: foo\n  color: 'ff0000'\n"
        "- name: bar\n  color: '00ff00'\n  aliases:\n    - pub\n"
        "- name: baz\n  color: '0000ff'\n",
        False,
        [("foo", "ff0000", None), ("bar", "00ff00", None), ("baz", "0000ff", None)],
        issues={"pub": {"bar"}, "baz": {"baz"}, "qux": set()},
    ),
]


def ghapp_yml(labels_yaml: str, *, allow_added_labels: bool) -> str:
    """`.github/ghapp.yml` with the label list placed, unchanged, under `labels:`."""
    delete = "false" if allow_added_labels else "true"
    return f"label-sync:\n  delete-undeclared: {delete}\n  labels:\n" + textwrap.indent(
        labels_yaml, "    "
    )


def load_options(text: str) -> LabelSyncOptions:
    """The section as ghapp reads it from the repository: parse, normalise, validate."""
    sections = parse_config_text(text, CONFIG_PATH)
    options = validate_options("label-sync", LabelSyncOptions, sections["label-sync"])
    assert isinstance(options, LabelSyncOptions)
    return options


def _as_github_has_it(label: Label) -> Label:
    name, color, description = label
    return name, color, description or None


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_github_label_sync_case_gives_the_same_labels_and_moves(case: PeerCase) -> None:
    options = load_options(ghapp_yml(case.labels_yaml, allow_added_labels=case.allow_added_labels))
    repo = LabelRepo()
    for name, color, description in case.current:
        repo.add_label(name, color, description)
        repo.add_issue(name)

    plan = plan_label_changes(
        repo.existing(), options.labels, delete_undeclared=options.delete_undeclared
    )
    for op in plan.operations:
        repo.apply(op)

    assert plan.conflicts == ()
    ended = sorted(
        _as_github_has_it((lb.name, lb.color, lb.description)) for lb in repo.labels.values()
    )
    assert ended == sorted(_as_github_has_it(label) for label in case.expected)
    merged = [(op.source, op.into) for op in plan.operations if isinstance(op, Merge)]
    assert merged == case.moved
    # Issue by issue: a renamed or kept label stays on its issue, a merged one is
    # replaced by its target, a deleted one is gone.
    for number, (name, *_) in enumerate(case.current, 1):
        assert repo.issue_labels(number) == case.issues[name], name


# GitHub's default labels for a new repository: what most label lists arrive on.
GITHUB_DEFAULT_LABELS: list[Label] = [
    ("bug", "d73a4a", "Something isn't working"),
    ("documentation", "0075ca", "Improvements or additions to documentation"),
    ("duplicate", "cfd3d7", "This issue or pull request already exists"),
    ("enhancement", "a2eeef", "New feature or request"),
    ("good first issue", "7057ff", "Good for newcomers"),
    ("help wanted", "008672", "Extra attention is needed"),
    ("invalid", "e4e669", "This doesn't seem right"),
    ("question", "d876e3", "Further information is requested"),
    ("wontfix", "ffffff", "This will not be worked on"),
]


def _example_list(filename: str) -> str:
    text = github_label_sync_file(filename)
    if filename.endswith(".json"):
        # JSON is YAML too, but its example is indented with tabs, which ghapp's YAML
        # reader refuses inside `.github/ghapp.yml` (see the next test): spaces instead.
        text = text.expandtabs(2)
    return text


@pytest.mark.parametrize("filename", ["labels.yml", "labels.json"])
def test_github_label_syncs_own_example_file_works_as_it_is(filename: str) -> None:
    """The example list github-label-sync publishes, pasted under `labels:`, loads and
    syncs a repository with GitHub's default labels: each listed label exists as listed,
    the defaults it lists as aliases are renamed or merged with their issues, and a second
    sync plans nothing."""
    text = _example_list(filename)
    listed = json.loads(text) if filename.endswith(".json") else yaml.safe_load(text)
    options = load_options(ghapp_yml(text, allow_added_labels=True))
    assert [label.name for label in options.labels] == [entry["name"] for entry in listed]

    repo = LabelRepo()
    for name, color, description in GITHUB_DEFAULT_LABELS:
        repo.add_label(name, color, description)
        repo.add_issue(name)
    plan = plan_label_changes(repo.existing(), options.labels, delete_undeclared=False)
    for op in plan.operations:
        repo.apply(op)

    assert plan.conflicts == ()
    for entry in listed:
        label = repo.find(entry["name"])
        assert label is not None and label.name == entry["name"]
        assert label.color == entry["color"].lower()
    for number, (default, *_) in enumerate(GITHUB_DEFAULT_LABELS, 1):
        owners = [e["name"] for e in listed if default in (e.get("aliases") or [])]
        assert repo.issue_labels(number) == set(owners or [default]), default
    again = plan_label_changes(repo.existing(), options.labels, delete_undeclared=False)
    assert again.operations == ()


def test_a_tab_indented_json_list_is_refused_clearly_or_read_the_same() -> None:
    """github-label-sync's `labels.json` as published, tabs and all: either ghapp reads it
    as the same list, or it says which line holds the tab (never another error)."""
    raw = ghapp_yml(github_label_sync_file("labels.json"), allow_added_labels=True)
    try:
        options = load_options(raw)
    except RepoConfigError as exc:
        assert "'\\t'" in str(exc) and "line " in str(exc), str(exc)
    else:
        expanded = ghapp_yml(_example_list("labels.json"), allow_added_labels=True)
        assert options == load_options(expanded)
