"""label-sync: declared labels, exclusive scopes and status labels (PRODUCT.md §5.2).

The story, in the order the handlers are registered below:

- **Sync** makes a repository's labels match `label-sync.labels`: on installation (each
  repository whose `.github/ghapp.yml` has a `label-sync:` section), when a push to the
  default branch changes that file, on `@slug labels sync [--dry-run]`, and, with
  `strict: true`, when a person edits or deletes a declared label (the App's own edits
  arrive as events too and are ignored, so a restore never loops) and hourly
  (`scheduled`), for edits made while the App was not listening.
- **Swaps** keep one label per exclusive scope and set status labels on lifecycle
  events, each in one request computed from the issue's labels as GitHub has them now;
  a pull request's status follows CI too (a failing check suite or workflow run on its
  head commit sets `pr_checks_failed`, all checks passing sets it back).
- **Preview**: a pull request changing the file gets a check run with the plan.
- **Commands**: `label add|remove NAME…` and `labels sync [--dry-run]`.
- **Offered**: `plan-rows`, the planner for other skills (`preview`; onboarding uses it).

Where it is written: `options` (the section's model), the pure decisions `plan` (what a
sync changes), `swaps` (exclusive scopes, status labels), `triggers` (when to act, how a
preview reads), `issue_labels` (what `label add|remove` names and leaves) and
`ci_checks` (what a finished CI run says); `apply` does the requests, `status_labels`
sets status labels (and follows CI), and `handlers` the I/O around the decisions.
"""

from __future__ import annotations

from ghapp import Skill
from ghapp.skills.label_sync import handlers, preview, scheduled, status_labels
from ghapp.skills.label_sync.options import LabelSyncOptions

__all__ = ["skill"]

skill = Skill(
    "label-sync",
    "Keeps labels as declared in .github/ghapp.yml; exclusive scopes and status labels.",
    # checks: the plan preview, and reading a head commit's checks; actions: workflow runs.
    permissions={
        "issues": "write",
        "pull_requests": "write",
        "checks": "write",
        "actions": "read",
    },
    options=LabelSyncOptions,
)

# -- sync
skill.on("installation.created", "installation_repositories.added")(handlers.first_sync)
skill.on("push")(handlers.sync_on_config_change)
skill.on("label.edited", "label.deleted")(handlers.restore_hand_edits)
skill.periodic(scheduled.REPAIR, every=scheduled.EVERY, per="repository")(scheduled.repair_drift)

# -- swaps
skill.on("issues.labeled", "pull_request.labeled")(handlers.keep_scopes_exclusive)
skill.on(
    "issues.opened",
    "issues.assigned",
    "issues.closed",
    "pull_request.opened",
    "pull_request.ready_for_review",
    "pull_request.closed",
)(handlers.set_status_label)
skill.on("check_suite.completed", "workflow_run.completed")(status_labels.follow_checks)

# -- preview
skill.on("pull_request.opened", "pull_request.synchronize", "pull_request.reopened")(
    handlers.preview_plan
)

# -- commands
skill.command(
    "label",
    usage="label add|remove NAME…",
    description="Adds or removes existing labels on this issue or pull request",
    example='label add bug "good first issue"',
)(handlers.label_command)
skill.command(
    "labels",
    usage="labels sync [--dry-run]",
    description="Makes the labels match .github/ghapp.yml; --dry-run only shows the plan",
    example="labels sync --dry-run",
)(handlers.labels_command)

# -- offered to other skills (onboarding shows what merging its proposal would change)
skill.offer(preview.PLAN_ROWS)(preview.plan_rows)
