"""release-publish: semantic-version releases with generated notes, drafts and artifacts.

- **Releasing**: `@slug release VERSION|major|minor|patch [--draft] [--prerelease]`, or
  pushing a tag that matches `tag-pattern` (by default `v*`, or the `tag-prefix`; once
  the repository has a `release-publish` section), creates the release with notes from
  the pull requests merged since the previous one; each pull request and issue it
  shipped is told so.
- **The next draft**: with `draft-next`, one draft for the next version (from the merged
  pull requests' labels) is kept current as pull requests merge.
- **The build step**: with `dispatch-event`, the release is drafted, the repository's
  own workflow builds it (`repository_dispatch`), and its artifacts are attached when
  the build succeeds; a build that fails or never reports back is said so on the draft.
  Only a run the dispatch itself started counts; at most `max-concurrent-builds` run at
  once per repository (more wait in order). See docs/releases.md.

Every operation that reads and changes the releases holds one lock per repository, and
within it the release list on GitHub is the truth; `ctx.once` keys on top only spare
GitHub the requests when the same trigger (tag push, merge, build completion,
announcement) arrives again.

Where it is written: `options` (release-drafter's file, read as it reads it); the pure
decisions `planner` (one release's tag, name, notes and flags, as release-drafter makes
them), `versions` with `npm_semver` and `npm_ranges` (which release is previous, the next
version), `categories`, `notes` and `template` (the notes), `releases` (which draft is
reused, the build marker, build slots), `run_trust` (which workflow run counts as a
build) and `artifacts`; `github_data` (the requests); `publishing` (creating a release),
`build_slots` (dispatching builds, their limit and deadlines), `command` (the command and
tag pushes), `drafts`, `builds` and `announcements` (the handlers).
"""

from __future__ import annotations

from datetime import timedelta

from ghapp import Skill
from ghapp.skills.release_publish import announcements, build_slots, builds, command, drafts
from ghapp.skills.release_publish.options import ReleaseOptions

__all__ = ["skill"]

skill = Skill(
    "release-publish",
    "Creates releases with notes from merged pull requests; keeps the next draft current.",
    permissions={
        "contents": "write",
        "pull_requests": "write",
        "issues": "write",
        "actions": "read",
    },
    options=ReleaseOptions,
)

skill.command(
    "release",
    usage=command.USAGE,
    description="Create the release for a version (or the next major/minor/patch) with notes "
    "from the pull requests merged since the previous release.",
    example="@ghapp release minor",
    permission="maintain",
)(command.release_command)
skill.on("push")(command.tag_pushed)
skill.on("pull_request.closed")(drafts.pull_merged)
skill.on("workflow_run.requested", "workflow_run.in_progress")(builds.build_started)
skill.on("workflow_run.completed")(builds.build_completed)
skill.task(build_slots.DEADLINE_TASK)(builds.build_deadline_passed)
skill.periodic("build-timeouts", every=timedelta(hours=1), per="repository")(builds.expire_builds)
skill.task("announce")(announcements.announce)
