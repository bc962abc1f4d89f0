"""Property tests of `.github/ghapp.yml` handling: whatever a repository's author writes,
`parse_config_text` and `validate_options` (for every installed skill's options model)
either succeed or raise RepoConfigError with a message naming the file or the skill —
never another exception, and never unbounded work."""

from __future__ import annotations

import time

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ghapp.bus import load_skills
from ghapp.options import validate_options
from ghapp.repo_config import RepoConfig, RepoConfigError, parse_config_text

SOURCE = "octo-org/hello/.github/ghapp.yml"
SKILLS = load_skills()

# YAML-significant pieces: tags, anchors, flow collections, scalars that resolve to
# dates, numbers and booleans, indentation and the skills' own option names.
PIECES = st.sampled_from(
    [
        *[f"{name}:" for name in SKILLS],
        "_extends:",
        "labels:",
        "- name:",
        "color:",
        "exclusive_scopes:",
        "exclusive-scopes:",
        "categories:",
        "tag_pattern:",
        "close_when_complete:",
        "command_permission:",
        "events:",
        "responder:",
        "\n",
        "\n  ",
        "\n    ",
        "  ",
        "- ",
        ": ",
        "? ",
        "[",
        "]",
        "{",
        "}",
        ",",
        "&a ",
        "*a",
        "<<: *a",
        "!!str ",
        "!!int ",
        "!!float ",
        "!!bool ",
        "!!timestamp ",
        "!!binary ",
        "!!set ",
        "!!omap ",
        "!!python/object:os.system ",
        "!custom ",
        "2020-13-45",
        "2020-01-01",
        "2020-01-01T25:61:00Z",
        "1e999",
        "0x1F",
        "0o17",
        ".inf",
        "~",
        "null",
        "yes",
        "on",
        "true",
        "'",
        '"',
        "#",
        "|",
        ">",
        "%YAML 1.2\n---\n",
        "---\n",
        "...\n",
        "\t",
        "\x00",
        "\ufeff",
        "ff0000",
        "status:done",
        "v*",
        "x",
        "42",
    ]
)
YAML_TEXT = st.lists(st.one_of(PIECES, st.text(max_size=6)), max_size=40).map("".join)

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.dates(),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=12), inner, max_size=4),
    ),
    max_leaves=20,
)
# Well-formed YAML whose values are wrong for the skills: a section per skill, random keys.
DOCUMENTS = st.dictionaries(
    st.sampled_from([*SKILLS, "_extends", "unknown-skill"]), VALUES, max_size=4
).map(lambda d: yaml.safe_dump(d, allow_unicode=True))


def check(text: str) -> None:
    """The property: a parsed mapping whose sections validate, or a RepoConfigError."""
    try:
        data = parse_config_text(text, SOURCE)
    except RepoConfigError as exc:
        assert str(exc).startswith(SOURCE), exc
        assert "Traceback" not in str(exc)
        return
    assert isinstance(data, dict)
    config = RepoConfig(sections={k: v for k, v in data.items() if k != "_extends"}, found=True)
    for name, skill in SKILLS.items():
        try:
            validate_options(name, skill.options, config.section(name))
        except RepoConfigError as exc:
            # A key of the section (`name.key: …`), or the section itself (`name: …`).
            assert str(exc).startswith((f"{name}.", f"{name}: ")), exc


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(YAML_TEXT)
@example("label-sync: {labels: 2020-13-45}")  # a date YAML resolves but cannot build
@example("a: !!float 'x'")
@example("a: !!int 'x'")
@example("a: !!timestamp 'x'")
@example("label-sync: &a [*a]")  # an alias that contains itself
@example("label-sync: {labels: &a [*a]}")
def test_random_yaml_text_gives_a_clear_error_or_a_config(text: str) -> None:
    check(text)


@settings(max_examples=200, deadline=None)
@given(DOCUMENTS)
def test_wrong_values_in_every_skills_section_give_a_clear_error(text: str) -> None:
    check(text)


@pytest.mark.parametrize("depth", [10, 500, 5000])
def test_deep_nesting_is_an_error_not_a_crash(depth: int) -> None:
    check("label-sync: " + "[" * depth + "]" * depth)
    check("label-sync:" + "".join(f"\n{'  ' * (n + 1)}k{n}:" for n in range(min(depth, 800))))


def test_aliases_that_expand_exponentially_are_refused_quickly() -> None:
    """A "billion laughs" file is small but expands to 10**9 values when walked."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 9)]
    lines.append("label-sync: {labels: *a8}")
    started = time.monotonic()
    with pytest.raises(RepoConfigError) as info:
        data = parse_config_text("\n".join(lines), SOURCE)
        validate_options("label-sync", SKILLS["label-sync"].options, data["label-sync"])
    assert time.monotonic() - started < 5
    assert str(info.value).startswith(SOURCE)
