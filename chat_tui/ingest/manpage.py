"""Render roff man pages to text whose sections are Markdown headings ("ls(1) > 选项").

Man pages (``*.1`` .. ``*.9``, ``*.man``, also inside ``.gz``) are rendered with groff
when it is installed and a small pure-Python reader of the common macros otherwise, so
a search hit names the section it came from. groff runs in safer mode (``-S``; never
``-U``) with an empty environment but ``PATH``/``LANG``, stdin from the data, a timeout
and an output cap. Safer mode still lets ``.so``/``.cf``/``.nx``/``.mso`` read files, so
a source that uses any file-reading request, changes the control or escape characters,
renames requests or builds a request name from an escape is never given to groff: the
fallback (which executes and reads nothing) renders it instead.

Line ranges: with groff they are lines of the rendered text (what ``man -l`` shows);
with the fallback, lines of the roff source (one output line per source line).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading

GROFF_TIMEOUT_S = 10.0
#: Rendered output larger than this many times the source (plus 1 MB) is cut off.
OUTPUT_FACTOR = 8

_MAN_SUFFIX = re.compile(r"\.(?:[1-9][a-z0-9]{0,6}|man)$", re.IGNORECASE)
#: man (``.TH``/``.SH``) and mdoc (``.Dd``/``.Dt``/``.Sh``, as OpenSSH's pages) requests;
#: groff's ``-man`` renders both (it switches to mdoc by itself).
_ROFF_HINT = re.compile(r"^[.'][ \t]*(?:TH|SH|Dd|Dt|Sh)\b", re.MULTILINE)
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f\x9b]")
# Requests that read files or run programs, redefine syntax, or rename requests. A
# line that only ends a conditional block (``.\}``, as grep's page has) names none.
_UNSAFE_REQUEST = re.compile(
    r"^[.'][ \t]*(?:so|mso|cf|trf|nx|rd|pso|sy|pi|open|opena|hpf|hpfa|cc|c2|ec|eo|rn|als"
    r"|ecs|ecr|do|\\(?!\"|\}[ \t]*$))",
    re.MULTILINE,
)


def is_man_name(name: str) -> bool:
    """Whether a file name looks like a man page (``ls.1``, ``printf.3p``, ``x.man``)."""
    return bool(_MAN_SUFFIX.search(name))


def looks_like_roff(text: str) -> bool:
    """Whether the text has ``.TH`` or ``.SH`` requests near its start."""
    return bool(_ROFF_HINT.search(text[:65536]))


def title_of(name: str) -> str:
    """``ls.1`` -> ``ls(1)``; ``x.man`` -> ``x``."""
    match = _MAN_SUFFIX.search(name)
    if not match:
        return name
    stem, suffix = name[: match.start()], match.group(0)[1:]
    return stem if suffix.lower() == "man" else f"{stem}({suffix})"


def render_man(source: str, name: str) -> str:
    """The page as Markdown-headed text: ``# ls(1)``, ``## NAME``, body indented."""
    rendered = None
    if shutil.which("groff") and not _UNSAFE_REQUEST.search(source):
        rendered = render_groff(source)
    text = _headings_from_groff(rendered, name) if rendered else render_fallback(source, name)
    return _CONTROLS.sub("", text)


#: The longest page summary kept (the NAME section of a page is one line or a few).
SUMMARY_MAX_CHARS = 300
_NAME_HEADING = re.compile(r"^##[ \t]+(?:NAME\b|名称|名字|名稱)", re.IGNORECASE)


def summary_of(rendered: str) -> str:
    """The NAME section of a page rendered by ``render_man`` on one line, or "".

    ``kill - 终止进程``: what the page is about, in the words of its NAME line, which
    its option lists and examples seldom repeat (chunks carry it for BM25).
    """
    lines = rendered.split("\n")
    for number, line in enumerate(lines):
        if _NAME_HEADING.match(line):
            body: list[str] = []
            for following in lines[number + 1 :]:
                if following.startswith("#"):
                    break
                body.append(following.strip())
            return " ".join(" ".join(body).split())[:SUMMARY_MAX_CHARS]
    return ""


def render_groff(source: str) -> str | None:
    """groff's plain-text rendering, or None when groff fails, times out or floods."""
    groff = shutil.which("groff")
    if groff is None:
        return None
    data = source.encode("utf-8")
    cap = len(data) * OUTPUT_FACTOR + 1024 * 1024
    env = {"PATH": os.defpath, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    command = [groff, "-S", "-k", "-Kutf-8", "-dAD=l", "-man", "-Tutf8", "-P-c", "-P-b", "-P-u"]
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd="/",
        )
    except OSError:
        return None
    timer = threading.Timer(GROFF_TIMEOUT_S, process.kill)
    timer.start()

    def feed() -> None:
        assert process.stdin is not None
        try:
            process.stdin.write(data)
            process.stdin.close()
        except OSError:
            pass

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    out = bytearray()
    assert process.stdout is not None
    try:
        while chunk := process.stdout.read(65536):
            out += chunk
            if len(out) > cap:
                process.kill()
                return None
    finally:
        timer.cancel()
        process.stdout.close()
        writer.join(timeout=GROFF_TIMEOUT_S)
        code = process.wait()
    if code != 0 or not out.strip():
        return None
    return out.decode("utf-8", "replace")


