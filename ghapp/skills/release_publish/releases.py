"""Decisions about a repository's releases, from plain data: which is the previous one,
which draft to reuse, and the build bookkeeping a draft carries while its build runs.

Pure functions. The handlers list the releases (as `ReleaseInfo`) and act on the answers.

**Build bookkeeping lives in the draft itself.** When a release waits for its build, the
draft's body ends with an HTML comment (invisible on GitHub) holding the correlation id of
the `repository_dispatch` that started the build, when it was sent, its state, and the
numbers to announce once published. Keeping it on GitHub rather than in ghapp's database
means every worker sees it, a hand-deleted draft takes its pending build with it, and the
hourly timeout check needs nothing but the release list. The comment is removed when the
release is published.

**Correlation rule.** A build is matched to its draft by the correlation id, once
`run_trust` has established that the run is one the dispatch started (the id alone is
public, so it is never proof). The dispatch carries it in
`client_payload.correlation_id`; the workflow names its run with it
(`run-name: Build ${{ github.event.client_payload.tag }} ${{
github.event.client_payload.correlation_id }}`), and `workflow_run.display_title` brings it
back. Head SHAs or workflow names are not used: a dispatch runs on the default branch's
head, which many unrelated runs share.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from semver import Version

from ghapp.skills.release_publish.versions import version_of

# waiting: in line for a build slot, not dispatched yet; pending: dispatched, running.
BuildState = Literal["waiting", "pending", "failed", "timed_out"]

CORRELATION_PREFIX = "ghapp-build-"
_CORRELATION_RE = re.compile(r"\bghapp-build-[0-9a-f]{12}\b")
_MARKER_RE = re.compile(r"\s*<!-- ghapp-release (\{.*?\}) -->\s*\Z", re.DOTALL)
_NOTICE_RE = re.compile(r"\A> \[!WARNING\]\n(?:>.*\n)*\n", re.MULTILINE)
# GitHub's closing keywords, for issues in the same repository (`fixes #12`).
_CLOSING_RE = re.compile(
    r"\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\s*:?\s+#(\d+)\b", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class ReleaseInfo:
    """The parts of a GitHub release that release-publish decides on."""

    id: int
    tag: str
    name: str | None
    body: str
    draft: bool
    prerelease: bool
    created_at: datetime
    published_at: datetime | None
    html_url: str
    upload_url: str
    assets: tuple[tuple[int, str], ...] = ()  # (asset id, name)
    target_commitish: str = ""

    @property
    def date(self) -> datetime:
        """When the release happened: published, or created for one never published."""
        return self.published_at or self.created_at

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReleaseInfo:
        return cls(
            id=int(data["id"]),
            tag=str(data.get("tag_name") or ""),
            name=data.get("name"),
            body=str(data.get("body") or ""),
            draft=bool(data.get("draft")),
            prerelease=bool(data.get("prerelease")),
            created_at=parse_time(data["created_at"]),
            published_at=parse_time(data["published_at"]) if data.get("published_at") else None,
            html_url=str(data.get("html_url") or ""),
            upload_url=str(data.get("upload_url") or ""),
            assets=tuple(
                (int(asset["id"]), str(asset["name"])) for asset in data.get("assets") or ()
            ),
            target_commitish=str(data.get("target_commitish") or ""),
        )


@dataclass(frozen=True, slots=True)
class BuildMarker:
    """A draft's build (waiting, running or ended), kept at the end of the draft's body.

    `dispatched_at` is when the build was dispatched; for a build still waiting for a
    slot, when it was asked for (its place in line). `run_url` is the build's workflow
    run once one was seen starting."""

    correlation_id: str
    dispatched_at: datetime
    state: BuildState = "pending"
    announce: tuple[int, ...] = ()
    run_url: str | None = None

    def render(self) -> str:
        data: dict[str, Any] = {
            "correlation_id": self.correlation_id,
            "dispatched_at": self.dispatched_at.isoformat(),
            "state": self.state,
            "announce": list(self.announce),
        }
        if self.run_url:
            data["run_url"] = self.run_url
        return f"<!-- ghapp-release {json.dumps(data, separators=(',', ':'))} -->"


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# -- versions of releases ------------------------------------------------------------------


def release_version(release: ReleaseInfo, tag_prefix: str | None = None) -> Version | None:
    """The version a release stands for, read as release-drafter reads it (its tag less
    `tag_prefix`, else its name)."""
    return version_of(release, tag_prefix)


def published_with_tag(releases: Iterable[ReleaseInfo], tag: str) -> ReleaseInfo | None:
    return next((r for r in releases if r.tag == tag and not r.draft), None)


def draft_to_reuse(releases: Sequence[ReleaseInfo], tag: str) -> ReleaseInfo | None:
    """The draft a release for `tag` should become: the draft already made for that tag,
    else the one kept for the next version (whatever version it guessed). Reusing it keeps
    the repository at one draft instead of leaving a stale one behind."""
    for release in releases:
        if release.draft and release.tag == tag:
            return release
    return maintained_draft(releases)


def maintained_draft(releases: Sequence[ReleaseInfo]) -> ReleaseInfo | None:
    """The newest draft not waiting for a build: the one draft maintenance keeps current."""
    drafts = [r for r in releases if r.draft and split_marker(r.body)[1] is None]
    return max(drafts, key=lambda r: (r.created_at, r.id), default=None)


# -- build bookkeeping ---------------------------------------------------------------------


def correlation_id(repository: str, tag: str, request_id: str) -> str:
    """A stable id for one build request: the same request redelivered gets the same id."""
    digest = hashlib.sha256(f"{repository}\n{tag}\n{request_id}".encode()).hexdigest()
    return CORRELATION_PREFIX + digest[:12]


def correlation_in(text: str | None) -> str | None:
    """The correlation id a workflow run's title carries, if any."""
    match = _CORRELATION_RE.search(text or "")
    return match.group(0) if match else None


