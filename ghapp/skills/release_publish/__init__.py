"""release-publish: semantic-version releases with generated notes, drafts and artifacts.

The pure core (options, versions, notes, releases, artifacts) decides; `handlers` holds
the skill and does the I/O around it.
"""

from ghapp.skills.release_publish.handlers import skill

__all__ = ["skill"]
