"""docs/releases.md against the code: the workflow a user copies must be one whose runs
ghapp counts as builds, and the options table must say what the options really default to.

The workflow file is taken from the page, parsed as YAML, and checked against what ghapp
dispatches (`build_slots.dispatch_build`, run for real with a stand-in for GitHub) and what
it expects of a run (`run_trust`, `releases.correlation_in`).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from ghapp.options import validate_options
from ghapp.repo_config import parse_config_text
from ghapp.skills.release_publish.build_slots import DEADLINE_TASK, dispatch_build
from ghapp.skills.release_publish.options import ReleaseOptions
from ghapp.skills.release_publish.releases import BuildMarker, correlation_id, correlation_in
from ghapp.skills.release_publish.run_trust import DISPATCH_EVENT

PAGE = Path(__file__).resolve().parent.parent / "docs" / "releases.md"
EXPRESSION = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")


def block_after(marker: str) -> str:
    """The fenced YAML block that follows `<!-- marker -->` on the page."""
    text = PAGE.read_text()
    found = re.search(rf"<!-- {marker} -->\n```yaml\n(.*?)\n```", text, re.DOTALL)
    assert found is not None, f"docs/releases.md has no yaml block after <!-- {marker} -->"
    return found.group(1)


def workflow() -> dict[Any, Any]:
    data = yaml.safe_load(block_after("ghapp-workflow"))
    assert isinstance(data, dict)
    return data


def documented_options() -> ReleaseOptions:
    config = parse_config_text(block_after("ghapp-config"), ".github/ghapp.yml")
    return validate_options("release-publish", ReleaseOptions, config["release-publish"])  # type: ignore[return-value]


@dataclass
class Dispatches:
    """Stands in for GitHub (`ReleaseData.dispatch`) and the task queue (`ctx.defer`)."""

    options: ReleaseOptions
    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)

    async def dispatch(self, event_type: str, payload: dict[str, Any]) -> None:
        self.sent.append((event_type, payload))

    async def defer(self, task: str, args: dict[str, Any], *, key: str, delay: float) -> bool:
        self.deferred.append(task)
        return True


def what_ghapp_dispatches() -> tuple[str, dict[str, Any], str]:
    options = documented_options()
    stand_in = Dispatches(options)
    correlation = correlation_id("octo-org/hello", "v1.4.0", "comment:1")
    marker = BuildMarker(correlation, datetime(2026, 11, 20, tzinfo=UTC))
    build = dispatch_build(
        stand_in,  # type: ignore[arg-type]
        stand_in,  # type: ignore[arg-type]
        version="1.4.0",
        tag="v1.4.0",
        release_id=123,
        marker=marker,
        now=marker.dispatched_at,
    )
    asyncio.run(build)
    [(event_type, payload)] = stand_in.sent
    assert stand_in.deferred == [DEADLINE_TASK]
    return event_type, payload, correlation


def evaluate(template: str, payload: dict[str, Any]) -> str:
    """A workflow expression string as Actions renders it for this dispatch (only the
    `github.event.client_payload.*` expressions; any other is an error here)."""

    def value(match: re.Match[str]) -> str:
        path = match.group(1)
        prefix = "github.event.client_payload."
        assert path.startswith(prefix), f"unexpected expression {path!r}"
        key = path.removeprefix(prefix)
        assert key in payload, f"the workflow reads client_payload.{key}, ghapp sends no such field"
        return str(payload[key])

    return EXPRESSION.sub(value, template)


def test_the_workflow_is_started_only_by_the_dispatch_ghapp_sends() -> None:
    event_type, _payload, _correlation = what_ghapp_dispatches()
    flow = workflow()
    # PyYAML reads the bare key `on` as YAML 1.1's true; Actions reads it as "on".
    triggers = flow.get("on", flow.get(True))
    assert isinstance(triggers, dict)
    # Nothing else starts it: any other event's run would be ignored by ghapp anyway.
    assert list(triggers) == [DISPATCH_EVENT]
    assert triggers[DISPATCH_EVENT] == {"types": [event_type]}
    assert event_type == documented_options().dispatch_event


def test_the_run_name_carries_the_correlation_id_ghapp_looks_for() -> None:
    _event_type, payload, correlation = what_ghapp_dispatches()
    title = evaluate(workflow()["run-name"], payload)
    assert correlation_in(title) == correlation
    assert title == f"Build v1.4.0 {correlation}"


def test_every_client_payload_field_the_workflow_reads_is_sent() -> None:
    _event_type, payload, _correlation = what_ghapp_dispatches()
    used = set(EXPRESSION.findall(block_after("ghapp-workflow")))
    assert used, "the workflow reads nothing from the dispatch"
    for expression in used:
        evaluate("${{ " + expression + " }}", payload)  # fails on a field ghapp does not send
    assert set(payload) == {"version", "tag", "release_id", "correlation_id"}


def test_the_workflow_uploads_its_build_as_an_artifact() -> None:
    jobs = workflow()["jobs"]
    steps = [step for job in jobs.values() for step in job["steps"]]
    uploads = [s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact@")]
    assert len(uploads) == 1 and uploads[0]["with"]["name"] and uploads[0]["with"]["path"]
    assert workflow()["permissions"] == {"contents": "read"}


def options_table() -> dict[str, str]:
    text = PAGE.read_text().split("## Options", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([a-z-]+)` \| (.*?) \| .* \|$", text, re.MULTILINE)
    return dict(rows)


@pytest.mark.parametrize(
    "option",
    [
        "dispatch-event",
        "build-timeout-minutes",
        "max-concurrent-builds",
        "unpack-artifacts",
        "comment-on-released",
        "released-comment-template",
        "tag-pattern",
        "command-permission",
    ],
)
def test_each_build_option_is_listed_with_its_real_default(option: str) -> None:
    table = options_table()
    assert option in table, f"{option} is missing from the options table"
    default = getattr(ReleaseOptions(), option.replace("-", "_"))
    cell = table[option]
    if default is None:
        assert cell.startswith("none")
    elif isinstance(default, bool):
        assert cell == f"`{str(default).lower()}`"
    else:
        assert cell == f"`{default}`"


def test_the_trust_rules_are_the_ones_enforced() -> None:
    text = PAGE.read_text().split("## What ghapp checks before it trusts a run", 1)[1]
    for fact in ("`repository_dispatch`", "`head_repository`", "`triggering_actor`", "[bot]"):
        assert fact in text
