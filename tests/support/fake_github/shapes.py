"""GitHub's JSON shapes for the fake's records.

Each function renders one record the way GitHub's REST API does, with URLs under the host the
request came in on (so the same state serves an ASGI transport and a real loopback port alike).
The shapes carry every field githubkit's models require, plus the common optional ones.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from .state import (
    API_PREFIX,
    LEGACY_PERMISSION,
    REACTION_CONTENTS,
    AppIdentity,
    Artifact,
    CheckRun,
    Commit,
    CommitComment,
    HookDelivery,
    Installation,
    Issue,
    IssueComment,
    Label,
    Milestone,
    PullRequest,
    Reaction,
    Release,
    ReleaseAsset,
    Repo,
    ReviewComment,
    User,
    blob_sha,
    iso,
    node_id,
)

Json = dict[str, Any]


@dataclass(frozen=True)
class Urls:
    """Where this request's host puts GitHub's web pages and its REST API."""

    web: str  # e.g. http://127.0.0.1:8123
    api: str  # e.g. http://127.0.0.1:8123/api/v3

    @classmethod
    def for_host(cls, web_root: str) -> Urls:
        web = web_root.rstrip("/")
        return cls(web=web, api=web + API_PREFIX)


def simple_user(u: Urls, user: User) -> Json:
    api = f"{u.api}/users/{user.login}"
    return {
        "login": user.login,
        "id": user.id,
        "node_id": node_id("U" if user.type == "User" else user.type[0], user.id),
        "avatar_url": f"{u.web}/avatars/u/{user.id}",
        "gravatar_id": "",
        "url": api,
        "html_url": f"{u.web}/{user.login}",
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events",
        "type": user.type,
        "user_view_type": "public",
        "site_admin": False,
    }


def private_user(u: Urls, user: User) -> Json:
    return {
        **simple_user(u, user),
        "name": user.name,
        "company": None,
        "blog": "",
        "location": None,
        "email": user.email,
        "hireable": None,
        "bio": None,
        "twitter_username": None,
        "notification_email": user.email,
        "public_repos": 0,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "created_at": iso(user.created_at),
        "updated_at": iso(user.created_at),
        "private_gists": 0,
        "total_private_repos": 0,
        "owned_private_repos": 0,
        "disk_usage": 0,
        "collaborators": 0,
        "two_factor_authentication": True,
    }


def organization_simple(u: Urls, org: User) -> Json:
    api = f"{u.api}/orgs/{org.login}"
    return {
        "login": org.login,
        "id": org.id,
        "node_id": node_id("O", org.id),
        "url": api,
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events",
        "hooks_url": f"{api}/hooks",
        "issues_url": f"{api}/issues",
        "members_url": f"{api}/members{{/member}}",
        "public_members_url": f"{api}/public_members{{/member}}",
        "avatar_url": f"{u.web}/avatars/u/{org.id}",
        "description": None,
    }


def app(u: Urls, identity: AppIdentity, owner: User, installations_count: int) -> Json:
    return {
        "id": identity.app_id,
        "slug": identity.slug,
        "node_id": node_id("A", identity.app_id),
        "client_id": identity.client_id,
        "owner": simple_user(u, owner),
        "name": identity.name,
        "description": identity.description,
        "external_url": identity.external_url,
        "html_url": f"{u.web}/apps/{identity.slug}",
        "created_at": iso(identity.created_at),
        "updated_at": iso(identity.created_at),
        "permissions": dict(identity.permissions),
        "events": list(identity.events),
        "installations_count": installations_count,
    }


def installation(u: Urls, inst: Installation, identity: AppIdentity, account: User) -> Json:
    if account.type == "Organization":
        html_url = f"{u.web}/organizations/{account.login}/settings/installations/{inst.id}"
    else:
        html_url = f"{u.web}/settings/installations/{inst.id}"
    return {
        "id": inst.id,
        "client_id": identity.client_id,
        "account": simple_user(u, account),
        "repository_selection": "selected",
        "access_tokens_url": f"{u.api}/app/installations/{inst.id}/access_tokens",
        "repositories_url": f"{u.api}/installation/repositories",
        "html_url": html_url,
        "app_id": inst.app_id,
        "app_slug": identity.slug,
        "target_id": account.id,
        "target_type": account.type,
        "permissions": dict(
            inst.permissions if inst.permissions is not None else identity.permissions
        ),
        "events": list(identity.events),
        "created_at": iso(inst.created_at),
        "updated_at": iso(inst.created_at),
        "single_file_name": None,
        "has_multiple_single_files": False,
        "single_file_paths": [],
        "suspended_by": None,
        "suspended_at": iso(inst.suspended_at) if inst.suspended_at else None,
    }


def repository(u: Urls, repo: Repo, owner: User, *, full: bool = True) -> Json:
    api = f"{u.api}/repos/{repo.full_name}"
    html = f"{u.web}/{repo.full_name}"
    open_issues = sum(1 for i in repo.issues.values() if i.state == "open")
    host = u.web.split("://", 1)[-1]
    shape: Json = {
        "id": repo.id,
        "node_id": node_id("R", repo.id),
        "name": repo.name,
        "full_name": repo.full_name,
        "private": repo.private,
        "owner": simple_user(u, owner),
        "html_url": html,
        "description": None,
        "fork": False,
        "url": api,
        "archive_url": f"{api}/{{archive_format}}{{/ref}}",
        "assignees_url": f"{api}/assignees{{/user}}",
        "blobs_url": f"{api}/git/blobs{{/sha}}",
        "branches_url": f"{api}/branches{{/branch}}",
        "collaborators_url": f"{api}/collaborators{{/collaborator}}",
        "comments_url": f"{api}/comments{{/number}}",
        "commits_url": f"{api}/commits{{/sha}}",
        "compare_url": f"{api}/compare/{{base}}...{{head}}",
        "contents_url": f"{api}/contents/{{+path}}",
        "contributors_url": f"{api}/contributors",
        "deployments_url": f"{api}/deployments",
        "downloads_url": f"{api}/downloads",
        "events_url": f"{api}/events",
        "forks_url": f"{api}/forks",
        "git_commits_url": f"{api}/git/commits{{/sha}}",
        "git_refs_url": f"{api}/git/refs{{/sha}}",
        "git_tags_url": f"{api}/git/tags{{/sha}}",
        "git_url": f"git://{host}/{repo.full_name}.git",
        "issue_comment_url": f"{api}/issues/comments{{/number}}",
        "issue_events_url": f"{api}/issues/events{{/number}}",
        "issues_url": f"{api}/issues{{/number}}",
        "keys_url": f"{api}/keys{{/key_id}}",
        "labels_url": f"{api}/labels{{/name}}",
        "languages_url": f"{api}/languages",
        "merges_url": f"{api}/merges",
        "milestones_url": f"{api}/milestones{{/number}}",
        "notifications_url": f"{api}/notifications{{?since,all,participating}}",
        "pulls_url": f"{api}/pulls{{/number}}",
        "releases_url": f"{api}/releases{{/id}}",
        "ssh_url": f"git@{host}:{repo.full_name}.git",
        "stargazers_url": f"{api}/stargazers",
        "statuses_url": f"{api}/statuses/{{sha}}",
        "subscribers_url": f"{api}/subscribers",
        "subscription_url": f"{api}/subscription",
        "tags_url": f"{api}/tags",
        "teams_url": f"{api}/teams",
        "trees_url": f"{api}/git/trees{{/sha}}",
        "clone_url": f"{html}.git",
        "mirror_url": None,
        "hooks_url": f"{api}/hooks",
        "svn_url": html,
        "homepage": None,
        "language": "Python",
        "forks_count": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "size": 100,
        "default_branch": repo.default_branch,
        "open_issues_count": open_issues,
        "is_template": False,
        "topics": [],
        "has_issues": True,
        "has_projects": True,
        "has_wiki": True,
        "has_pages": False,
        "has_downloads": True,
        "has_discussions": True,
        "archived": False,
        "disabled": False,
        "visibility": "private" if repo.private else "public",
        "pushed_at": iso(repo.commits[-1].date if repo.commits else repo.created_at),
        "created_at": iso(repo.created_at),
        "updated_at": iso(repo.created_at),
        "permissions": {
            "admin": False,
            "maintain": False,
            "push": True,
            "triage": True,
            "pull": True,
        },
        "allow_forking": True,
        "web_commit_signoff_required": False,
        "license": None,
        "forks": 0,
        "open_issues": open_issues,
        "watchers": 0,
    }
    if full:
        shape |= {
            "subscribers_count": 1,
            "network_count": 0,
            "temp_clone_token": None,
            "allow_squash_merge": True,
            "allow_merge_commit": True,
            "allow_rebase_merge": True,
            "allow_auto_merge": False,
            "delete_branch_on_merge": False,
        }
    return shape


def content_file(u: Urls, repo: Repo, path: str, content: str, ref: str) -> Json:
    data = content.encode()
    sha = blob_sha(data)
    api = f"{u.api}/repos/{repo.full_name}/contents/{path}?ref={ref}"
    html = f"{u.web}/{repo.full_name}/blob/{ref}/{path}"
    git = f"{u.api}/repos/{repo.full_name}/git/blobs/{sha}"
    encoded = base64.encodebytes(data).decode()  # GitHub wraps base64 at 60 columns with \n
    large = len(data) > 1024 * 1024  # over 1 MB GitHub gives no content, `encoding: none`
    return {
        "type": "file",
        "encoding": "none" if large else "base64",
        "size": len(data),
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "content": "" if large else encoded,
        "sha": sha,
        "url": api,
        "git_url": git,
        "html_url": html,
        "download_url": f"{u.web}/{repo.full_name}/raw/{ref}/{path}",
        "_links": {"self": api, "git": git, "html": html},
    }


def directory_entry(u: Urls, repo: Repo, path: str, ref: str, *, is_dir: bool, size: int) -> Json:
    sha = blob_sha(path.encode())
    api = f"{u.api}/repos/{repo.full_name}/contents/{path}?ref={ref}"
    kind = "tree" if is_dir else "blob"
    html = f"{u.web}/{repo.full_name}/{kind}/{ref}/{path}"
    git = f"{u.api}/repos/{repo.full_name}/git/{kind}s/{sha}"
    return {
        "type": "dir" if is_dir else "file",
        "size": 0 if is_dir else size,
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "sha": sha,
        "url": api,
        "git_url": git,
        "html_url": html,
        "download_url": None if is_dir else f"{u.web}/{repo.full_name}/raw/{ref}/{path}",
        "_links": {"self": api, "git": git, "html": html},
    }


def label(u: Urls, repo: Repo, lb: Label) -> Json:
    return {
        "id": lb.id,
        "node_id": node_id("LA", lb.id),
        "url": f"{u.api}/repos/{repo.full_name}/labels/{lb.name}",
        "name": lb.name,
        "description": lb.description,
        "color": lb.color,
        "default": lb.default,
        "archived_at": None,
        "archived_by": None,
    }


def reaction(u: Urls, users: dict[str, User], r: Reaction) -> Json:
    return {
        "id": r.id,
        "node_id": node_id("REA", r.id),
        "user": simple_user(u, users[r.user]),
        "content": r.content,
        "created_at": iso(r.created_at),
    }


def reaction_rollup(url: str, reactions: list[Reaction]) -> Json:
    counts = {c: sum(1 for r in reactions if r.content == c) for c in REACTION_CONTENTS}
    return {"url": url, "total_count": len(reactions), **counts}


def milestone(u: Urls, repo: Repo, users: dict[str, User], ms: Milestone) -> Json:
    in_milestone = [i for i in repo.issues.values() if i.milestone == ms.number]
    return {
        "url": f"{u.api}/repos/{repo.full_name}/milestones/{ms.number}",
        "html_url": f"{u.web}/{repo.full_name}/milestone/{ms.number}",
        "labels_url": f"{u.api}/repos/{repo.full_name}/milestones/{ms.number}/labels",
        "id": ms.id,
        "node_id": node_id("MI", ms.id),
        "number": ms.number,
        "state": ms.state,
        "title": ms.title,
        "description": ms.description,
        "creator": simple_user(u, users[ms.creator]),
        "open_issues": sum(1 for i in in_milestone if i.state == "open"),
        "closed_issues": sum(1 for i in in_milestone if i.state == "closed"),
        "created_at": iso(ms.created_at),
        "updated_at": iso(ms.updated_at),
        "closed_at": iso(ms.closed_at),
        "due_on": iso(ms.due_on),
    }


def author_association(repo: Repo, login: str) -> str:
    if login == repo.owner:
        return "OWNER"
    if login.endswith("[bot]"):
        return "NONE"
    role = repo.permissions.get(login, "none")
    return "COLLABORATOR" if role != "none" else "CONTRIBUTOR"


def issue(u: Urls, repo: Repo, users: dict[str, User], item: Issue) -> Json:
    api = f"{u.api}/repos/{repo.full_name}/issues/{item.number}"
    kind = "pull" if item.is_pull else "issues"
    shape: Json = {
        "url": api,
        "repository_url": f"{u.api}/repos/{repo.full_name}",
        "labels_url": f"{api}/labels{{/name}}",
        "comments_url": f"{api}/comments",
        "events_url": f"{api}/events",
        "html_url": f"{u.web}/{repo.full_name}/{kind}/{item.number}",
        "id": item.id,
        "node_id": node_id("PR" if item.is_pull else "I", item.id),
        "number": item.number,
        "title": item.title,
        "user": simple_user(u, users[item.user]),
        "labels": [label(u, repo, repo.labels[i]) for i in item.label_ids if i in repo.labels],
        "state": item.state,
        "locked": item.locked,
        "assignee": simple_user(u, users[item.assignees[0]]) if item.assignees else None,
        "assignees": [simple_user(u, users[a]) for a in item.assignees],
        "milestone": (
            milestone(u, repo, users, repo.milestones[item.milestone])
            if item.milestone in repo.milestones
            else None
        ),
        "comments": sum(1 for c in repo.comments.values() if c.issue_number == item.number),
        "created_at": iso(item.created_at),
        "updated_at": iso(item.updated_at),
        "closed_at": iso(item.closed_at),
        "author_association": author_association(repo, item.user),
        "active_lock_reason": None,
        "body": item.body,
        "closed_by": None,
        "reactions": reaction_rollup(f"{api}/reactions", item.reactions),
        "timeline_url": f"{api}/timeline",
        "performed_via_github_app": None,
        "state_reason": item.state_reason,
    }
    if item.is_pull:
        pull = repo.pulls[item.number]
        shape["draft"] = pull.draft
        shape["pull_request"] = {
            "url": f"{u.api}/repos/{repo.full_name}/pulls/{item.number}",
            "html_url": f"{u.web}/{repo.full_name}/pull/{item.number}",
            "diff_url": f"{u.web}/{repo.full_name}/pull/{item.number}.diff",
            "patch_url": f"{u.web}/{repo.full_name}/pull/{item.number}.patch",
            "merged_at": iso(pull.merged_at),
        }
    return shape


def issue_comment(u: Urls, repo: Repo, users: dict[str, User], c: IssueComment) -> Json:
    api = f"{u.api}/repos/{repo.full_name}/issues/comments/{c.id}"
    return {
        "url": api,
        "html_url": f"{u.web}/{repo.full_name}/issues/{c.issue_number}#issuecomment-{c.id}",
        "issue_url": f"{u.api}/repos/{repo.full_name}/issues/{c.issue_number}",
        "id": c.id,
        "node_id": node_id("IC", c.id),
        "user": simple_user(u, users[c.user]),
        "created_at": iso(c.created_at),
        "updated_at": iso(c.updated_at),
        "body": c.body,
        "author_association": author_association(repo, c.user),
        "reactions": reaction_rollup(f"{api}/reactions", c.reactions),
        "performed_via_github_app": None,
    }


def _branch(u: Urls, repo: Repo, owner: User, ref: str, sha: str) -> Json:
    return {
        "label": f"{repo.owner}:{ref}",
        "ref": ref,
        "sha": sha,
        "user": simple_user(u, owner),
        "repo": repository(u, repo, owner, full=False),
    }


def pull_request(
    u: Urls, repo: Repo, users: dict[str, User], pull: PullRequest, *, full: bool
) -> Json:
    item = repo.issues[pull.number]
    owner = users[repo.owner]
    api = f"{u.api}/repos/{repo.full_name}/pulls/{pull.number}"
    issue_api = f"{u.api}/repos/{repo.full_name}/issues/{pull.number}"
    html = f"{u.web}/{repo.full_name}/pull/{pull.number}"
    statuses = f"{u.api}/repos/{repo.full_name}/statuses/{pull.head_sha}"
    labels = [label(u, repo, repo.labels[i]) for i in item.label_ids if i in repo.labels]
    shape: Json = {
        "url": api,
        "id": pull.id,
        "node_id": node_id("PR", pull.id),
        "html_url": html,
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "issue_url": issue_api,
        "commits_url": f"{api}/commits",
        "review_comments_url": f"{api}/comments",
        "review_comment_url": f"{u.api}/repos/{repo.full_name}/pulls/comments{{/number}}",
        "comments_url": f"{issue_api}/comments",
        "statuses_url": statuses,
        "number": pull.number,
        "state": item.state,
        "locked": item.locked,
        "title": item.title,
        "user": simple_user(u, users[item.user]),
        "body": item.body,
        "labels": labels,
        "milestone": (
            milestone(u, repo, users, repo.milestones[item.milestone])
            if item.milestone in repo.milestones
            else None
        ),
        "active_lock_reason": None,
        "created_at": iso(item.created_at),
        "updated_at": iso(item.updated_at),
        "closed_at": iso(item.closed_at),
        "merged_at": iso(pull.merged_at),
        "merge_commit_sha": pull.head_sha if pull.merged else None,
        "assignee": simple_user(u, users[item.assignees[0]]) if item.assignees else None,
        "assignees": [simple_user(u, users[a]) for a in item.assignees],
        "requested_reviewers": [],
        "requested_teams": [],
        "head": _branch(u, repo, owner, pull.head_ref, pull.head_sha),
        "base": _branch(u, repo, owner, pull.base_ref, pull.base_sha),
        "_links": {
            "self": {"href": api},
            "html": {"href": html},
            "issue": {"href": issue_api},
            "comments": {"href": f"{issue_api}/comments"},
            "review_comments": {"href": f"{api}/comments"},
            "review_comment": {"href": f"{u.api}/repos/{repo.full_name}/pulls/comments{{/number}}"},
            "commits": {"href": f"{api}/commits"},
            "statuses": {"href": statuses},
        },
        "author_association": author_association(repo, item.user),
        "auto_merge": None,
        "draft": pull.draft,
    }
    if full:
        shape |= {
            "merged": pull.merged,
            "mergeable": None if pull.merged else True,
            "rebaseable": None if pull.merged else True,
            "mergeable_state": "unknown" if pull.merged else "clean",
            "merged_by": simple_user(u, users[pull.merged_by]) if pull.merged_by else None,
            "comments": sum(1 for c in repo.comments.values() if c.issue_number == pull.number),
            "review_comments": sum(
                1 for c in repo.review_comments.values() if c.pull_number == pull.number
            ),
            "maintainer_can_modify": False,
            "commits": 1,
            "additions": sum(int(f.get("additions", 0)) for f in pull.files),
            "deletions": sum(int(f.get("deletions", 0)) for f in pull.files),
            "changed_files": len(pull.files),
        }
    return shape


def review_comment(u: Urls, repo: Repo, users: dict[str, User], c: ReviewComment) -> Json:
    api = f"{u.api}/repos/{repo.full_name}/pulls/comments/{c.id}"
    html = f"{u.web}/{repo.full_name}/pull/{c.pull_number}#discussion_r{c.id}"
    pull_api = f"{u.api}/repos/{repo.full_name}/pulls/{c.pull_number}"
    shape: Json = {
        "url": api,
        "pull_request_review_id": c.review_id,
        "id": c.id,
        "node_id": node_id("PRRC", c.id),
        "diff_hunk": c.diff_hunk,
        "path": c.path,
        "commit_id": c.commit_id,
        "original_commit_id": c.commit_id,
        "user": simple_user(u, users[c.user]),
        "body": c.body,
        "created_at": iso(c.created_at),
        "updated_at": iso(c.updated_at),
        "html_url": html,
        "pull_request_url": pull_api,
        "author_association": author_association(repo, c.user),
        "_links": {
            "self": {"href": api},
            "html": {"href": html},
            "pull_request": {"href": pull_api},
        },
        "reactions": reaction_rollup(f"{api}/reactions", c.reactions),
        "start_line": None,
        "original_start_line": None,
        "start_side": None,
        "line": c.line,
        "original_line": c.line,
        "side": "RIGHT",
        "subject_type": "line",
    }
    if c.in_reply_to_id is not None:
        shape["in_reply_to_id"] = c.in_reply_to_id
    return shape


def diff_entry(u: Urls, repo: Repo, pull: PullRequest, f: dict[str, Any]) -> Json:
    filename = str(f["filename"])
    additions = int(f.get("additions", 1))
    deletions = int(f.get("deletions", 0))
    shape: Json = {
        "sha": blob_sha(filename.encode()),
        "filename": filename,
        "status": f.get("status", "modified"),
        "additions": additions,
        "deletions": deletions,
        "changes": additions + deletions,
        "blob_url": f"{u.web}/{repo.full_name}/blob/{pull.head_sha}/{filename}",
        "raw_url": f"{u.web}/{repo.full_name}/raw/{pull.head_sha}/{filename}",
        "contents_url": f"{u.api}/repos/{repo.full_name}/contents/{filename}?ref={pull.head_sha}",
        "patch": f.get("patch", "@@ -1 +1 @@\n-old\n+new"),
    }
    if "previous_filename" in f:
        shape["previous_filename"] = f["previous_filename"]
    return shape


def collaborator_permission(u: Urls, user: User, role_name: str) -> Json:
    return {
        "permission": LEGACY_PERMISSION.get(role_name, "read"),
        "role_name": role_name,
        "user": {
            **simple_user(u, user),
            "permissions": {
                "admin": role_name == "admin",
                "maintain": role_name in ("admin", "maintain"),
                "push": role_name in ("admin", "maintain", "write"),
                "triage": role_name in ("admin", "maintain", "write", "triage"),
                "pull": role_name != "none",
            },
            "role_name": role_name,
        },
    }


def release_asset(u: Urls, repo: Repo, users: dict[str, User], a: ReleaseAsset, tag: str) -> Json:
    return {
        "url": f"{u.api}/repos/{repo.full_name}/releases/assets/{a.id}",
        "browser_download_url": f"{u.web}/{repo.full_name}/releases/download/{tag}/{a.name}",
        "id": a.id,
        "node_id": node_id("RA", a.id),
        "name": a.name,
        "label": a.label,
        "state": "uploaded",
        "content_type": a.content_type,
        "size": len(a.data),
        "digest": "sha256:" + hashlib.sha256(a.data).hexdigest(),
        "download_count": 0,
        "created_at": iso(a.created_at),
        "updated_at": iso(a.created_at),
        "uploader": simple_user(u, users[a.uploader]),
    }


def release(u: Urls, repo: Repo, users: dict[str, User], r: Release) -> Json:
    api = f"{u.api}/repos/{repo.full_name}/releases/{r.id}"
    # A draft has no tag page yet: GitHub links it as an "untagged-..." page.
    html_tag = f"untagged-{r.id}" if r.draft else r.tag_name
    return {
        "url": api,
        "html_url": f"{u.web}/{repo.full_name}/releases/tag/{html_tag}",
        "assets_url": f"{api}/assets",
        "upload_url": (
            f"{u.web}/api/uploads/repos/{repo.full_name}/releases/{r.id}/assets{{?name,label}}"
        ),
        "tarball_url": f"{u.api}/repos/{repo.full_name}/tarball/{r.tag_name}",
        "zipball_url": f"{u.api}/repos/{repo.full_name}/zipball/{r.tag_name}",
        "id": r.id,
        "node_id": node_id("RE", r.id),
        "tag_name": r.tag_name,
        "target_commitish": r.target_commitish,
        "name": r.name,
        "body": r.body,
        "draft": r.draft,
        "prerelease": r.prerelease,
        "immutable": False,
        "created_at": iso(r.created_at),
        "updated_at": iso(r.published_at or r.created_at),
        "published_at": iso(r.published_at),
        "author": simple_user(u, users[r.author]),
        "assets": [
            release_asset(u, repo, users, repo.assets[a], r.tag_name)
            for a in r.asset_ids
            if a in repo.assets
        ],
    }


def git_user(c: Commit) -> Json:
    return {"name": c.author_name, "email": c.author_email, "date": iso(c.date)}


def commit(u: Urls, repo: Repo, users: dict[str, User], c: Commit) -> Json:
    api = f"{u.api}/repos/{repo.full_name}/commits/{c.sha}"
    author = simple_user(u, users[c.author_login]) if c.author_login else None
    return {
        "url": api,
        "sha": c.sha,
        "node_id": node_id("C", int(c.sha[:12], 16)),
        "html_url": f"{u.web}/{repo.full_name}/commit/{c.sha}",
        "comments_url": f"{api}/comments",
        "commit": {
            "url": f"{u.api}/repos/{repo.full_name}/git/commits/{c.sha}",
            "author": git_user(c),
            "committer": git_user(c),
            "message": c.message,
            "comment_count": 0,
            "tree": {
                "sha": blob_sha(c.sha.encode()),
                "url": f"{u.api}/repos/{repo.full_name}/git/trees/{blob_sha(c.sha.encode())}",
            },
            "verification": {
                "verified": False,
                "reason": "unsigned",
                "signature": None,
                "payload": None,
                "verified_at": None,
            },
        },
        "author": author,
        "committer": author,
        "parents": [
            {
                "sha": p,
                "url": f"{u.api}/repos/{repo.full_name}/commits/{p}",
                "html_url": f"{u.web}/{repo.full_name}/commit/{p}",
            }
            for p in c.parents
        ],
    }


def check_run(u: Urls, repo: Repo, c: CheckRun, app_shape: Json | None) -> Json:
    api = f"{u.api}/repos/{repo.full_name}/check-runs/{c.id}"
    return {
        "id": c.id,
        "head_sha": c.head_sha,
        "node_id": node_id("CR", c.id),
        "external_id": c.external_id or "",
        "url": api,
        "html_url": f"{u.web}/{repo.full_name}/runs/{c.id}",
        "details_url": c.details_url,
        "status": c.status,
        "conclusion": c.conclusion,
        "started_at": iso(c.started_at),
        "completed_at": iso(c.completed_at),
        "output": {
            "title": c.output.get("title"),
            "summary": c.output.get("summary"),
            "text": c.output.get("text"),
            "annotations_count": len(c.output.get("annotations", [])),
            "annotations_url": f"{api}/annotations",
        },
        "name": c.name,
        "check_suite": {"id": c.id + 1},
        "app": app_shape,
        "pull_requests": [],
    }


def commit_comment(u: Urls, repo: Repo, users: dict[str, User], c: CommitComment) -> Json:
    api = f"{u.api}/repos/{repo.full_name}/comments/{c.id}"
    return {
        "html_url": f"{u.web}/{repo.full_name}/commit/{c.commit_id}#commitcomment-{c.id}",
        "url": api,
        "id": c.id,
        "node_id": node_id("CC", c.id),
        "body": c.body,
        "path": c.path,
        "position": c.position,
        "line": c.line,
        "commit_id": c.commit_id,
        "user": simple_user(u, users[c.user]),
        "created_at": iso(c.created_at),
        "updated_at": iso(c.created_at),
        "author_association": author_association(repo, c.user),
        "reactions": reaction_rollup(f"{api}/reactions", []),
    }


def artifact(u: Urls, repo: Repo, a: Artifact) -> Json:
    api = f"{u.api}/repos/{repo.full_name}/actions/artifacts/{a.id}"
    return {
        "id": a.id,
        "node_id": node_id("MDE", a.id),
        "name": a.name,
        "size_in_bytes": len(a.data),
        "url": api,
        "archive_download_url": f"{api}/zip",
        "expired": a.expired,
        "created_at": iso(a.created_at),
        "updated_at": iso(a.created_at),
        "expires_at": iso(a.created_at + timedelta(days=90)),
        "digest": "sha256:" + hashlib.sha256(a.data).hexdigest(),
        "workflow_run": {
            "id": a.run_id,
            "repository_id": repo.id,
            "head_repository_id": repo.id,
            "head_branch": repo.default_branch,
            "head_sha": repo.commits[-1].sha if repo.commits else "",
        },
    }


def org_membership(u: Urls, org: User, user: User, role: str) -> Json:
    return {
        "url": f"{u.api}/orgs/{org.login}/memberships/{user.login}",
        "state": "active",
        "role": role,
        "organization_url": f"{u.api}/orgs/{org.login}",
        "organization": organization_simple(u, org),
        "user": simple_user(u, user),
    }


def hook_delivery_item(d: HookDelivery) -> Json:
    ok = 200 <= d.status_code < 300
    return {
        "id": d.id,
        "guid": d.guid,
        "delivered_at": iso(d.delivered_at),
        "redelivery": d.redelivery,
        "duration": d.duration,
        "status": "OK" if ok else f"Invalid HTTP Response: {d.status_code}",
        "status_code": d.status_code,
        "event": d.event,
        "action": d.action,
        "installation_id": d.installation_id,
        "repository_id": d.repository_id,
        "throttled_at": None,
    }


def hook_delivery(u: Urls, d: HookDelivery) -> Json:
    return {
        **hook_delivery_item(d),
        "url": f"{u.web}/webhook",
        "request": {
            "headers": {
                "Accept": "*/*",
                "Content-Type": "application/json",
                "X-GitHub-Delivery": d.guid,
                "X-GitHub-Event": d.event,
            },
            "payload": d.payload,
        },
        "response": {"headers": {"Content-Type": "application/json"}, "payload": "{}"},
    }


def error(
    status: int, message: str, *, errors: list[Json] | None = None, docs: str | None = None
) -> Json:
    """GitHub's error body: message, documentation_url (the operation's page when known) and
    (newer servers) the status string."""
    body: Json = {"message": message, "documentation_url": docs or "https://docs.github.com/rest"}
    if errors is not None:
        body["errors"] = errors
    body["status"] = str(status)
    return body
