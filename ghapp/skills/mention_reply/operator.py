"""What the operator configured for free-text mentions (PRODUCT.md §2), as the runtime
hands it to this skill (`Skill(operator_settings=...)`, `ctx.operator_settings`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr


class ResponderSettings(BaseModel):
    """RESPONDER and the built-in agent's API; the names are `Settings`' own."""

    model_config = ConfigDict(frozen=True)

    responder: str = "none"
    openai_base_url: str | None = None  # None: OpenAI's own API
    openai_api_key: SecretStr | None = None
    agent_model: str | None = None
    agent_timeout: float = 60.0
    responder_allowed_hosts: tuple[str, ...] = ()
    responder_secret: SecretStr | None = None


def responder_settings(found: Any) -> ResponderSettings:
    """The settings the runtime lent, or the defaults (no agent, no URL responders)."""
    return found if isinstance(found, ResponderSettings) else ResponderSettings()