def split_marker(body: str) -> tuple[str, BuildMarker | None]:
    """(body without the marker, the marker) — (body, None) when there is none."""
    match = _MARKER_RE.search(body)
    if match is None:
        return body, None
    try:
        data = json.loads(match.group(1))
        marker = BuildMarker(
            correlation_id=str(data["correlation_id"]),
            dispatched_at=parse_time(str(data["dispatched_at"])),
            state=data.get("state", "pending"),
            announce=tuple(int(n) for n in data.get("announce") or ()),
            run_url=str(data["run_url"]) if data.get("run_url") else None,
        )
        if marker.state not in ("waiting", "pending", "failed", "timed_out"):
            raise ValueError(marker.state)
    except (ValueError, KeyError, TypeError):
        return body, None
    return body[: match.start()], marker


def with_marker(body: str, marker: BuildMarker | None) -> str:
    # Without a marker the notes stay exactly as rendered (a template's last newline too).
    text = split_marker(body)[0]
    return f"{text.rstrip()}\n\n{marker.render()}" if marker else text


def with_notice(body: str, notice: str | None) -> str:
    """The body with `notice` as a warning block on top (replacing an earlier one)."""
    text, marker = split_marker(body)
    text = _NOTICE_RE.sub("", text, count=1)
    if notice:
        quoted = "\n".join(f"> {line}" if line else ">" for line in notice.splitlines())
        text = f"> [!WARNING]\n{quoted}\n\n{text}"
    return with_marker(text, marker)


def build_ended(body: str, state: BuildState, notice: str) -> str:
    """The draft body once its build failed or timed out: the reason on top, the marker
    kept (so the draft stays out of draft maintenance) but no longer pending."""
    text, marker = split_marker(body)
    if marker is not None:
        text = with_marker(text, replace(marker, state=state))
    return with_notice(text, notice)


def published_body(body: str) -> str:
    """The body a release is published with: no warning, no bookkeeping."""
    return with_notice(with_marker(body, None), None)


def timed_out(marker: BuildMarker, now: datetime, timeout_minutes: int) -> bool:
    return marker.state == "pending" and now - marker.dispatched_at > timedelta(
        minutes=timeout_minutes
    )


def build_deadline(marker: BuildMarker, timeout_minutes: int) -> datetime:
    """When a running build is timed out: `timeout_minutes` after its dispatch."""
    return marker.dispatched_at + timedelta(minutes=timeout_minutes)


def build_unfinished(release: ReleaseInfo) -> bool:
    """A draft whose build waits for a slot or runs: not to be touched by draft upkeep."""
    marker = split_marker(release.body)[1]
    return release.draft and marker is not None and marker.state in ("waiting", "pending")


def builds(releases: Iterable[ReleaseInfo]) -> list[tuple[ReleaseInfo, BuildMarker]]:
    """Every draft with its build marker."""
    found: list[tuple[ReleaseInfo, BuildMarker]] = []
    for release in releases:
        marker = split_marker(release.body)[1] if release.draft else None
        if marker is not None:
            found.append((release, marker))
    return found


def builds_running(releases: Iterable[ReleaseInfo]) -> int:
    """How many builds hold a slot: dispatched and not yet ended."""
    return sum(1 for _release, marker in builds(releases) if marker.state == "pending")


def builds_waiting(releases: Iterable[ReleaseInfo]) -> list[tuple[ReleaseInfo, BuildMarker]]:
    """The builds waiting for a slot, first asked first."""
    waiting = [(r, m) for r, m in builds(releases) if m.state == "waiting"]
    return sorted(waiting, key=lambda found: (found[1].dispatched_at, found[0].id))


def builds_to_start(
    releases: Sequence[ReleaseInfo], max_concurrent: int
) -> list[tuple[ReleaseInfo, BuildMarker]]:
    """The waiting builds that free slots let start now, in the order they were asked."""
    free = max(max_concurrent - builds_running(releases), 0)
    return builds_waiting(releases)[:free]


def must_wait(releases: Sequence[ReleaseInfo], max_concurrent: int) -> bool:
    """Whether a new build waits: every slot taken, or others already wait (in order)."""
    return builds_running(releases) >= max_concurrent or bool(builds_waiting(releases))


# -- what to announce ----------------------------------------------------------------------


def closing_references(body: str | None) -> list[int]:
    """Issue numbers a pull request closes (`closes #12`, `Fixes: #3`), in order."""
    found: list[int] = []
    for match in _CLOSING_RE.finditer(body or ""):
        number = int(match.group(1))
        if number not in found:
            found.append(number)
    return found


def announced_numbers(pulls: Iterable[tuple[int, str | None]]) -> tuple[int, ...]:
    """Pull requests (number, body) in the notes and the issues they close, sorted."""
    numbers: set[int] = set()
    for number, body in pulls:
        numbers.add(number)
        numbers.update(closing_references(body))
    return tuple(sorted(numbers))
