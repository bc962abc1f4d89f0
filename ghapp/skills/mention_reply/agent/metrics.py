"""The agent's counters, by name (registered by the skill, counted by `conversation`)."""

AGENT_CALLS = "agent_calls"
AGENT_TOKENS = "agent_tokens"
AGENT_FAILURES = "agent_failures"
