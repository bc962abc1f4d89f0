"""In-memory state of the fake GitHub: the records that routes read and mutate.

Only plain data lives here (dataclasses, id and timestamp helpers). How a record is rendered as
GitHub JSON is in `shapes.py`; who may touch it is decided in `core.py`.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

API_PREFIX = "/api/v3"
UPLOADS_PREFIX = "/api/uploads"
GRAPHQL_PATH = "/api/graphql"

# GitHub's legacy `permission` for each repository role (maintain reads as write, triage as read).
LEGACY_PERMISSION = {
    "admin": "admin",
    "maintain": "write",
    "write": "write",
    "triage": "read",
    "read": "read",
    "none": "none",
}
ROLE_RANK = {"none": 0, "read": 1, "triage": 2, "write": 3, "maintain": 4, "admin": 5}
REACTION_CONTENTS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes")

DEFAULT_APP_EVENTS = [
    "check_run",
    "discussion_comment",
    "issue_comment",
    "issues",
    "label",
    "milestone",
    "pull_request",
    "pull_request_review_comment",
    "push",
    "release",
    "workflow_run",
]

# One counter for every kind of record keeps ids unique across kinds, like GitHub's do look.
_ids = itertools.count(1_000_001)


def next_id() -> int:
    return next(_ids)


def node_id(kind: str, record_id: int) -> str:
    """A node id in GitHub's current `<KIND>_kwDO...` style (opaque to clients)."""
    encoded = base64.urlsafe_b64encode(record_id.to_bytes(8, "big")).decode().rstrip("=")
    return f"{kind}_kwDO{encoded}"


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso(moment: datetime | None) -> str | None:
    """GitHub's timestamp format: `YYYY-MM-DDTHH:MM:SSZ` in UTC."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def blob_sha(data: bytes) -> str:
    """The git blob id GitHub reports as a file's `sha`."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def fake_sha(seed: str) -> str:
    return hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest()


@dataclass
class AppIdentity:
    """A registered GitHub App: the fake's own, or one made by the manifest flow."""

    app_id: int
    slug: str
    name: str
    public_key_pem: bytes
    client_id: str
    client_secret: str
    webhook_secret: str | None
    owner: str
    created_at: datetime = field(default_factory=now)
    # What the App asks for; the fake's own App starts with what the skills' manifest declares.
    permissions: dict[str, str] = field(default_factory=dict)
    events: list[str] = field(default_factory=lambda: list(DEFAULT_APP_EVENTS))
    description: str | None = None
    external_url: str = "https://ghapp.example"

    @property
    def bot_login(self) -> str:
        return f"{self.slug}[bot]"


@dataclass
class User:
    login: str
    id: int
    type: str = "User"  # "User" | "Organization" | "Bot"
    name: str | None = None
    email: str | None = None
    created_at: datetime = field(default_factory=now)
    org_roles: dict[str, str] = field(default_factory=dict)  # org login -> "admin" | "member"


@dataclass
class Installation:
    id: int
    account: str
    account_type: str
    repositories: list[str]
    app_id: int
    created_at: datetime = field(default_factory=now)
    # What the owner granted; None: everything the App asks for (its current permissions).
    permissions: dict[str, str] | None = None
    suspended_at: datetime | None = None  # suspended by the owner (GitHub's suspended_at)


@dataclass
class InstallationToken:
    token: str
    installation_id: int
    expires_at: datetime
    repositories: list[str] | None  # None: every repository of the installation
    expired: bool = False
    permissions: dict[str, str] | None = None  # down-scoped; None: the installation's


@dataclass
class UserToken:
    token: str
    login: str
    app_id: int
    expires_at: datetime
    refresh_token: str
    expired: bool = False


@dataclass
class Label:
    id: int
    name: str
    color: str
    description: str | None = None
    default: bool = False


@dataclass
class Reaction:
    id: int
    content: str
    user: str
    created_at: datetime = field(default_factory=now)


@dataclass
class Issue:
    number: int
    id: int
    title: str
    body: str | None
    user: str
    state: str = "open"
    state_reason: str | None = None
    label_ids: list[int] = field(default_factory=list)
    milestone: int | None = None
    assignees: list[str] = field(default_factory=list)
    locked: bool = False
    is_pull: bool = False
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    closed_at: datetime | None = None
    reactions: list[Reaction] = field(default_factory=list)


@dataclass
class IssueComment:
    id: int
    issue_number: int
    body: str
    user: str
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    reactions: list[Reaction] = field(default_factory=list)


@dataclass
class PullRequest:
    """The pull-request half of an issue number (the issue half lives in `Repo.issues`)."""

    number: int
    id: int
    head_ref: str
    head_sha: str
    base_ref: str
    base_sha: str
    draft: bool = False
    merged: bool = False
    merged_at: datetime | None = None
    merged_by: str | None = None
    files: list[dict[str, Any]] = field(default_factory=list)
    # The authors of each commit (login, or None for a git name without an account; and the
    # name). Empty: one commit by the pull request's author.
    commit_authors: list[list[tuple[str | None, str]]] = field(default_factory=list)


