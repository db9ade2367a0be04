"""The README stays a front door, and the docs' links lead to files of this repository.

Every relative link of README.md, docs/*.md and bench/*.md must name a file or folder
that exists inside the repository, and an anchor (`#x`) must name a heading of its
target as GitHub spells it. A link that leaves the repository (`../` above the root,
an absolute path, a `file:` URL) breaks for anyone reading a clone or the GitHub page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
README_MAX_LINES = 250
# The pages the README sends each reader to; each must exist for the links to be checked.
DOCS = ("docs/api.md", "docs/operations.md", "docs/performance.md", "docs/upgrading.md")


def pages() -> list[Path]:
    return [
        README,
        *sorted((ROOT / "docs").glob("*.md")),
        *sorted((ROOT / "bench").glob("*.md")),
    ]


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
_INLINE = re.compile(
    r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^\s)]+)(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)"
)
_REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
_HTML = re.compile(r"""\b(?:href|src)\s*=\s*["']([^"']*)["']""")
_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_EXTERNAL = re.compile(r"^(?:https?|mailto):", re.IGNORECASE)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def outside_fences(text: str) -> Iterator[str]:
    """The lines of `text` outside fenced code blocks."""
    fence: str | None = None
    for line in text.splitlines():
        found = _FENCE.match(line)
        if fence is None and found:
            fence = found.group(1)[0] * len(found.group(1))
            continue
        if fence is not None:
            if line.strip().startswith(fence) and set(line.strip()) == {fence[0]}:
                fence = None
            continue
        yield line


def links(text: str) -> list[str]:
    """Every link target of a Markdown text: inline, reference definitions and HTML."""
    found = []
    for line in outside_fences(text):
        line = _CODE_SPAN.sub("", line)
        reference = _REFERENCE.match(line)
        if reference:
            found.append(reference.group(1))
            continue
        found += [match.group(1) for match in _INLINE.finditer(line)]
        found += [match.group(1) for match in _HTML.finditer(line)]
    return [target.strip("<>") for target in found]


def slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it: the text lowercased, punctuation dropped,
    each space a hyphen."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = re.sub(r"<[^>]+>", "", text).replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """The anchors of a Markdown text's headings; a repeated one gets -1, -2, as on GitHub."""
    seen: dict[str, int] = {}
    found = set()
    # A heading keeps its code spans' text: `make bench` is part of its anchor.
    for line in outside_fences(text):
        heading = _HEADING.match(line)
        if heading is None:
            continue
        base = slug(heading.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def problems(page: Path, root: Path = ROOT) -> list[str]:
    """What is wrong with the links of `page` in the repository at `root`, one line each."""
    found = []
    for target in links(page.read_text(encoding="utf-8")):
        if _EXTERNAL.match(target):
            continue
        if _SCHEME.match(target) or target.startswith(("/", "\\")):
            found.append(f"{target}: leaves the repository (write a relative path)")
            continue
        path_part, _, anchor = target.partition("#")
        path = (page.parent / unquote(path_part)).resolve() if path_part else page
        if not path.is_relative_to(root):
            found.append(f"{target}: leaves the repository")
            continue
        if not path.exists():
            found.append(f"{target}: no such file {path.relative_to(root)}")
            continue
        if not anchor:
            continue
        if path.suffix != ".md":
            found.append(f"{target}: an anchor into a file that is not Markdown cannot be checked")
        elif unquote(anchor) not in anchors(path.read_text(encoding="utf-8")):
            found.append(f"{target}: no heading of {path.relative_to(root)} has that anchor")
    return found


def test_the_readme_fits_in_250_lines() -> None:
    lines = len(README.read_text(encoding="utf-8").splitlines())
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; the rest belongs in docs/"


def test_the_pages_the_readme_sends_readers_to_exist_and_are_linked() -> None:
    linked = {target.partition("#")[0] for target in links(README.read_text(encoding="utf-8"))}
    for page in DOCS:
        assert (ROOT / page).is_file(), f"{page} is missing"
        assert page in linked, f"README.md does not link {page}"


@pytest.mark.parametrize("page", pages(), ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_leads_to_a_file_and_heading_of_the_repository(page: Path) -> None:
    assert problems(page) == []


def test_links_are_found_inline_by_reference_and_in_html_but_not_in_code() -> None:
    text = "\n".join(
        [
            "See [the API](docs/api.md#errors) and ![a chart](img/x.png 'title').",
            "[ref]: docs/operations.md",
            '<a href="bench/RESULTS.md">results</a> and [a `code` text](<with space.md>)',
            "Not a link: `[x](in-a-code-span.md)`.",
            "```",
            "[y](in-a-fence.md)",
            "```",
            "[last](https://example.com)",
        ]
    )
    assert links(text) == [
        "docs/api.md#errors",
        "img/x.png",
        "docs/operations.md",
        "with space.md",
        "bench/RESULTS.md",
        "https://example.com",
    ]


def test_anchors_are_spelled_as_github_spells_them() -> None:
    text = "\n".join(
        [
            "# logistic",
            "## Speed tricks and what they buy",
            "## `make bench`, options and figures",
            "### Upgrading across 0005 — and 0006",
            "## Notes",
            "## Notes",
            "```",
            "# not a heading",
            "```",
        ]
    )
    assert anchors(text) == {
        "logistic",
        "speed-tricks-and-what-they-buy",
        "make-bench-options-and-figures",
        "upgrading-across-0005--and-0006",
        "notes",
        "notes-1",
    }


def test_a_link_out_of_the_repository_to_a_missing_file_or_heading_is_reported(
    tmp_path: Path,
) -> None:
    root = (tmp_path / "repository").resolve()
    (root / "docs").mkdir(parents=True)
    (root / "README.md").write_text("# logistic\n## The two commands\n", encoding="utf-8")
    (root / "Makefile").write_text("run:\n", encoding="utf-8")
    (tmp_path / "outside.md").write_text("# elsewhere\n", encoding="utf-8")
    page = root / "docs" / "page.md"
    page.write_text(
        "# The page\n"
        "[fine](../README.md#the-two-commands) [here](#the-page) [make](../Makefile)\n"
        "[web](https://example.com/x) [a](../../outside.md) [b](/etc/passwd)\n"
        "[c](file:///etc/passwd) [d](no-such-file.md) [e](../README.md#nope)\n"
        "[f](../Makefile#run) [g](#nowhere)\n",
        encoding="utf-8",
    )
    assert problems(page, root) == [
        "../../outside.md: leaves the repository",
        "/etc/passwd: leaves the repository (write a relative path)",
        "file:///etc/passwd: leaves the repository (write a relative path)",
        "no-such-file.md: no such file docs/no-such-file.md",
        "../README.md#nope: no heading of README.md has that anchor",
        "../Makefile#run: an anchor into a file that is not Markdown cannot be checked",
        "#nowhere: no heading of docs/page.md has that anchor",
    ]
