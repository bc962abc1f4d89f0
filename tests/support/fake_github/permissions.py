"""Which fine-grained permission a GitHub App's token needs for each operation the fake serves.

`@octokit/openapi` carries no permission map: its `x-github` block has `category`,
`subcategory`, `githubCloudOnly`, `triggersNotification` and `enabledForGitHubApps`, and the
last one is stale for some operations (`pulls/create-reply-for-review-comment` is `false`
there, while GitHub documents it for installation tokens with "Pull requests: write"), so the
fake does not use it. This table is GitHub's own documentation instead: the "Permissions
required for GitHub Apps" data of docs.github.com (API version 2026-03-10), transcribed for
the operations the fake implements, nothing more. A test checks that every route of the fake
that takes an installation or user token has a row here, so a new route cannot slip past.

Each row lists alternatives, any one of which is enough ("at least one of the following
permission sets"); `write` includes `read`. GraphQL has no such data: its rows are the
Discussions permission GitHub's GraphQL docs name for discussion mutations and reads.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

READ = "read"
WRITE = "write"
_RANK = {READ: 1, WRITE: 2, "admin": 3}

# operationId -> alternatives; each alternative is (permission, access).
REQUIRED: dict[str, tuple[tuple[str, str], ...]] = {
    # Metadata
    "repos/get": (("metadata", READ),),
    "repos/get-collaborator-permission-level": (("metadata", READ),),
    # Contents
    "repos/get-content": (("contents", READ),),
    "repos/compare-commits-with-basehead": (("contents", READ),),
    "repos/create-commit-comment": (("contents", READ),),  # sic: GitHub documents read
    "repos/create-dispatch-event": (("contents", WRITE),),
    "repos/list-releases": (("contents", READ),),
    "repos/get-latest-release": (("contents", READ),),
    "repos/get-release-by-tag": (("contents", READ),),
    "repos/get-release": (("contents", READ),),
    "repos/create-release": (("contents", WRITE),),
    "repos/update-release": (("contents", WRITE),),
    "repos/delete-release": (("contents", WRITE),),
    "repos/list-release-assets": (("contents", READ),),
    "repos/upload-release-asset": (("contents", WRITE),),
    "repos/delete-release-asset": (("contents", WRITE),),
    "repos/create-or-update-file-contents": (("contents", WRITE),),
    "git/get-ref": (("contents", READ),),
    "git/create-ref": (("contents", WRITE),),
    "git/update-ref": (("contents", WRITE),),
    # Issues, and the issue-side routes a pull request shares
    "issues/list-for-repo": (("issues", READ),),
    "issues/get": (("issues", READ),),
    "issues/update": (("issues", WRITE), ("pull_requests", WRITE)),
    "issues/list-comments": (("issues", READ), ("pull_requests", READ)),
    "issues/create-comment": (("issues", WRITE), ("pull_requests", WRITE)),
    "issues/get-comment": (("issues", READ), ("pull_requests", READ)),
    "issues/update-comment": (("issues", WRITE), ("pull_requests", WRITE)),
    "issues/delete-comment": (("issues", WRITE), ("pull_requests", WRITE)),
    "issues/list-labels-on-issue": (("issues", READ), ("pull_requests", READ)),
    "issues/add-labels": (("issues", WRITE), ("pull_requests", WRITE)),
    "issues/set-labels": (("issues", WRITE), ("pull_requests", WRITE)),
    "issues/remove-all-labels": (("issues", WRITE), ("pull_requests", WRITE)),
    "issues/remove-label": (("issues", WRITE), ("pull_requests", WRITE)),
    "issues/list-labels-for-repo": (("issues", READ), ("pull_requests", READ)),
    "issues/get-label": (("issues", READ), ("pull_requests", READ)),
    "issues/create-label": (("issues", WRITE), ("pull_requests", WRITE)),
    "issues/update-label": (("issues", WRITE), ("pull_requests", WRITE)),
    "issues/delete-label": (("issues", WRITE), ("pull_requests", WRITE)),
    "issues/list-milestones": (("issues", READ), ("pull_requests", READ)),
    "issues/get-milestone": (("issues", READ), ("pull_requests", READ)),
    "issues/update-milestone": (("issues", WRITE), ("pull_requests", WRITE)),
    "reactions/create-for-issue": (("issues", WRITE),),
    "reactions/create-for-issue-comment": (("issues", WRITE),),
    # Pull requests
    "pulls/list": (("pull_requests", READ),),
    "pulls/create": (("pull_requests", WRITE),),
    "pulls/get": (("pull_requests", READ), ("contents", READ)),
    "pulls/list-files": (("pull_requests", READ),),
    "pulls/list-review-comments": (("pull_requests", READ),),
    "pulls/create-reply-for-review-comment": (("pull_requests", WRITE),),
    "reactions/create-for-pull-request-review-comment": (("pull_requests", WRITE),),
    # Checks, Actions
    "checks/create": (("checks", WRITE),),
    "checks/list-for-ref": (("checks", READ),),
    "checks/update": (("checks", WRITE),),
    "actions/list-workflow-run-artifacts": (("actions", READ),),
    "actions/download-artifact": (("actions", READ),),
    # Organization members
    "orgs/get-membership-for-user": (("members", READ),),
    # GraphQL (see the module docstring)
    "graphql/addDiscussionComment": (("discussions", WRITE),),
    "graphql/addReaction": (("discussions", WRITE),),
    "graphql/node": (("discussions", READ),),
    "graphql/repository": (("pull_requests", READ),),
}

# Operations that take no installation permission: they act as the App (JWT) or as the user
# on their own account, so the App's installation permissions do not apply.
NO_INSTALLATION_PERMISSION = frozenset(
    {
        "apps/get-authenticated",
        "apps/list-installations",
        "apps/get-installation",
        "apps/create-installation-access-token",
        "apps/get-repo-installation",
        "apps/list-webhook-deliveries",
        "apps/get-webhook-delivery",
        "apps/redeliver-webhook-delivery",
        "apps/create-from-manifest",
        "users/get-authenticated",
        "apps/list-installations-for-authenticated-user",
        "apps/list-installation-repos-for-authenticated-user",
    }
)


def grants(granted: Mapping[str, str], permission: str, access: str) -> bool:
    """Whether `granted` holds `permission` at `access` or higher."""
    have = granted.get(permission)
    return have is not None and _RANK.get(have, 0) >= _RANK[access]


def missing_permission(operation_id: str, granted: Mapping[str, str]) -> str | None:
    """What `granted` lacks for `operation_id` (e.g. "issues: write"), None when enough.

    An operation without a row is refused too: a route the table does not know is a gap in
    the fake, and answering it as if any token might call it would hide that gap.
    """
    if operation_id in NO_INSTALLATION_PERMISSION:
        return None
    alternatives = REQUIRED.get(operation_id)
    if alternatives is None:
        return f"no permission row for {operation_id} in the fake's table"
    if any(grants(granted, name, access) for name, access in alternatives):
        return None
    return " or ".join(f"{name}: {access}" for name, access in alternatives)


@functools.cache
def _manifest_permissions() -> tuple[tuple[str, str], ...]:
    from ghapp.bus import load_skills
    from ghapp.manifest import build_manifest

    declared = build_manifest(load_skills().values())["default_permissions"]
    return tuple(sorted((str(k), str(v)) for k, v in declared.items()))


def manifest_permissions() -> dict[str, str]:
    """What the installed skills' manifest asks for (what `ghapp manifest` writes to
    manifest/app.yml): the fake's own App asks for exactly this, so a request ghapp makes
    without a declared permission is refused as GitHub would refuse it."""
    return dict(_manifest_permissions())
