"""label-sync: declared labels, exclusive groups and status labels.

The skill and its handlers live in `handlers`; the decisions they make are the pure
modules `plan`, `swaps`, `triggers` and `commands`; `apply` does the requests.
"""

from ghapp.skills.label_sync.handlers import skill

__all__ = ["skill"]
