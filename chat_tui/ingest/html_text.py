"""Readable text from HTML, as Markdown-ish text so the Markdown chunker can follow its headings.

Scripts, styles, navigation and other chrome are dropped; ``h1``..``h6`` become ``#`` headings,
``pre`` blocks become code fences, list items get a dash, and block elements are separated by
blank lines so paragraphs survive. beautifulsoup4 is imported only here, only when called.
"""

from __future__ import annotations

import re

from chat_tui.ingest.loaders import tidy_blank_lines

DROPPED_TAGS = ("script", "style", "nav", "noscript", "template", "svg", "iframe", "head", "form")
BLOCK_TAGS = (
    "p",
    "div",
    "section",
    "article",
    "main",
    "header",
    "footer",
    "aside",
    "blockquote",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "table",
    "tr",
    "figure",
    "figcaption",
    "address",
    "hr",
    "br",
    "body",
    "details",
    "summary",
)
_SPACES = re.compile(r"[ \t\f\v\u00a0]+")
_FENCE_MARK = "\u0000FENCE{}\u0000"


def html_to_markdown(html: str) -> str:
    """The page's readable text with headings as ``#`` lines.

    Args:
        html: the page source.

    Returns:
        Text with paragraphs separated by blank lines; empty when the page has no text.
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup.find_all(DROPPED_TAGS):
        tag.decompose()

    fences: list[str] = []
    for pre in soup.find_all("pre"):
        fences.append(pre.get_text())
        pre.replace_with(f"\n\n{_FENCE_MARK.format(len(fences) - 1)}\n\n")
    has_h1 = soup.find("h1") is not None
    for level in range(1, 7):
        for heading in soup.find_all(f"h{level}"):
            text = heading.get_text(" ", strip=True)
            heading.replace_with(f"\n\n{'#' * level} {text}\n\n" if text else "\n\n")
    for item in soup.find_all("li"):
        item.insert_before("\n- ")
        item.insert_after("\n")
    for cell in soup.find_all(["td", "th"]):
        cell.insert_after(" | ")
    for block in soup.find_all(BLOCK_TAGS):
        block.insert_before("\n\n")
        block.insert_after("\n\n")

    lines = [_SPACES.sub(" ", line).strip() for line in soup.get_text().split("\n")]
    text = tidy_blank_lines("\n".join(lines))
    for number, body in enumerate(fences):
        fence = "```\n" + body.strip("\n") + "\n```"
        text = text.replace(_FENCE_MARK.format(number), fence)
    if title and not has_h1 and text:
        text = f"# {title}\n\n{text}"
    return text
