"""release-publish's pure decisions around the handlers: command arguments, which release
is previous, which draft is reused, the build marker and notices, linked issues, assets."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from semver import Version

from ghapp import UsageError
from ghapp.github import JournalEntry
from ghapp.skills.release_publish.artifacts import ArtifactError, asset_files, content_type_for
from ghapp.skills.release_publish.command import ReleaseArgs, parse_release_args
from ghapp.skills.release_publish.options import ReleaseOptions
from ghapp.skills.release_publish.releases import (
    BuildMarker,
    ReleaseInfo,
    announced_numbers,
    build_ended,
    builds_running,
    builds_to_start,
    closing_references,
    correlation_id,
    correlation_in,
    draft_to_reuse,
    maintained_draft,
    must_wait,
    published_body,
    release_version,
    split_marker,
    timed_out,
    with_marker,
)
from ghapp.skills.release_publish.run_trust import untrusted_reason
from ghapp.skills.release_publish.versions import previous_release

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def release(
    id: int,
    tag: str,
    *,
    draft: bool = False,
    body: str = "",
    created: datetime = T0,
) -> ReleaseInfo:
    return ReleaseInfo(
        id=id,
        tag=tag,
        name=tag,
        body=body,
        draft=draft,
        prerelease=False,
        created_at=created,
        published_at=None if draft else created,
        html_url=f"https://github.com/o/r/releases/tag/{tag}",
        upload_url=f"https://uploads.github.com/repos/o/r/releases/{id}/assets{{?name,label}}",
    )


MARKER = BuildMarker("ghapp-build-0123456789ab", T0, "pending", (3, 7))


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("1.2.3",), ReleaseArgs("1.2.3", False, False)),
        (("minor", "--draft"), ReleaseArgs("minor", True, False)),
        (("--prerelease", "2.0.0-rc.1"), ReleaseArgs("2.0.0-rc.1", False, True)),
        (("patch", "--DRAFT", "--prerelease"), ReleaseArgs("patch", True, True)),
    ],
)
def test_release_arguments(args: tuple[str, ...], expected: ReleaseArgs) -> None:
    assert parse_release_args(args) == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "name one version"),
        (("1.0.0", "2.0.0"), "name one version"),
        (("1.0.0", "--force"), "unknown option --force"),
    ],
)
def test_release_arguments_refused(args: tuple[str, ...], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_release_args(args)


def test_previous_release_is_the_highest_version_not_the_newest() -> None:
    releases = [
        release(1, "v1.4.1", created=T0 + timedelta(days=2)),  # a hotfix published last
        release(2, "v2.0.0", created=T0 + timedelta(days=1)),
        release(3, "v3.0.0", draft=True),
        release(4, "nightly"),
    ]
    options = ReleaseOptions()
    found = previous_release(releases, options, prerelease=False)
    assert found is not None and found.id == 2
    below = previous_release(releases, options, prerelease=False, below=Version(2, 0, 0))
    assert below is not None and below.id == 1


def test_a_release_version_is_read_from_its_tag_then_its_name() -> None:
    assert release_version(release(1, "1.2.0")) == Version(1, 2, 0)
    assert release_version(release(2, "release-2.1")) == Version(2, 1, 0)  # npm's coerce
    named = replace(release(3, "nightly"), name="Nightly 3.0.0-rc.1")
    assert release_version(named) == Version(3, 0, 0)
    assert release_version(release(4, "nightly")) is None


def test_draft_reuse_prefers_the_tag_then_the_maintained_draft() -> None:
    building = release(1, "v2.0.0", draft=True, body=with_marker("notes", MARKER))
    kept = release(2, "v1.2.4", draft=True, created=T0 + timedelta(hours=1))
    older = release(3, "v1.2.3", draft=True)
    releases = [building, kept, older]
    assert maintained_draft(releases) == kept
    assert draft_to_reuse(releases, "v2.0.0") == building
    assert draft_to_reuse(releases, "v1.3.0") == kept
    assert draft_to_reuse([building], "v1.3.0") is None


def test_marker_round_trips_and_is_invisible_text() -> None:
    body = with_marker("## What's changed\n\n- A (#3) @mona", MARKER)
    assert body.startswith("## What's changed")
    assert body.endswith("-->")
    text, marker = split_marker(body)
    assert marker == MARKER
    assert text == "## What's changed\n\n- A (#3) @mona"
    assert split_marker("no marker") == ("no marker", None)
    assert split_marker("<!-- ghapp-release {broken -->")[1] is None


def test_a_failed_build_puts_the_reason_on_top_and_keeps_the_marker() -> None:
    body = with_marker("notes", MARKER)
    failed = build_ended(body, "failed", "**Not published.**\nTry again.")
    assert failed.startswith("> [!WARNING]\n> **Not published.**\n> Try again.\n\nnotes")
    marker = split_marker(failed)[1]
    assert marker is not None and marker.state == "failed"
    # A second notice replaces the first rather than stacking up.
    again = build_ended(failed, "timed_out", "Timed out.")
    assert again.count("[!WARNING]") == 1 and "Timed out." in again
    assert published_body(again) == "notes"


@pytest.mark.parametrize(
    ("state", "minutes_later", "expected"),
    [
        ("pending", 59, False),
        ("pending", 61, True),
        ("failed", 600, False),
        ("timed_out", 600, False),
    ],
)
def test_build_timeout(state: str, minutes_later: int, expected: bool) -> None:
    marker = BuildMarker("ghapp-build-0123456789ab", T0, state)  # type: ignore[arg-type]
    assert timed_out(marker, T0 + timedelta(minutes=minutes_later), 60) is expected


def test_a_seen_run_and_a_wait_round_trip_in_the_marker() -> None:
    seen = replace(MARKER, state="waiting", run_url="https://github.com/o/r/actions/runs/9")
    assert split_marker(with_marker("notes", seen))[1] == seen
    # Without a run the marker is written as before (recorded bodies stay the same).
    assert "run_url" not in with_marker("notes", MARKER)
    assert (
        split_marker(
            'x <!-- ghapp-release {"correlation_id":"c","dispatched_at":'
            '"2026-11-01T12:00:00+00:00","state":"lost"} -->'
        )[1]
        is None
    )


def building(id: int, state: str, minutes: int) -> ReleaseInfo:
    marker = BuildMarker(f"ghapp-build-{id:012x}", T0 + timedelta(minutes=minutes), state)  # type: ignore[arg-type]
    return release(id, f"v{id}.0.0", draft=True, body=with_marker("notes", marker))


def test_waiting_builds_start_in_the_order_asked_as_slots_free() -> None:
    running = [building(1, "pending", 0), building(2, "pending", 1)]
    waiting = [building(5, "waiting", 3), building(3, "waiting", 2), building(4, "waiting", 2)]
    ended = [building(6, "failed", 0), building(7, "timed_out", 0)]
    everything = [*running, *waiting, *ended, release(8, "v0.1.0")]
    assert builds_running(everything) == 2
    assert must_wait(everything, 2) and must_wait(everything, 3)  # others wait: in line
    assert not must_wait([*running, *ended], 3) and must_wait([*running, *ended], 2)
    assert builds_to_start(everything, 2) == []
    order = [r.id for r, _m in builds_to_start(everything, 4)]
    assert order == [3, 4]  # asked at the same time: the older release first
    assert [r.id for r, _m in builds_to_start(everything[1:], 9)] == [3, 4, 5]


def test_correlation_ids_are_stable_per_request_and_found_in_run_titles() -> None:
    first = correlation_id("o/r", "v1.0.0", "comment:5")
    assert first == correlation_id("o/r", "v1.0.0", "comment:5")
    assert first != correlation_id("o/r", "v1.0.0", "comment:6")
    assert correlation_in(f"Build v1.0.0 {first}") == first
    assert correlation_in("Build v1.0.0") is None
    assert correlation_in(None) is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Fixes #12", [12]),
        ("closes #3, resolves: #4 and fixed #3", [3, 4]),
        ("Refs #9; see issue #10", []),
        ("prefix#5 fixes#6", []),
        (None, []),
    ],
)
def test_closing_references(body: str | None, expected: list[int]) -> None:
    assert closing_references(body) == expected


def test_announced_numbers_are_pulls_and_the_issues_they_close() -> None:
    assert announced_numbers([(5, "Fixes #2"), (3, None), (4, "closes #2")]) == (2, 3, 4, 5)


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("app.zip", "application/zip"),
        ("app-1.0.tar.gz", "application/gzip"),
        ("app.whl", "application/octet-stream"),
        ("README.txt", "text/plain"),
        ("checksums.json", "application/json"),
        ("no-extension", "application/octet-stream"),
    ],
)
def test_content_types(name: str, content_type: str) -> None:
    assert content_type_for(name) == content_type


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_artifacts_attach_as_zips_or_unpacked() -> None:
    archive = zip_of({"dist/app.tar.gz": b"tgz", "linux/app": b"l", "mac/app": b"m"})
    [whole] = asset_files("dist", archive, unpack=False)
    assert (whole.name, whole.content_type, whole.data) == ("dist.zip", "application/zip", archive)
    unpacked = asset_files("dist", archive, unpack=True)
    assert [(f.name, f.content_type, f.data) for f in unpacked] == [
        ("app.tar.gz", "application/gzip", b"tgz"),
        ("app", "application/octet-stream", b"l"),
        ("mac-app", "application/octet-stream", b"m"),
    ]


def test_unusable_artifacts_are_refused_with_a_reason() -> None:
    with pytest.raises(ArtifactError, match="not a zip"):
        asset_files("dist", b"plain bytes", unpack=True)
    with pytest.raises(ArtifactError, match="empty"):
        asset_files("dist", zip_of({}), unpack=True)


@pytest.mark.parametrize(
    ("method", "path", "body", "write"),
    [
        ("GET", "/repos/o/r/releases", None, False),
        ("POST", "/repos/o/r/releases", {"tag_name": "v1"}, True),
        ("POST", "/graphql", {"query": "query($o: String!) { repository { id } }"}, False),
        ("POST", "/api/graphql", {"query": "{ viewer { login } }"}, False),
        ("POST", "/graphql", {"query": "mutation { addReaction(input: {}) { x } }"}, True),
        ("POST", "/graphql", {"query": "fragment F on X { id } mutation { x }"}, True),
    ],
)
def test_a_graphql_query_is_a_read(method: str, path: str, body: Any, write: bool) -> None:
    # release-publish reads commit authors through GraphQL: DRY_RUN must still send it.
    assert JournalEntry(method, path, "", body).is_write is write


# -- which workflow run counts as the build ------------------------------------------------

HERE = {"id": 10, "full_name": "octo-org/hello"}
BOT_USER = {"login": "ghapp[bot]", "type": "Bot"}


def dispatch_run(**changes: Any) -> dict[str, Any]:
    run: dict[str, Any] = {
        "event": "repository_dispatch",
        "repository": dict(HERE),
        "head_repository": dict(HERE),
        "actor": BOT_USER,
        "triggering_actor": BOT_USER,
    }
    run.update(changes)
    return {k: v for k, v in run.items() if v is not None}


@pytest.mark.parametrize(
    ("run", "reason"),
    [
        (dispatch_run(), None),
        (dispatch_run(actor={"login": "GHAPP[bot]"}, triggering_actor=None), None),
        (dispatch_run(head_repository={"full_name": "Octo-Org/Hello"}), None),
        (dispatch_run(event="pull_request"), "started by 'pull_request'"),
        (dispatch_run(event=None), "started by None"),
        (dispatch_run(head_repository={"id": 11, "full_name": "mallory/hello"}), "head_repository"),
        (dispatch_run(head_repository={"id": 11, "full_name": "octo-org/hello"}), "head_reposit"),
        (dispatch_run(repository={"id": 10, "full_name": "mallory/hello"}), "its repository"),
        (dispatch_run(head_repository={"name": "hello"}), "head_repository is missing"),
        (dispatch_run(head_repository=None), "head_repository is missing"),
        (dispatch_run(actor={"login": "mallory"}), "actor is 'mallory'"),
        (dispatch_run(triggering_actor={"login": "ghapp"}), "triggering_actor is 'ghapp'"),
        (dispatch_run(actor={"login": "evil-ghapp[bot]"}), "actor is 'evil-ghapp[bot]'"),
        (dispatch_run(actor={"id": 1}), "actor is None"),
        (dispatch_run(actor=None, triggering_actor=None), "names no actor"),
    ],
)
def test_only_a_run_the_dispatch_started_is_trusted(
    run: dict[str, Any], reason: str | None
) -> None:
    found = untrusted_reason(run, HERE, "ghapp")
    if reason is None:
        assert found is None
    else:
        assert found is not None and reason in found
