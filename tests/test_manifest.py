"""The GitHub App manifest: generated from the skills, checked in, kept up to date.

The committed `manifest/app.yml` is what `ghapp manifest` writes from the built-in skills.
The example skill (installed for the test suite) asks for nothing the built-ins do not, so
`ghapp manifest --check` passes with or without it; a test below keeps that true.
"""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import yaml

from ghapp import Context, Skill
from ghapp.bus import load_skills
from ghapp.cli import main as cli_main
from ghapp.manifest import (
    CORE_PERMISSIONS,
    EVENT_PERMISSIONS,
    build_manifest,
    merge_permissions,
    render_manifest,
)

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "manifest" / "app.yml"
# GitHub's manifest parameters (docs: "Creating a GitHub App from a manifest").
MANIFEST_KEYS = {
    "name",
    "url",
    "hook_attributes",
    "redirect_url",
    "callback_urls",
    "setup_url",
    "description",
    "public",
    "default_events",
    "default_permissions",
    "request_oauth_on_install",
    "setup_on_update",
}
ACCESS = {"read", "write", "admin"}


def builtin_skills() -> list[Skill]:
    found = [ep for ep in entry_points(group="ghapp.skills") if ep.value.startswith("ghapp.")]
    assert {ep.name for ep in found} == {
        "mention-reply",
        "label-sync",
        "milestone-progress",
        "release-publish",
        "onboarding",
    }
    return [ep.load() for ep in found]


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # A clean environment and a directory without `.env`: the committed file must not
    # depend on whoever runs the check.
    env = {k: v for k, v in os.environ.items() if k not in ("BASE_URL", "WEBHOOK_PATH")}
    return subprocess.run(
        [sys.executable, "-m", "ghapp.cli", "manifest", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


# -- generation -----------------------------------------------------------------------------


def test_manifest_has_githubs_shape() -> None:
    manifest = build_manifest(
        builtin_skills(),
        base_url="https://bot.example.org/",
        webhook_path="/hooks",
        name="my-bot",
        url="https://example.org/about",
    )
    assert set(manifest) <= MANIFEST_KEYS
    assert manifest["name"] == "my-bot"
    assert manifest["url"] == "https://example.org/about"
    assert manifest["hook_attributes"] == {"url": "https://bot.example.org/hooks", "active": True}
    assert manifest["redirect_url"] == "https://bot.example.org/setup/callback"
    assert manifest["callback_urls"] == ["https://bot.example.org/settings/auth/callback"]
    assert manifest["setup_url"] == "https://bot.example.org/settings/installed"
    assert manifest["public"] is False
    assert build_manifest([], public=True)["public"] is True
    permissions = manifest["default_permissions"]
    assert set(permissions.values()) <= ACCESS
    assert merge_permissions(CORE_PERMISSIONS, permissions) == permissions
    events = manifest["default_events"]
    assert events == sorted(set(events))
    # Sent to every App whatever the manifest says; GitHub rejects them as subscriptions.
    assert not {"installation", "installation_repositories"} & set(events)
    # GitHub refuses an event without its permission.
    for event in events:
        assert any(p in permissions for p in EVENT_PERMISSIONS.get(event, ("metadata",))), event


def test_manifest_is_the_union_of_the_skills() -> None:
    skills = builtin_skills()
    manifest = build_manifest(skills)
    for skill in skills:
        for name, access in skill.permissions.items():
            granted = manifest["default_permissions"][name]
            assert ["read", "write", "admin"].index(granted) >= ["read", "write", "admin"].index(
                access
            ), (skill.name, name)
        assert skill.events - {"installation", "installation_repositories"} <= set(
            manifest["default_events"]
        ), skill.name


@pytest.mark.parametrize(
    ("sets", "expected"),
    [
        ([{"issues": "read"}, {"issues": "write"}], {"issues": "write"}),
        ([{"issues": "write"}, {"issues": "read"}], {"issues": "write"}),
        ([{"issues": "write"}, {"issues": "admin"}, {"issues": "read"}], {"issues": "admin"}),
        (
            [{"contents": "read"}, {"issues": "read", "contents": "write"}],
            {"contents": "write", "issues": "read"},
        ),
        ([], {}),
    ],
)
def test_highest_access_wins(sets: list[dict[str, str]], expected: dict[str, str]) -> None:
    assert merge_permissions(*sets) == expected


def test_event_brings_its_permission() -> None:
    skill = Skill("deploys", "Watches deployments")

    @skill.on("deployment_status.created", "issue_comment.created")
    async def handle(ctx: Context) -> None: ...

    manifest = build_manifest([skill])
    assert manifest["default_permissions"]["deployments"] == "read"
    # issue_comment is allowed by `issues` or `pull_requests`; one is enough.
    assert manifest["default_permissions"].get("issues") == "read"
    assert "pull_requests" not in manifest["default_permissions"]
    assert {"deployment_status", "issue_comment", "push"} == set(manifest["default_events"])


def test_third_party_skill_permissions_appear() -> None:
    extra = Skill("pages-bot", "Publishes pages", permissions={"pages": "write", "issues": "admin"})

    @extra.on("release.published")
    async def publish(ctx: Context) -> None: ...

    skills = load_skills(extra=[extra])
    # The example skill from examples/hello-skill is installed as a third-party package.
    assert "hello" in skills
    assert skills["hello"].permissions == {"issues": "write"}
    manifest = build_manifest(skills.values())
    assert manifest["default_permissions"]["pages"] == "write"
    assert manifest["default_permissions"]["issues"] == "admin"
    assert "release" in manifest["default_events"]
    assert "pages" not in build_manifest(builtin_skills())["default_permissions"]


# -- the committed file -------------------------------------------------------------------


def test_committed_manifest_is_the_builtin_skills_manifest() -> None:
    assert COMMITTED.read_text() == render_manifest(build_manifest(builtin_skills()))
    parsed = yaml.safe_load(COMMITTED.read_text())
    assert parsed["public"] is False


def test_example_skill_adds_nothing_to_the_committed_manifest() -> None:
    """Keeps `ghapp manifest --check` the same with and without the example installed."""
    with_example = build_manifest([*builtin_skills(), load_skills()["hello"]])
    assert with_example == build_manifest(builtin_skills())


def test_cli_check_passes_on_the_committed_manifest(tmp_path: Path) -> None:
    result = run_cli("--check", "--output", str(COMMITTED), cwd=tmp_path)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "up to date" in result.stdout


def test_cli_writes_and_check_fails_when_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BASE_URL", raising=False)
    monkeypatch.delenv("WEBHOOK_PATH", raising=False)
    target = tmp_path / "manifest" / "app.yml"
    assert cli_main(["manifest"]) == 0  # default output: manifest/app.yml here
    assert target.read_text() == COMMITTED.read_text()
    assert cli_main(["manifest", "--check"]) == 0

    target.write_text(target.read_text().replace("issues: write", "issues: read"))
    capsys.readouterr()
    assert cli_main(["manifest", "--check"]) == 1
    assert "stale" in capsys.readouterr().err
    assert cli_main(["manifest", "--check", "--output", "none.yml"]) == 1
    # A different public URL is a different manifest.
    assert cli_main(["manifest", "--base-url", "https://bot.example.org"]) == 0
    assert "https://bot.example.org/setup/callback" in target.read_text()
