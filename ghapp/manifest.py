"""The GitHub App manifest, generated from the installed skills.

Permissions are the union of what skills declare (the highest access wins: read < write <
admin) plus what ghapp itself needs; events are the union of the events skills handle.
`installation` and `installation_repositories` are sent to every App and need no entry.
GitHub refuses a manifest that subscribes to an event without the permission the event
belongs to, so such a permission is added at `read` when no skill asked for it.

`manifest/app.yml` in the repository is what `ghapp manifest` writes from the built-in
skills; a deployment with third-party skills writes its own (`ghapp manifest`), and the
setup page always builds the manifest from the skills installed where it runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from ghapp.skill import Skill

ACCESS_ORDER = ("read", "write", "admin")
PLACEHOLDER_URL = "https://ghapp.example.com"
# What ghapp needs whatever skills are installed.
CORE_PERMISSIONS = {
    "metadata": "read",  # every App has it; repository lookups
    "contents": "read",  # .github/ghapp.yml
    "checks": "write",  # reporting an invalid .github/ghapp.yml on its commit
    "members": "read",  # settings page: who owns the organization
}
CORE_EVENTS = {"push"}  # validating .github/ghapp.yml when it changes
# Events GitHub always sends to Apps; listing them in a manifest is an error.
IMPLICIT_EVENTS = {"installation", "installation_repositories", "github_app_authorization"}
# The permission(s) GitHub requires for a webhook event; any one of them will do.
EVENT_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "check_run": ("checks",),
    "check_suite": ("checks",),
    "commit_comment": ("contents",),
    "create": ("contents",),
    "delete": ("contents",),
    "push": ("contents",),
    "release": ("contents",),
    "repository_dispatch": ("contents",),
    "deployment": ("deployments",),
    "deployment_status": ("deployments",),
    "discussion": ("discussions",),
    "discussion_comment": ("discussions",),
    "issues": ("issues",),
    "issue_comment": ("issues", "pull_requests"),
    "milestone": ("issues", "pull_requests"),
    "label": ("metadata",),
    "repository": ("metadata",),
    "star": ("metadata",),
    "watch": ("metadata",),
    "member": ("members",),
    "membership": ("members",),
    "organization": ("members",),
    "team": ("members",),
    "pull_request": ("pull_requests",),
    "pull_request_review": ("pull_requests",),
    "pull_request_review_comment": ("pull_requests",),
    "pull_request_review_thread": ("pull_requests",),
    "status": ("statuses",),
    "workflow_job": ("actions",),
    "workflow_run": ("actions",),
}
OAUTH_CALLBACK_PATH = "/settings/auth/callback"
SETUP_URL_PATH = "/settings/installed"
MANIFEST_REDIRECT_PATH = "/setup/callback"


def merge_permissions(*sets: Mapping[str, str]) -> dict[str, str]:
    """The union of permission sets; for a permission in several, the highest access."""
    merged: dict[str, str] = {}
    for permissions in sets:
        for name, access in permissions.items():
            current = merged.get(name)
            if current is None or ACCESS_ORDER.index(access) > ACCESS_ORDER.index(current):
                merged[name] = access
    return dict(sorted(merged.items()))


def event_permissions(events: Iterable[str], permissions: Mapping[str, str]) -> dict[str, str]:
    """Read access to what `events` need and `permissions` lacks (GitHub requires it)."""
    missing: dict[str, str] = {}
    for event in sorted(events):
        needed = EVENT_PERMISSIONS.get(event, ())
        if needed and not any(p in permissions or p in missing for p in needed):
            missing[needed[0]] = "read"
    return missing


def build_manifest(
    skills: Iterable[Skill],
    *,
    base_url: str | None = None,
    webhook_path: str = "/api/github/webhooks",
    name: str = "ghapp",
    url: str | None = None,
    public: bool = False,
) -> dict[str, Any]:
    """The GitHub App manifest for `skills`, its URLs under `base_url`."""
    skills = list(skills)
    base = (base_url or PLACEHOLDER_URL).rstrip("/")
    events = set(CORE_EVENTS)
    for skill in skills:
        events |= skill.events
    events -= IMPLICIT_EVENTS
    permissions = merge_permissions(CORE_PERMISSIONS, *(skill.permissions for skill in skills))
    permissions = merge_permissions(permissions, event_permissions(events, permissions))
    return {
        "name": name,
        "url": url or base,
        "hook_attributes": {"url": base + webhook_path, "active": True},
        "redirect_url": base + MANIFEST_REDIRECT_PATH,
        "callback_urls": [base + OAUTH_CALLBACK_PATH],
        "setup_url": base + SETUP_URL_PATH,
        "setup_on_update": True,
        "request_oauth_on_install": False,
        "public": public,
        "default_permissions": permissions,
        "default_events": sorted(events),
    }


def render_manifest(manifest: dict[str, Any]) -> str:
    header = (
        "# GitHub App manifest, generated by `ghapp manifest` from the installed skills.\n"
        "# Do not edit by hand; `ghapp manifest --check` fails when it is stale.\n"
    )
    return header + yaml.safe_dump(manifest, sort_keys=False)
