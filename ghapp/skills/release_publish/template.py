"""Template text as release-drafter renders it: `$VARIABLES`, title escapes, replacers.

- A variable is `$` followed by capitals and underscores, read greedily
  (`$NEXT_PATCH_VERSION_MAJOR` is one name); a name with no value stays as written.
- Text that came from a pull request (its title, body, author…) is inserted *protected*:
  its `$` is swapped for a private marker until the body is finished, so a title such as
  "use $RESOLVED_VERSION" is printed as typed instead of being expanded by a later pass.
  (release-drafter would expand it; nobody writes a title meaning that.)
- Title escapes follow release-drafter: nothing is escaped unless `change-title-escapes`
  lists it; `@` and `#` become `@<!---->`/`#<!---->` (no mention, no issue link); other
  characters get a backslash; a code span is left alone unless the backtick itself is
  listed.
- A replacer's `search` is plain text (every occurrence) or `/regex/flags` written as a
  JavaScript regular expression (`g` for every match, `i`, `m`, `s`); its `replace` may use
  `$&`, `$1`…`$99`, `$$`, `\\n`, `\\t` and the case changes `\\u \\U \\l \\L \\E`, as
  release-drafter (after VS Code's search) reads them. A search that is not a valid
  expression is skipped, as release-drafter skips it with a warning.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from ghapp.skills.release_publish.options import Replacer

_VARIABLE = re.compile(r"\$[A-Z_]+")
# Private-use character: stands for a `$` inside inserted text until `unprotect`.
_PROTECTED_DOLLAR = "\ue000"


def protect(text: str) -> str:
    """Text from outside (a title, a body) that later passes must not expand."""
    return text.replace("$", _PROTECTED_DOLLAR)


def unprotect(text: str) -> str:
    return text.replace(_PROTECTED_DOLLAR, "$")


def render(template: str, values: Mapping[str, str | None]) -> str:
    """Replace every `$NAME` that has a value (keys given with their `$`)."""

    def value(match: re.Match[str]) -> str:
        found = values.get(match.group(0))
        return match.group(0) if found is None else found

    return _VARIABLE.sub(value, template)


def escape_title(title: str, escapes: str) -> str:
    """A pull request's title for a change line: escaped only as `escapes` asks."""
    if escapes:
        pattern = "[" + "".join(re.escape(c) for c in dict.fromkeys(escapes)) + "]|`.*?`"
    else:
        pattern = "`.*?`"

    def escaped(match: re.Match[str]) -> str:
        text = match.group(0)
        if len(text) > 1:
            return text
        if text in "@#":
            return f"{text}<!---->"
        return f"\\{text}"

    return re.sub(pattern, escaped, title)


# -- replacers -----------------------------------------------------------------------------

_REGEX_LITERAL = re.compile(r"^/(.+)/([AJUXgimsux]*)$", re.DOTALL)
_NAMED_GROUP = re.compile(r"\(\?<(?=[A-Za-z_])")


def compile_search(search: str) -> tuple[re.Pattern[str], bool] | None:
    """(pattern, replace every match) for a replacer's `search`; None if unreadable."""
    literal = _REGEX_LITERAL.match(search)
    if literal is None:
        return re.compile(re.escape(search)), True
    body, flags = literal.groups()
    options = 0 if "u" in flags else re.ASCII
    if "i" in flags:
        options |= re.IGNORECASE
    if "m" in flags:
        options |= re.MULTILINE
    if "s" in flags:
        options |= re.DOTALL
    try:
        # JavaScript names a group `(?<name>…)`; Python wants `(?P<name>…)`.
        return re.compile(_NAMED_GROUP.sub("(?P<", body), options), "g" in flags
    except re.error:
        return None


def _group(match: re.Match[str], index: int) -> str | None:
    if index == 0:
        return match.group(0)
    if index <= (match.re.groups or 0):
        return match.group(index) or ""
    return None


def _apply_case(text: str, operations: Sequence[str]) -> str:
    out: list[str] = []
    pending = list(operations)
    for i, char in enumerate(text):
        if not pending:
            out.append(text[i:])
            break
        operation = pending[0]
        if operation in ("U", "u"):
            out.append(char.upper())
        elif operation in ("L", "l"):
            out.append(char.lower())
        elif operation == "E":
            out.append(text[i:])
            break
        else:
            out.append(char)
        if operation in ("u", "l"):
            pending.pop(0)
    return "".join(out)


def expand_replacement(replace: str, match: re.Match[str]) -> str:
    """A replacer's `replace` for one match."""
    out: list[str] = []
    case_ops: list[str] = []
    i = 0
    while i < len(replace):
        char = replace[i]
        nxt = replace[i + 1] if i + 1 < len(replace) else ""
        if char == "\\" and nxt:
            if nxt in "\\nt":
                out.append({"\\": "\\", "n": "\n", "t": "\t"}[nxt])
            elif nxt in "uUlLE":
                case_ops.append(nxt)
            else:
                out.append(char + nxt)
            i += 2
            continue
        if char == "$" and nxt:
            if nxt == "$":
                out.append("$")
                i += 2
                continue
            if nxt in "&0":
                out.append(_apply_case(match.group(0), case_ops))
                case_ops = []
                i += 2
                continue
            if nxt.isdigit():
                digits = replace[i + 1 : i + 3] if replace[i + 2 : i + 3].isdigit() else nxt
                text = _group(match, int(digits))
                if text is None and len(digits) == 2:
                    text = _group(match, int(digits[0]))
                    text = None if text is None else text + digits[1]
                out.append("$" + digits if text is None else _apply_case(text, case_ops))
                case_ops = []
                i += 1 + len(digits)
                continue
        out.append(char)
        i += 1
    return "".join(out)


def apply_replacers(text: str, replacers: Sequence[Replacer]) -> str:
    for replacer in replacers:
        compiled = compile_search(replacer.search)
        if compiled is None:
            continue
        pattern, every = compiled
        text = pattern.sub(
            lambda match, r=replacer: expand_replacement(r.replace, match),
            text,
            count=0 if every else 1,
        )
    return text
