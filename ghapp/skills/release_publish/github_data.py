"""The GitHub requests release-publish makes, in one place, returning plain data.

Responses are read as JSON rather than githubkit models so a write answered by DRY_RUN
(an empty `{}`) is handled like any other answer: callers check `dry_run` before using
what a write returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

from githubkit import GitHub
from githubkit.exception import RequestFailed
from githubkit.response import Response

from ghapp import RepoRef
from ghapp.skills.release_publish.artifacts import AssetFile
from ghapp.skills.release_publish.notes import CommitAuthor, CommitInfo, MergedPull
from ghapp.skills.release_publish.releases import ReleaseInfo, parse_time

PER_PAGE = 100
_AUTHORS_BATCH = 50
# GitHub caps a connection at 100 nodes: a pull request's first 100 commits are read.
_PULL_AUTHORS = (
    "commits(first: 100) { nodes { commit { "
    "authors(first: 20) { nodes { name user { login } } } } } }"
)


def _json(response: Response[Any, Any]) -> dict[str, Any]:
    # DRY_RUN answers writes with `{}`; everything else is GitHub's object.
    return cast(dict[str, Any], response.json())


@dataclass(frozen=True, slots=True)
class FetchedPull:
    """A merged pull request and its body (for the issues it closes)."""

    pull: MergedPull
    body: str | None


@dataclass(frozen=True, slots=True)
class RunArtifact:
    id: int
    name: str
    expired: bool


class ReleaseData:
    """One repository's releases, pull requests, commits and artifacts."""

    def __init__(self, github: GitHub[Any], repo: RepoRef) -> None:
        self.github = github
        self.repo = repo

    @property
    def _where(self) -> tuple[str, str]:
        return self.repo.owner, self.repo.name

    # -- reads --------------------------------------------------------------------------

    async def default_branch(self) -> str:
        response = await self.github.rest.repos.async_get(*self._where)
        return str(response.json()["default_branch"])

    async def releases(self) -> list[ReleaseInfo]:
        """Every release, drafts included (the installation can see them), newest first."""
        found: list[ReleaseInfo] = []
        async for item in self.github.rest.paginate(
            self.github.rest.repos.async_list_releases,
            map_func=lambda r: r.json(),
            owner=self.repo.owner,
            repo=self.repo.name,
            per_page=PER_PAGE,
        ):
            found.append(ReleaseInfo.from_json(item))
        return found

    async def published_release(self, tag: str) -> ReleaseInfo | None:
        """The published release for `tag` (GitHub's by-tag lookup never returns drafts)."""
        try:
            response = await self.github.rest.repos.async_get_release_by_tag(*self._where, tag)
        except RequestFailed as exc:
            if exc.response.status_code == 404:
                return None
            raise
        return ReleaseInfo.from_json(_json(response))

    async def release(self, release_id: int) -> ReleaseInfo | None:
        try:
            response = await self.github.rest.repos.async_get_release(*self._where, release_id)
        except RequestFailed as exc:
            if exc.response.status_code == 404:
                return None
            raise
        return ReleaseInfo.from_json(_json(response))

    async def merged_pulls(self, base: str, since: datetime | None) -> list[FetchedPull]:
        """Pull requests merged into `base` after `since`, every page of them.

        Listed by last update, newest first: a pull request's update time is never before
        its merge, so the listing stops at the first one last touched before `since`.
        """
        found: list[FetchedPull] = []
        async for item in self.github.rest.paginate(
            self.github.rest.pulls.async_list,
            map_func=lambda r: r.json(),
            owner=self.repo.owner,
            repo=self.repo.name,
            state="closed",
            base=base,
            sort="updated",
            direction="desc",
            per_page=PER_PAGE,
        ):
            if since is not None and parse_time(item["updated_at"]) < since:
                break
            merged_at = item.get("merged_at")
            if not merged_at or (since is not None and parse_time(merged_at) <= since):
                continue
            user = item.get("user") or {}
            is_bot = user.get("type") == "Bot"
            login = user.get("login")
            if login and is_bot:
                login = str(login).removesuffix("[bot]")  # as GraphQL names an App's bot
            pull = MergedPull(
                number=int(item["number"]),
                title=str(item.get("title") or ""),
                author=str(login) if login else None,
                author_is_bot=is_bot,
                author_url=user.get("html_url"),
                labels=tuple(str(label["name"]) for label in item.get("labels") or ()),
                merged_at=parse_time(merged_at),
                url=str(item.get("html_url") or ""),
                body=item.get("body"),
                base_ref=(item.get("base") or {}).get("ref"),
                head_ref=(item.get("head") or {}).get("ref"),
            )
            found.append(FetchedPull(pull, item.get("body")))
        return found

    async def with_changed_files(self, pull: MergedPull) -> MergedPull:
        """`pull` with the paths it changed (GitHub lists up to 3000 per pull request)."""
        files: list[str] = []
        async for item in self.github.rest.paginate(
            self.github.rest.pulls.async_list_files,
            map_func=lambda r: r.json(),
            owner=self.repo.owner,
            repo=self.repo.name,
            pull_number=pull.number,
            per_page=PER_PAGE,
        ):
            files.append(str(item["filename"]))
        return replace(pull, changed_files=tuple(files))

    async def commit_authors(self, numbers: Sequence[int]) -> dict[int, tuple[CommitAuthor, ...]]:
        """The authors (co-authors included, as GitHub reads `Co-authored-by`) of each pull
        request's commits (its first 100), in one GraphQL request per 50 pulls."""
        found: dict[int, tuple[CommitAuthor, ...]] = {}
        for start in range(0, len(numbers), _AUTHORS_BATCH):
            batch = numbers[start : start + _AUTHORS_BATCH]
            fields = " ".join(
                f"pr{n}: pullRequest(number: {int(n)}) {{{_PULL_AUTHORS}}}" for n in batch
            )
            query = (
                "query($owner: String!, $name: String!) "
                f"{{ repository(owner: $owner, name: $name) {{ {fields} }} }}"
            )
            data = await self.github.async_graphql(
                query, {"owner": self.repo.owner, "name": self.repo.name}
            )
            repository = cast(dict[str, Any], data.get("repository") or {})
            for n in batch:
                commits = ((repository.get(f"pr{n}") or {}).get("commits") or {}).get("nodes") or ()
                found[n] = tuple(
                    CommitAuthor(
                        login=(person.get("user") or {}).get("login"), name=person.get("name")
                    )
                    for commit in commits
                    for person in ((commit.get("commit") or {}).get("authors") or {}).get("nodes")
                    or ()
                    if person
                )
        return found

    async def commits_between(self, base: str, head: str) -> list[CommitInfo]:
        """The commits after `base` up to `head`, oldest first (GitHub lists up to 250)."""
        response = await self.github.rest.repos.async_compare_commits(
            *self._where, f"{base}...{head}"
        )
        commits: list[CommitInfo] = []
        for item in response.json().get("commits") or ():
            author = item.get("author") or {}
            commits.append(
                CommitInfo(
                    sha=str(item["sha"]),
                    message=str((item.get("commit") or {}).get("message") or ""),
                    author=author.get("login"),
                )
            )
        return commits

    async def run_artifacts(self, run_id: int) -> list[RunArtifact]:
        found: list[RunArtifact] = []
        async for item in self.github.rest.paginate(
            self.github.rest.actions.async_list_workflow_run_artifacts,
            map_func=lambda r: r.json()["artifacts"],
            owner=self.repo.owner,
            repo=self.repo.name,
            run_id=run_id,
            per_page=PER_PAGE,
        ):
            found.append(RunArtifact(int(item["id"]), str(item["name"]), bool(item["expired"])))
        return found

    async def artifact_zip(self, artifact_id: int) -> bytes:
        # GitHub answers with a redirect to short-lived storage; githubkit follows it.
        response = await self.github.rest.actions.async_download_artifact(
            *self._where, artifact_id, "zip"
        )
        return response.content

    async def open_milestones(self) -> list[tuple[int, str]]:
        found: list[tuple[int, str]] = []
        async for item in self.github.rest.paginate(
            self.github.rest.issues.async_list_milestones,
            map_func=lambda r: r.json(),
            owner=self.repo.owner,
            repo=self.repo.name,
            state="open",
            per_page=PER_PAGE,
        ):
            found.append((int(item["number"]), str(item["title"])))
        return found

    async def comment_bodies(self, number: int) -> list[str]:
        found: list[str] = []
        async for item in self.github.rest.paginate(
            self.github.rest.issues.async_list_comments,
            map_func=lambda r: r.json(),
            owner=self.repo.owner,
            repo=self.repo.name,
            issue_number=number,
            per_page=PER_PAGE,
        ):
            found.append(str(item.get("body") or ""))
        return found

    # -- writes -------------------------------------------------------------------------

    async def create_release(self, fields: dict[str, Any]) -> dict[str, Any]:
        response = await self.github.rest.repos.async_create_release(
            *self._where, data=cast(Any, fields)
        )
        return _json(response)

    async def update_release(self, release_id: int, fields: dict[str, Any]) -> dict[str, Any]:
        response = await self.github.rest.repos.async_update_release(
            *self._where, release_id, data=cast(Any, fields)
        )
        return _json(response)

    async def dispatch(self, event_type: str, client_payload: dict[str, Any]) -> None:
        await self.github.rest.repos.async_create_dispatch_event(
            *self._where, event_type=event_type, client_payload=client_payload
        )

    async def replace_assets(self, release: ReleaseInfo, files: Sequence[AssetFile]) -> None:
        """Upload `files`; an asset of the same name is deleted first (GitHub refuses a
        second asset with one name, and a rebuilt file must win)."""
        existing = dict((name, asset_id) for asset_id, name in release.assets)
        for file in files:
            if file.name in existing:
                await self.github.rest.repos.async_delete_release_asset(
                    *self._where, existing.pop(file.name)
                )
            # The upload host differs from the API host: use the URL the release names.
            url = release.upload_url.split("{", 1)[0]
            await self.github.arequest(
                "POST",
                url,
                params={"name": file.name},
                content=file.data,
                headers={"Content-Type": file.content_type},
            )

    async def comment(self, number: int, body: str) -> None:
        await self.github.rest.issues.async_create_comment(*self._where, number, body=body)

    async def close_milestone(self, number: int) -> None:
        await self.github.rest.issues.async_update_milestone(*self._where, number, state="closed")
