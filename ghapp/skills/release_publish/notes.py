"""Release notes from plain data, as release-drafter writes them: `$CHANGES`,
`$CONTRIBUTORS`, `$AUTHORS`, `$NEW_CONTRIBUTORS`, and the "released" comment.

Pure functions: the handler fetches the merged pull requests (with their labels, changed
files when a rule tests paths, and the authors of their commits) and hands them over as
`MergedPull`. What release-drafter does, and so what this does:

- pull requests are filtered by the `pre-include`/`pre-exclude` rules first, then sorted
  by merge time (or title), newest first unless `sort-direction: ascending`;
- changes no category claims come first, without a heading (or under the one catch-all
  category); a change matching two categories is listed in both unless one is
  `exclusive`; a category with more than `collapse-after` changes is folded;
- `$AUTHORS` of a change and `$CONTRIBUTORS` of the release name the pull request's
  author and the authors of its commits (co-authors included): pull request authors first,
  people before bots, then alphabetically; a bot is a link to its App;
- with nothing to list, `$CHANGES` is `no-changes-template`.

ghapp's own addition: a section that sets no `template` (ghapp's default notes) lists the
commit messages when no pull request was merged (`commits-when-no-pull-requests`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ghapp.skills.release_publish.categories import Rule, rule_matches
from ghapp.skills.release_publish.options import ReleaseOptions
from ghapp.skills.release_publish.template import escape_title, protect, render

BOT_SUFFIX = "[bot]"
GHOST = "ghost"


@dataclass(frozen=True, slots=True)
class CommitAuthor:
    """An author of a commit: a GitHub login when GitHub linked one, else the git name."""

    login: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class MergedPull:
    """A pull request merged since the previous release."""

    number: int
    title: str
    author: str | None  # None: the account was deleted (GitHub's "ghost")
    author_is_bot: bool
    labels: tuple[str, ...]
    merged_at: datetime | None
    url: str
    body: str | None = None
    author_url: str | None = None
    base_ref: str | None = None
    head_ref: str | None = None
    # None when not fetched (no rule tests paths); a rule testing paths then sees none.
    changed_files: tuple[str, ...] | None = None
    # The authors of the commits that belong to this pull request, in commit order.
    commit_authors: tuple[CommitAuthor, ...] = ()
    # Whether this is its author's first merged pull request in the repository.
    first_contribution: bool = False


@dataclass(frozen=True, slots=True)
class CommitInfo:
    """A commit from the compare API; `author` is None when no GitHub user is linked."""

    sha: str
    message: str
    author: str | None


@dataclass(slots=True)
class _Person:
    login: str | None
    name: str | None
    bot_url: str | None = None
    pull_author: bool = field(default=False)

    @property
    def is_bot(self) -> bool:
        return self.bot_url is not None or (self.login or "").endswith(BOT_SUFFIX)


def included(pulls: Iterable[MergedPull], rules: Sequence[Rule]) -> list[MergedPull]:
    """The pull requests the `pre-include` and `pre-exclude` rules let through."""
    includes = [r for r in rules if r.kind == "pre-include"]
    excludes = [r for r in rules if r.kind == "pre-exclude"]
    return [
        pull
        for pull in pulls
        if (not includes or any(rule_matches(r, pull) for r in includes))
        and not any(rule_matches(r, pull) for r in excludes)
    ]


def _utf16(text: str) -> bytes:
    # JavaScript compares strings by UTF-16 code unit; so does release-drafter's sort.
    return text.encode("utf-16-be", "surrogatepass")


def sort_pulls(pulls: Sequence[MergedPull], options: ReleaseOptions) -> list[MergedPull]:
    """Sorted by merge time (or title), stable; a missing merge time sorts as "newest"."""
    by_title = options.sort_by == "title"
    present = [p for p in pulls if (p.title if by_title else p.merged_at) is not None]
    missing = [p for p in pulls if (p.title if by_title else p.merged_at) is None]
    descending = options.sort_direction == "descending"
    present = sorted(
        present,
        key=lambda p: _utf16(p.title) if by_title else p.merged_at,  # type: ignore[arg-type,return-value]
        reverse=descending,
    )
    if descending:
        # `sorted(reverse=True)` keeps equal items in order, as JavaScript's sort does.
        return missing + present
    return present + missing


# -- people --------------------------------------------------------------------------------


def _people(pulls: Sequence[MergedPull]) -> list[_Person]:
    found: dict[str, _Person] = {}
    for pull in pulls:
        for author in pull.commit_authors:
            if author.login:
                found[f"login:{author.login}"] = _Person(author.login, None)
            elif author.name:
                found[f"name:{author.name}"] = _Person(None, author.name)
    for pull in pulls:
        if pull.author:
            login = pull.author
            if pull.author_is_bot and not login.endswith(BOT_SUFFIX):
                login += BOT_SUFFIX
            bot_url = (pull.author_url or "") if pull.author_is_bot else None
            found[f"login:{login}"] = _Person(login, None, bot_url, pull_author=True)
    return list(found.values())


def _collation_key(text: str) -> tuple[str, str]:
    # Close to ICU's order (JavaScript's localeCompare): case-blind, lower case first.
    return text.casefold(), text.swapcase()


def _sorted_people(people: Iterable[_Person]) -> list[_Person]:
    return sorted(
        people,
        key=lambda p: (not p.pull_author, p.is_bot, _collation_key(p.login or p.name or "")),
    )


def _mention(person: _Person, server_url: str) -> str:
    if person.login is None:
        return person.name or ""
    if person.login.endswith(BOT_SUFFIX):
        app = person.login.removesuffix(BOT_SUFFIX)
        url = person.bot_url or f"{server_url.rstrip('/')}/apps/{app}"
        return f"[@{person.login}]({url})"
    return f"@{person.login}"


def authors_sentence(pull: MergedPull, options: ReleaseOptions, server_url: str) -> str:
    """`$AUTHORS` of one change: each author through `change-author-template`."""
    template = options.change_author_template
    people = _sorted_people(_people([pull]))
    if not people:
        return render(template, {"$AUTHOR": GHOST, "$AUTHOR_MENTION": f"@{GHOST}"})
    rendered = [
        render(
            template,
            {
                "$AUTHOR": protect(p.login or p.name or ""),
                "$AUTHOR_MENTION": protect(_mention(p, server_url)),
            },
        )
        for p in people
    ]
    final = options.change_authors_final_separator
    if final is not None and len(rendered) > 1:
        return options.change_authors_separator.join(rendered[:-1]) + final + rendered[-1]
    return options.change_authors_separator.join(rendered)


def contributors_sentence(
    pulls: Sequence[MergedPull],
    options: ReleaseOptions,
    server_url: str,
    commits: Sequence[CommitInfo] = (),
) -> str:
    """`$CONTRIBUTORS`: everyone behind the included changes, `@a, @b and @c`; with
    `commits` (listed because no pull request was merged), their authors."""
    excluded = set(options.exclude_contributors)
    found = _people(pulls)
    known = {p.login for p in found}
    for commit in commits:
        if commit.author and commit.author not in known:
            known.add(commit.author)
            found.append(_Person(commit.author, None))
    people = [
        p
        for p in found
        if p.login is None
        or not (
            p.login in excluded
            or (options.exclude_bots and p.is_bot)
            or any(p.login == f"{x}{BOT_SUFFIX}" for x in excluded)
        )
    ]
    mentions = [protect(_mention(p, server_url)) for p in _sorted_people(people)]
    if not mentions:
        return options.no_contributors_template
    if len(mentions) == 1:
        return mentions[0]
    return ", ".join(mentions[:-1]) + " and " + mentions[-1]


def new_contributors(pulls: Sequence[MergedPull], options: ReleaseOptions) -> str:
    """`$NEW_CONTRIBUTORS`: each first-time author with their first pull request."""
    first: dict[str, MergedPull] = {}
    for pull in pulls:
        login = pull.author
        if login is None or not pull.first_contribution or login in options.exclude_contributors:
            continue
        earlier = first.get(login)
        if earlier is None or _iso(pull) < _iso(earlier):
            first[login] = pull
    entries = sorted(first.items(), key=lambda item: (_iso(item[1]), item[1].number))
    if not entries:
        return options.no_new_contributor_template
    return "\n".join(
        render(
            options.new_contributor_template,
            {
                "$AUTHOR": protect(login),
                "$AUTHOR_MENTION": protect(f"@{login}"),
                "$AUTHOR_URL": protect(pull.author_url or ""),
                "$NUMBER": str(pull.number),
                "$URL": protect(pull.url),
            },
        )
        for login, pull in entries
    )


def _iso(pull: MergedPull) -> str:
    return pull.merged_at.isoformat() if pull.merged_at else ""


# -- changes -------------------------------------------------------------------------------


def change_line(
    pull: MergedPull, options: ReleaseOptions, server_url: str, category: str = ""
) -> str:
    author = GHOST
    if pull.author:
        author = (
            f"[{pull.author}{BOT_SUFFIX}]({pull.author_url})" if pull.author_is_bot else pull.author
        )
    values = {
        "$CATEGORY": category,
        "$TITLE": escape_title(pull.title, options.change_title_escapes),
        "$NUMBER": str(pull.number),
        "$AUTHORS": authors_sentence(pull, options, server_url),
        "$AUTHOR": author,
        "$AUTHOR_URL": pull.author_url or "",
        "$BODY": pull.body,
        "$URL": pull.url,
        "$BASE_REF_NAME": pull.base_ref,
        "$HEAD_REF_NAME": pull.head_ref,
    }
    protected = {k: None if v is None else protect(v) for k, v in values.items()}
    # The category's title is the file's own text, expanded later as release-drafter does.
    return render(options.change_template, {**protected, "$CATEGORY": category})


def _commit_line(commit: CommitInfo, options: ReleaseOptions) -> str:
    lines = commit.message.strip().splitlines()
    subject = protect(escape_title(lines[0] if lines else "", options.change_title_escapes))
    line = f"* {subject} ({commit.sha[:7]})"
    return f"{line} @{protect(commit.author)}" if commit.author else line


def render_changes(
    pulls: Sequence[MergedPull],
    options: ReleaseOptions,
    server_url: str,
    commits_if_no_pulls: Sequence[CommitInfo] = (),
) -> str:
    """`$CHANGES` for pull requests already filtered (`included`) and sorted."""
    rules = options.rules
    changelog = [r for r in rules if r.kind == "changelog"]
    catch_all = next((i for i, r in enumerate(changelog) if r.catch_all), None)
    members: list[list[MergedPull]] = [[] for _ in changelog]
    uncategorised: list[MergedPull] = []
    for pull in pulls:
        matched = False
        for index, rule in enumerate(changelog):
            if rule.catch_all or not rule_matches(rule, pull):
                continue
            members[index].append(pull)
            matched = True
            if rule.exclusive:
                break
        if not matched:
            (members[catch_all] if catch_all is not None else uncategorised).append(pull)
    if not uncategorised and not any(members):
        if commits_if_no_pulls and options.lists_commits:
            return "\n".join(_commit_line(c, options) for c in commits_if_no_pulls)
        return options.no_changes_template
    blocks: list[str] = []
    if uncategorised:
        blocks.append("\n".join(change_line(p, options, server_url) for p in uncategorised))
    for rule, listed in zip(changelog, members, strict=True):
        if not listed:
            continue
        heading = render(options.category_template, {"$TITLE": rule.title or ""})
        lines = "\n".join(change_line(p, options, server_url, rule.title or "") for p in listed)
        if rule.collapse_after != -1 and len(listed) > rule.collapse_after:
            noun = "change" if len(listed) == 1 else "changes"
            lines = f"<details>\n<summary>{len(listed)} {noun}</summary>\n\n{lines}\n</details>"
        blocks.append(f"{heading}\n\n{lines}" if heading else lines)
    return "\n\n".join(blocks).strip()


def render_released_comment(options: ReleaseOptions, *, version: str, tag: str, url: str) -> str:
    """The comment left on a pull request or issue once its release is published."""
    values = {"$TAG": tag, "$URL": url, "$RESOLVED_VERSION": version, "$VERSION": version}
    return render(options.released_comment_template, values)