@dataclass
class ReviewComment:
    id: int
    pull_number: int
    body: str
    user: str
    path: str
    commit_id: str
    diff_hunk: str = "@@ -1 +1 @@"
    line: int | None = 1
    in_reply_to_id: int | None = None
    review_id: int | None = None
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    reactions: list[Reaction] = field(default_factory=list)


@dataclass
class Milestone:
    number: int
    id: int
    title: str
    creator: str
    description: str | None = None
    state: str = "open"
    due_on: datetime | None = None
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    closed_at: datetime | None = None


@dataclass
class ReleaseAsset:
    id: int
    release_id: int
    name: str
    content_type: str
    data: bytes
    uploader: str
    label: str | None = None
    created_at: datetime = field(default_factory=now)


@dataclass
class Release:
    id: int
    tag_name: str
    target_commitish: str
    name: str | None
    body: str | None
    author: str
    draft: bool = False
    prerelease: bool = False
    created_at: datetime = field(default_factory=now)
    published_at: datetime | None = None
    asset_ids: list[int] = field(default_factory=list)


@dataclass
class Commit:
    sha: str
    message: str
    author_name: str
    author_email: str
    author_login: str | None
    parents: list[str]
    date: datetime = field(default_factory=now)


@dataclass
class CheckRun:
    id: int
    name: str
    head_sha: str
    app_id: int
    status: str = "queued"
    conclusion: str | None = None
    details_url: str | None = None
    external_id: str | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    output: dict[str, Any] = field(default_factory=dict)


@dataclass
class CommitComment:
    id: int
    commit_id: str
    body: str
    user: str
    path: str | None = None
    position: int | None = None
    line: int | None = None
    created_at: datetime = field(default_factory=now)


@dataclass
class Artifact:
    id: int
    name: str
    data: bytes
    run_id: int
    created_at: datetime = field(default_factory=now)
    expired: bool = False


@dataclass
class WorkflowRun:
    id: int
    artifact_ids: list[int] = field(default_factory=list)


@dataclass
class Repo:
    """One repository and everything the fake knows about it."""

    id: int
    owner: str
    name: str
    installation_id: int
    default_branch: str = "main"
    private: bool = False
    created_at: datetime = field(default_factory=now)
    labels: dict[int, Label] = field(default_factory=dict)
    issues: dict[int, Issue] = field(default_factory=dict)  # pull requests included, like GitHub
    comments: dict[int, IssueComment] = field(default_factory=dict)
    milestones: dict[int, Milestone] = field(default_factory=dict)
    releases: dict[int, Release] = field(default_factory=dict)
    assets: dict[int, ReleaseAsset] = field(default_factory=dict)
    files: dict[str, dict[str, str]] = field(default_factory=dict)  # ref -> path -> content
    pulls: dict[int, PullRequest] = field(default_factory=dict)
    review_comments: dict[int, ReviewComment] = field(default_factory=dict)
    commits: list[Commit] = field(default_factory=list)  # one linear history, oldest first
    refs: dict[str, str] = field(default_factory=dict)  # branch or tag name -> sha
    check_runs: dict[int, CheckRun] = field(default_factory=dict)
    commit_comments: dict[int, CommitComment] = field(default_factory=dict)
    dispatches: list[dict[str, Any]] = field(default_factory=list)
    workflow_runs: dict[int, WorkflowRun] = field(default_factory=dict)
    artifacts: dict[int, Artifact] = field(default_factory=dict)
    permissions: dict[str, str] = field(default_factory=dict)  # login -> role_name

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def next_number(self) -> int:
        """Issues, pull requests share one number sequence per repository."""
        return max(self.issues, default=0) + 1

    def find_label(self, name: str) -> Label | None:
        """Label names are matched case-insensitively, like GitHub does."""
        wanted = name.casefold()
        return next((lb for lb in self.labels.values() if lb.name.casefold() == wanted), None)

    def resolve_commit(self, ref: str) -> int | None:
        """Index in `commits` of a branch, tag, full sha or sha prefix (7+ characters)."""
        sha = self.refs.get(ref, ref)
        for index, commit in enumerate(self.commits):
            if commit.sha == sha or (len(sha) >= 7 and commit.sha.startswith(sha)):
                return index
        return None


@dataclass
class HookDelivery:
    id: int
    guid: str
    event: str
    action: str | None
    status_code: int
    delivered_at: datetime
    redelivery: bool = False
    duration: float = 0.31
    installation_id: int | None = None
    repository_id: int | None = None
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass
class DiscussionComment:
    node_id: str
    discussion_id: str
    body: str
    user: str
    reply_to_id: str | None = None
    created_at: datetime = field(default_factory=now)