def _headings_from_groff(rendered: str, name: str) -> str:
    """Column-0 lines become ``##`` headings, 3-space ones ``###``; header/footer go."""
    lines = rendered.split("\n")
    filled = [n for n, line in enumerate(lines) if line.strip()]
    first, last = (filled[0], filled[-1]) if filled else (0, 0)
    out: list[str] = []
    for number, line in enumerate(lines):
        if number == first:
            out.append(f"# {title_of(name)}")
        elif number == last and len(filled) > 1:
            out.append("")
        elif line.strip() and not line[0].isspace():
            out.append(f"## {line.strip()}")
        elif line.startswith("   ") and not line.startswith("    ") and line.strip():
            out.append(f"### {line.strip()}")
        else:
            out.append(line.rstrip())
    return "\n".join(out)


# ----------------------------------------------------------------------------- fallback

_NAMED = {
    "em": "—",
    "en": "–",
    "lq": "“",
    "rq": "”",
    "oq": "‘",
    "cq": "’",
    "aq": "'",
    "dq": '"',
    "bu": "•",
    "co": "©",
    "rg": "®",
    "tm": "™",
    "mi": "-",
    "hy": "-",
    "ti": "~",
    "ha": "^",
    "at": "@",
    "sh": "#",
    "rs": "\\",
    "sl": "/",
    "ga": "`",
    "aa": "´",
    "de": "°",
    "<=": "≤",
    ">=": "≥",
    "!=": "≠",
    "->": "→",
    "<-": "←",
    "mu": "×",
    "di": "÷",
    "+-": "±",
}
_ESCAPE = re.compile(
    r"\\(?:f(?:\[[^\]]*\]|\(..|.)|s[+-]?(?:\d+|\[[^\]]*\]|\(..)"
    r"|\*(?:\[[^\]]*\]|\(..|.)|n[+-]?(?:\[[^\]]*\]|\(..|.)|\((?P<two>..)|\[(?P<long>[^\]]*)\]"
    r"|[XVYZwbhlLvxoDNRkM]'[^']*'|[XVYZwbhlLvxoDNRkMgmF](?:\[[^\]]*\]|\(..|.)"
    r"|(?P<one>.)|$)"
)
_SIMPLE = {
    "-": "-",
    "e": "\\",
    "\\": "\\",
    " ": " ",
    "~": " ",
    "0": " ",
    "t": "\t",
    "'": "´",
    "`": "`",
    ".": ".",
    '"': "",
}
_FONT_MACROS = {"B", "I", "SM", "SB"}
_ALTERNATING = {"BR", "RB", "BI", "IB", "IR", "RI"}
#: mdoc macros whose arguments are the page's words (``.Nm ssh``, ``.Nd remote login``).
_MDOC_TEXT = {
    "Nm",
    "Nd",
    "Fl",
    "Ar",
    "Op",
    "Xr",
    "Pa",
    "Cm",
    "Ic",
    "Em",
    "Sy",
    "Dl",
    "It",
    "Va",
    "Ev",
    "Li",
    "Ql",
    "Dq",
    "Sq",
    "Pq",
    "Fn",
    "Fa",
    "Ft",
    "Cd",
    "Dv",
    "Er",
    "Ms",
    "Tn",
}


def _unescape(text: str) -> str:
    comment = text.find('\\"')
    while comment >= 0 and text[:comment].endswith("\\") and not text[:comment].endswith("\\\\"):
        comment = text.find('\\"', comment + 2)
    if comment >= 0:
        text = text[:comment]

    def replace(match: re.Match[str]) -> str:
        if match.group("two") is not None:
            return _NAMED.get(match.group("two"), "")
        if match.group("long") is not None:
            return _NAMED.get(match.group("long"), "")
        one = match.group("one")
        return _SIMPLE.get(one, "") if one is not None else ""

    return _ESCAPE.sub(replace, text)


def _arguments(rest: str) -> list[str]:
    return [a[1:-1] if a.startswith('"') else a for a in re.findall(r'"[^"]*"?|\S+', rest)]


def render_fallback(source: str, name: str) -> str:
    """Common man macros read in pure Python; requests it does not know are ignored.

    One output line per source line, so line numbers are the roff source's.
    """
    out: list[str] = []
    pending_heading = ""
    for raw in source.replace("\r\n", "\n").split("\n"):
        line = raw.rstrip()
        if pending_heading and line and line[0] not in ".'":
            out.append(f"{pending_heading} {_unescape(line).strip()}")
            pending_heading = ""
            continue
        if not line or line[0] not in ".'":
            text = _unescape(line)
            out.append(f"    {text}" if text.strip() else "")
            continue
        parts = line[1:].strip().split(None, 1)
        request = parts[0] if parts else ""
        rest = parts[1] if len(parts) > 1 else ""
        if request in ("TH", "Dt"):
            out.append(f"# {title_of(name)}")
        elif request in ("SH", "SS", "Sh", "Ss"):
            marker = "##" if request in ("SH", "Sh") else "###"
            title = " ".join(_unescape(a) for a in _arguments(rest)).strip()
            if title:
                out.append(f"{marker} {title}")
            else:
                out.append("")
                pending_heading = marker
        elif request in _FONT_MACROS:
            out.append("    " + " ".join(_unescape(a) for a in _arguments(rest)))
        elif request in _ALTERNATING:
            out.append("    " + "".join(_unescape(a) for a in _arguments(rest)))
        elif request in _MDOC_TEXT:
            words = " ".join(_unescape(a) for a in _arguments(rest)).strip()
            out.append(f"    {words}" if words else "")
        elif request in ("IP", "TP", "PP", "LP", "P", "sp", "br", "RS", "RE", "nf", "fi"):
            tag = _arguments(rest)[0] if request == "IP" and rest else ""
            out.append(f"    {_unescape(tag)}" if tag else "")
        else:  # comments and every other request (.so, .sy, .pso ...): nothing
            out.append("")
    return "\n".join(out)
