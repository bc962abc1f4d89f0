"""`.github/ghapp.yml` over the fake GitHub: reads cached per repository (a missing file
too), revalidated with If-None-Match only after a few minutes, dropped by the push that
changes them; parsed once per ETag; a file over 1 MB reported, not read as empty.
Issue 17's "two requests per help mention" is measured at the end, end to end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from githubkit import GitHub
from githubkit.cache import MemCacheStrategy

from ghapp.bus import load_skills
from ghapp.github import GitHubClients
from ghapp.repo_config import MemoryConfigCache, RepoConfigError, RepoConfigLoader
from ghapp.repo_config import loader as loader_module
from ghapp.testing import PrefixedApp, SkillTestApp, outcomes, test_key_pair
from tests.services import RedisSpace, redis_space_fixture, redis_url_fixture  # noqa: F401
from tests.support.fake_github import FakeGitHub
from tests.support.payloads import issue_comment_created, push_event

REPO = "octo-org/hello"
FILE = ".github/ghapp.yml"
CONTENTS = r"/repos/octo-org/[^/]+/contents/"
MAIN = "refs/heads/master"  # the default branch of the push payloads (webhook examples)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def installation(fake: FakeGitHub) -> GitHub[Any]:
    private, _ = test_key_pair()
    clients = GitHubClients(
        app_id=1,
        private_key=private,
        api_url="https://api.github.com",
        cache_strategy=MemCacheStrategy(),
        inner_transport=httpx.ASGITransport(app=PrefixedApp(fake.app)),  # type: ignore[arg-type]
    )
    return await clients.installation(1)


def reads(fake: FakeGitHub) -> list[tuple[str, int, bool]]:
    """Config reads so far: (repository/path, status, conditional)."""
    found = []
    for r in fake.requests_to("GET", CONTENTS):
        repo, _, path = r.path.removeprefix("/repos/").partition("/contents/")
        found.append((f"{repo}:{path}", r.status, "if-none-match" in r.headers))
    return found


async def test_a_read_is_reused_for_minutes_then_revalidated_with_an_etag(
    fake_github: FakeGitHub,
) -> None:
    fake_github.set_file(REPO, FILE, "hello:\n  greeting: Hi\n")
    gh, clock = await installation(fake_github), Clock()
    loader = RepoConfigLoader(clock=clock)
    first = await loader.load(gh, "octo-org", "hello")
    clock.now += loader.fresh_for - 1
    again = await loader.load(gh, "octo-org", "hello")
    assert first.sections == again.sections == {"hello": {"greeting": "Hi"}}
    assert reads(fake_github) == [(f"{REPO}:{FILE}", 200, False)]  # nothing asked again
    clock.now += 2
    await loader.load(gh, "octo-org", "hello")
    assert reads(fake_github)[1:] == [(f"{REPO}:{FILE}", 304, True)]
    assert loader.conditional_hits == 1


async def test_a_missing_file_and_the_org_fallback_are_cached_too(
    fake_github: FakeGitHub,
) -> None:
    gh, clock = await installation(fake_github), Clock()
    loader = RepoConfigLoader(clock=clock)
    for _ in range(3):
        config = await loader.load(gh, "octo-org", "hello")
        assert not config.found and config.sections == {}
    # The repository's file, then the owner's `.github` one: both 404, once.
    assert reads(fake_github) == [
        (f"{REPO}:{FILE}", 404, False),
        (f"octo-org/.github:{FILE}", 404, False),
    ]
    clock.now += loader.fresh_for + 1
    await loader.load(gh, "octo-org", "hello")
    assert len(reads(fake_github)) == 4


async def test_the_owners_github_repository_stands_in_for_a_missing_file(
    fake_github: FakeGitHub,
) -> None:
    fake_github.add_repo("octo-org/.github", installation_id=1)
    fake_github.set_file("octo-org/.github", FILE, "hello:\n  greeting: Org-wide\n")
    config = await RepoConfigLoader().load(await installation(fake_github), "octo-org", "hello")
    assert config.sections == {"hello": {"greeting": "Org-wide"}}
    assert config.own is None and config.sources == [f"octo-org/.github:{FILE}"]


async def test_a_push_that_changes_the_file_drops_it_and_others_do_not(
    fake_github: FakeGitHub,
) -> None:
    fake_github.set_file(REPO, FILE, "hello:\n  greeting: Hi\n")
    gh, clock = await installation(fake_github), Clock()
    loader = RepoConfigLoader(clock=clock)
    await loader.load(gh, "octo-org", "hello")
    await loader.saw_push("octo-org", "hello", push_event(MAIN, files_changed=["README.md"]))
    topic = push_event("refs/heads/topic", files_changed=[FILE])
    await loader.saw_push("octo-org", "hello", topic)
    await loader.load(gh, "octo-org", "hello")
    assert len(reads(fake_github)) == 1  # neither push changed the default branch's file
    fake_github.set_file(REPO, FILE, "hello:\n  greeting: Changed\n")
    await loader.saw_push("octo-org", "hello", push_event(MAIN, files_changed=[FILE]))
    config = await loader.load(gh, "octo-org", "hello")
    assert config.sections == {"hello": {"greeting": "Changed"}}  # at once, not in minutes
    assert reads(fake_github)[1:] == [(f"{REPO}:{FILE}", 200, False)]  # dropped, asked anew


async def test_a_push_to_an_extends_base_or_the_org_file_drops_it(
    fake_github: FakeGitHub,
) -> None:
    fake_github.add_repo("octo-org/base", installation_id=1)
    fake_github.set_file(REPO, FILE, "_extends: base:shared/ghapp.yml\nhello:\n  greeting: Hi\n")
    fake_github.set_file("octo-org/base", "shared/ghapp.yml", "hello:\n  farewell: Bye\n")
    gh, clock = await installation(fake_github), Clock()
    loader = RepoConfigLoader(clock=clock)
    await loader.load(gh, "octo-org", "hello")
    fake_github.set_file("octo-org/base", "shared/ghapp.yml", "hello:\n  farewell: Ciao\n")
    pushed = push_event(MAIN, repo="octo-org/base", files_changed=["shared/ghapp.yml"])
    await loader.saw_push("octo-org", "base", pushed)
    config = await loader.load(gh, "octo-org", "hello")
    assert config.sections == {"hello": {"greeting": "Hi", "farewell": "Ciao"}}
    # The repository's own file was still fresh; only the base was asked again.
    base = "octo-org/base:shared/ghapp.yml"
    assert [r[0] for r in reads(fake_github)] == [f"{REPO}:{FILE}", base, base]


class PushMeanwhile(MemoryConfigCache):
    """A push is seen while a read is on its way: between `get` and `set`."""

    def __init__(self) -> None:
        super().__init__()
        self.pushes = 1

    async def set(self, repo: str, name: str, entry: str, generation: str) -> None:
        if self.pushes:
            self.pushes -= 1
            await self.forget(repo, [name])
        await super().set(repo, name, entry, generation)


async def test_an_answer_fetched_before_a_push_is_not_kept_after_it(
    fake_github: FakeGitHub,
) -> None:
    fake_github.set_file(REPO, FILE, "hello:\n  greeting: Hi\n")
    gh, clock = await installation(fake_github), Clock()
    loader = RepoConfigLoader(cache=PushMeanwhile(), clock=clock)
    await loader.load(gh, "octo-org", "hello")
    await loader.load(gh, "octo-org", "hello")  # the first answer was not kept: asked again
    await loader.load(gh, "octo-org", "hello")  # this one was
    assert [r[1:] for r in reads(fake_github)] == [(200, False), (200, False)]


async def test_a_push_that_does_not_list_its_changes_drops_the_whole_repository(
    fake_github: FakeGitHub,
) -> None:
    fake_github.set_file(REPO, FILE, "hello: {}\n")
    gh, clock = await installation(fake_github), Clock()
    loader = RepoConfigLoader(clock=clock)
    await loader.load(gh, "octo-org", "hello")
    forced = push_event(MAIN, files_changed=["README.md"]) | {"forced": True}
    await loader.saw_push("octo-org", "hello", forced)
    await loader.load(gh, "octo-org", "hello")
    assert len(reads(fake_github)) == 2


async def test_a_file_is_parsed_once_per_etag(
    fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[str] = []
    real = loader_module.parse_config_text

    def counting(text: str, source: str) -> dict[str, Any]:
        parsed.append(source)
        return real(text, source)

    monkeypatch.setattr(loader_module, "parse_config_text", counting)
    fake_github.set_file(REPO, FILE, "hello:\n  greeting: Hi\n")
    gh, clock = await installation(fake_github), Clock()
    loader = RepoConfigLoader(clock=clock)
    for _ in range(3):
        clock.now += loader.fresh_for + 1  # revalidated each time: 304, same ETag
        config = await loader.load(gh, "octo-org", "hello")
        assert config.sections == {"hello": {"greeting": "Hi"}}
    assert loader.conditional_hits == 2 and len(parsed) == 1
    fake_github.set_file(REPO, FILE, "hello:\n  greeting: Hey\n")
    clock.now += loader.fresh_for + 1
    assert (await loader.load(gh, "octo-org", "hello")).sections == {"hello": {"greeting": "Hey"}}
    assert len(parsed) == 2


async def test_a_file_over_one_megabyte_is_reported_not_read_as_empty(
    fake_github: FakeGitHub,
) -> None:
    fake_github.set_file(REPO, FILE, "hello:\n  greeting: Hi\n" + "#" * (1024 * 1024))
    too_large = r"octo-org/hello:\.github/ghapp\.yml is larger than 1 MB"
    with pytest.raises(RepoConfigError, match=too_large):
        await RepoConfigLoader().load(await installation(fake_github), "octo-org", "hello")


async def test_workers_share_the_cache_and_a_push_seen_by_one_reaches_all(
    fake_github: FakeGitHub, redis_space: RedisSpace
) -> None:
    from redis.asyncio import Redis

    from ghapp.scaleout import RedisConfigCache

    redis = Redis.from_url(redis_space.url)
    try:
        fake_github.set_file(REPO, FILE, "hello:\n  greeting: Hi\n")
        gh, clock = await installation(fake_github), Clock()
        one, two = (
            RepoConfigLoader(cache=RedisConfigCache(redis, redis_space.namespace), clock=clock)
            for _ in range(2)
        )
        await one.load(gh, "octo-org", "hello")
        assert (await two.load(gh, "octo-org", "hello")).sections == {"hello": {"greeting": "Hi"}}
        assert len(reads(fake_github)) == 1  # the second worker asked nothing
        fake_github.set_file(REPO, FILE, "hello:\n  greeting: Changed\n")
        await two.saw_push("octo-org", "hello", push_event(MAIN, files_changed=[FILE]))
        config = await one.load(gh, "octo-org", "hello")
        assert config.sections == {"hello": {"greeting": "Changed"}}
        clock.now += one.fresh_for + 1
        await two.load(gh, "octo-org", "hello")
        assert [r[1:] for r in reads(fake_github)] == [(200, False), (200, False), (304, True)]
    finally:
        await redis.aclose()


# ------------------------------------------------------------ two requests per help mention


async def test_help_mentions_cost_two_requests_each_in_the_steady_state(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    """Issue 17: after the first mention, each `@slug help` is the eyes reaction and the
    reply, nothing else — the config file (missing here, as is the org fallback) is not
    asked again within the freshness window."""
    skills = load_skills()
    chosen = [skills["mention-reply"], skills["hello"]]
    async with SkillTestApp(tmp_path, github_app=fake_github.app, skills=chosen) as app:
        per_mention = []
        for n in range(6):
            issue = fake_github.add_issue(REPO, f"Question {n}")
            comment = fake_github.add_comment(REPO, issue.number, "@ghapp-test help", user="mona")
            payload = issue_comment_created(
                "@ghapp-test help", login="mona", issue_number=issue.number, comment_id=comment
            )
            before = len(fake_github.requests)
            delivery = await app.dispatch("issue_comment", payload, delivery_id=f"help-{n}")
            assert outcomes(delivery)["mention-reply"] == "ok"
            per_mention.append([(r.method, r.path) for r in fake_github.requests[before:]])
    steady = per_mention[1:]
    assert all(
        requests
        == [
            ("POST", f"/repos/{REPO}/issues/comments/{comment_id}/reactions"),
            ("POST", f"/repos/{REPO}/issues/{number}/comments"),
        ]
        for requests, (comment_id, number) in zip(steady, ids(steady), strict=True)
    ), steady


def ids(steady: list[list[tuple[str, str]]]) -> list[tuple[str, str]]:
    """The comment id and issue number each steady-state mention's requests name."""
    found = []
    for requests in steady:
        reaction = next((p for m, p in requests if p.endswith("/reactions")), "")
        reply = next((p for m, p in requests if p.endswith("/comments")), "")
        found.append((reaction.split("/")[-2], reply.split("/")[-2]))
    return found
