"""ghapp: a GitHub App in Python. Skill authors import what they need from here:

from ghapp import Skill, Context
"""

from ghapp.context import AvailableCommand, Context, RepoRef
from ghapp.skill import Command, NoOptions, Skill, role_allows

__all__ = ["AvailableCommand", "Command", "Context", "NoOptions", "RepoRef", "Skill", "role_allows"]
__version__ = "0.1.0"
