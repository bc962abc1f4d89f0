"""mention-reply: `@slug` chat-ops — commands from every enabled skill, free text to a responder.

Someone writes `@slug label add bug` (or `@slug help`, or `@slug can you summarise
this?`) in an issue, a pull request, a review thread or a discussion. The App looks at
`👀` at once, then answers once, in the same thread: each command line runs in order
(each with its own permission check) and the answers make one comment; free text goes to
the configured responder, or gets the help when there is none.

Bots, the App included, never trigger it, and only new comments do (edits never re-run
commands). The reply is owed to the comment, not to the delivery: a redelivery, or the
same comment under a new delivery id, finds the effect done; a retry after a crash
looks for the reply's invisible marker before posting again.

Where it is written: `options` (what a repository may tune), `plan` (what triggered it,
what to answer, how the reply reads; pure), `commands` (permissions, running, help),
`responders` and `thread` (the free-text answer; `url_guard`: where a URL responder may
point), `agent/` (the built-in AI agent, [docs/agent.md](../../../docs/agent.md)),
`operator` (RESPONDER and the agent's API, from the operator's settings), `handlers`
(the I/O around them).
"""

from __future__ import annotations

from ghapp import Skill
from ghapp.skills.mention_reply import agent
from ghapp.skills.mention_reply.handlers import answer_mention
from ghapp.skills.mention_reply.operator import ResponderSettings
from ghapp.skills.mention_reply.options import MentionReplyOptions

__all__ = ["skill"]

skill = Skill(
    "mention-reply",
    "Answers @mentions: runs commands from enabled skills, or hands free text to a responder.",
    permissions={"issues": "write", "pull_requests": "write", "discussions": "write"},
    options=MentionReplyOptions,
    operator_settings=ResponderSettings,
)
skill.feature(
    agent.FEATURE,
    "Answer free text with the built-in AI agent, when the operator or the repository "
    "chose it (RESPONDER=agent, or `responder: agent`).",
)
skill.counter(agent.AGENT_CALLS, "Calls to the agent's model API.", labels=("outcome",))
skill.counter(agent.AGENT_TOKENS, "Tokens the model API reported used.", labels=("kind",))
skill.counter(agent.AGENT_FAILURES, "Mentions the agent apologised for.", labels=("reason",))

skill.on(
    "issue_comment.created",
    "issues.opened",
    "pull_request.opened",
    "pull_request_review_comment.created",
    "discussion_comment.created",
)(answer_mention)
