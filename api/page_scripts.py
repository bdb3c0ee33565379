"""One script for a public page: its ES modules joined, so a phone fetches one file.

Over HTTP/1.1 a browser opens at most six connections to a host, so the consumer page's
thirteen modules came in three waves of round trips even when announced together; joined
they are one request. Each module keeps its own scope: its body runs in a function of its
own, in import order (dependencies first, as the browser would evaluate them), and what it
exports is handed to its importers by name. Only the forms our modules use are accepted:
``import { a, b as c } from "./x.js";`` and ``export`` before a ``function``, ``async
function``, ``const`` or ``class`` declaration. Anything else (``export {…}``, a default
export, a dynamic ``import()``, ``import.meta``, an import cycle) is refused with an error
naming the module, so a page never gets a script that behaves otherwise than its modules.
The modules themselves stay as they are (tests import them one by one); only their
whole-line ``//`` comments are left out of the joined script (a sixth of its gzipped bytes,
which a phone on a slow network waits for before anything runs).
"""

from __future__ import annotations

import re
from collections.abc import Callable

ENTRIES = frozenset({"consumer", "lot"})
"""The pages served as one script (``/static/js/bundle/{entry}.js``)."""

_IMPORT = re.compile(r'^import\s*\{([^}]*)\}\s*from\s*"\./([a-z0-9_]+\.js)";[ \t]*$', re.M)
_EXPORT = re.compile(
    r"^export\s+(async\s+function|function|const|class)\s+([A-Za-z_$][\w$]*)", re.M
)
_UNSUPPORTED = re.compile(r"^\s*(import|export)\b|\bimport\s*\(|\bimport\.meta\b", re.M)
_NAME = re.compile(r"^[A-Za-z_$][\w$]*$")


class ScriptJoinError(ValueError):
    """A module uses a form the joiner does not carry over."""


def joined_script(entry: str, read: Callable[[str], bytes]) -> bytes:
    """The page's modules, starting from ``js/{entry}.js``, as one module script;
    ``read(relative_path)`` gives a file's bytes under mobile_web/static."""
    if entry not in ENTRIES:
        raise ScriptJoinError(f"no page script {entry}")
    order: list[str] = []
    parts: dict[str, str] = {}
    visiting: list[str] = []

    def visit(name: str) -> None:
        if name in parts:
            return
        if name in visiting:
            raise ScriptJoinError(f"import cycle: {' -> '.join([*visiting, name])}")
        visiting.append(name)
        source = read(f"js/{name}").decode("utf-8")
        imports = _IMPORT.findall(source)
        for _, dependency in imports:
            visit(dependency)
        parts[name] = _wrapped(name, source)
        order.append(name)
        visiting.pop()

    visit(f"{entry}.js")
    head = f"// {entry}.js and the modules it imports, joined (api/page_scripts.py).\n"
    return (head + "".join(parts[name] for name in order)).encode("utf-8")


def _binding(module: str) -> str:
    return "$module_" + module.removesuffix(".js")


def without_comment_lines(source: str) -> str:
    """``source`` without its lines that hold only a ``//`` comment. Kept whole when a
    template literal may span lines (a line with an odd number of backticks) or a string
    goes on past a line's end (a line ending in a backslash): there such a line could be
    text."""
    lines = source.split("\n")
    if any(line.count("`") % 2 or line.rstrip().endswith("\\") for line in lines):
        return source
    return "\n".join(line for line in lines if not line.lstrip().startswith("//"))


def _wrapped(name: str, source: str) -> str:
    source = without_comment_lines(source)
    lines = []
    for names, dependency in _IMPORT.findall(source):
        pairs = []
        for item in names.split(","):
            words = item.split()
            if not words:
                continue
            if len(words) == 1 and _NAME.match(words[0]):
                pairs.append(words[0])
            elif len(words) == 3 and words[1] == "as" and all(map(_NAME.match, words[::2])):
                pairs.append(f"{words[0]}: {words[2]}")
            else:
                raise ScriptJoinError(f"{name}: cannot join the import of {item.strip()!r}")
        lines.append(f"const {{ {', '.join(pairs)} }} = {_binding(dependency)};")
    body = _IMPORT.sub("", source)
    exported = [m.group(2) for m in _EXPORT.finditer(body)]
    body = _EXPORT.sub(lambda m: f"{m.group(1)} {m.group(2)}", body)
    found = _UNSUPPORTED.search(body)
    if found:
        line = body[: found.start()].count("\n") + 1
        raise ScriptJoinError(f"{name}: cannot join {found.group(0).strip()!r} (line {line})")
    return (
        f"\n// ---- js/{name}\nconst {_binding(name)} = (() => {{\n"
        + "\n".join(lines)
        + body
        + f"\nreturn {{ {', '.join(exported)} }};\n}})();\n"
    )
