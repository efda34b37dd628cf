#!/usr/bin/env python3
"""Checks that every relative link in the project's Markdown resolves.

    python3 tests/docs/check_links.py ROOT [FILE.md ...]

Without FILEs it checks ROOT's README.md, docs/**/*.md, jobs/**/*.md, datasets/*.md and
tests/*/README.md. For each inline link or image `[text](target)` and each reference definition
`[ref]: target` outside code blocks and code spans, it resolves the target relative to the file
(a leading `/` means ROOT) and checks that the file or directory exists; `#anchor` and
`file.md#anchor` must name a heading of that Markdown file, as GitHub makes anchors of headings
(lowercased, punctuation dropped, spaces to hyphens, `-1`, `-2`, ... for repeats), or an explicit
`<a name=...>` / `id=...`. Links with a scheme (https:, mailto:, ...) are not checked.

Prints each broken link as FILE:LINE: message and exits 1 when there is any; exits 0 otherwise,
2 for a usage error. Standard library only.
"""
import glob
import os
import re
import sys
import urllib.parse

FENCE = re.compile(r"^ {0,3}(```+|~~~+)")
ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
# Code spans, which may run over line breaks but not over a blank line.
CODE_SPAN = re.compile(r"(`+)(?:(?!\n[ \t]*\n).)+?(?<!`)\1(?!`)", re.S)
# [text](target "title") and ![alt](target); text may hold one level of brackets, the target
# one level of parentheses.
INLINE_LINK = re.compile(
    r"!?\[(?:[^\[\]\\]|\\.|\[[^\[\]]*\])*\]"
    r"\(\s*(<[^<>\n]*>|(?:[^\s()\\]|\\.|\([^\s()]*\))*)"
    r"(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^()]*\)))?\s*\)")
REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^<>\n]*>|\S+)", re.M)
HTML_ANCHOR = re.compile(r"<a\s[^>]*\bname=[\"']([^\"']+)[\"']|\bid=[\"']([^\"']+)[\"']", re.I)
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def blank_out(match):
    """The matched text with every character but newlines turned into a space."""
    return re.sub(r"[^\n]", " ", match.group(0))


def strip_fences(text):
    """Text with fenced code blocks blanked, line numbers unchanged. Indented lines are not
    taken for code blocks: here they are list continuations."""
    lines = text.split("\n")
    fence = None
    for i, line in enumerate(lines):
        m = FENCE.match(line)
        if fence is None and m:
            fence = m.group(1)
            lines[i] = ""
        elif fence is not None:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) \
                    and line.strip() == m.group(1):
                fence = None
            lines[i] = ""
    return "\n".join(lines)


def strip_code(text):
    """Text with fenced code blocks and code spans blanked, line numbers unchanged."""
    return CODE_SPAN.sub(blank_out, strip_fences(text))


def heading_text(raw):
    """A heading's rendered text: links and images become their text, code marks go."""
    text = re.sub(r"!?\[((?:[^\[\]]|\[[^\]]*\])*)\]\([^)]*\)", r"\1", raw)
    text = re.sub(r"<[^>]+>", "", text)
    return text.replace("`", "")


def slug(text):
    """GitHub's anchor for a heading (github-slugger): lowercase, drop what is not a letter,
    digit, underscore, hyphen or space, then spaces to hyphens."""
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


_anchors = {}


def anchors_of(path):
    """The anchors a Markdown file's headings (and HTML anchors) give, lowercased."""
    if path in _anchors:
        return _anchors[path]
    with open(path, encoding="utf-8") as f:
        text = f.read()
    lines = strip_fences(text).split("\n")
    seen = {}
    anchors = set()

    def add(heading):
        base = slug(heading_text(heading))
        n = seen.get(base, 0)
        seen[base] = n + 1
        anchors.add(base if n == 0 else f"{base}-{n}")

    for i, line in enumerate(lines):
        m = ATX_HEADING.match(line)
        if m:
            add(m.group(2) or "")
            continue
        if i > 0 and SETEXT_UNDERLINE.match(line) and lines[i - 1].strip() \
                and not re.match(r"^ {0,3}([-*+|>#]|\d+[.)])", lines[i - 1]) \
                and not (line.strip().startswith("-") and "|" in lines[i - 1]):
            add(lines[i - 1].strip())
    for m in HTML_ANCHOR.finditer(strip_code(text)):
        anchors.add(m.group(1) or m.group(2))
    _anchors[path] = {a.lower() for a in anchors}
    return _anchors[path]


def line_of(text, offset):
    return text.count("\n", 0, offset) + 1


def check_target(root, path, target):
    """None when target resolves from the file at path, else what is wrong."""
    if target.startswith("<") and target.endswith(">"):
        target = target[1:-1]
    target = re.sub(r"\\(.)", r"\1", target)
    if not target:
        return "empty link target"
    if SCHEME.match(target) or target.startswith("//"):
        return None
    file_part, _, anchor = target.partition("#")
    file_part = urllib.parse.unquote(file_part.split("?", 1)[0])
    anchor = urllib.parse.unquote(anchor)
    if file_part:
        base = root if file_part.startswith("/") else os.path.dirname(path)
        resolved = os.path.normpath(os.path.join(base, file_part.lstrip("/")))
        if not os.path.exists(resolved):
            return f"{file_part} does not exist (looked for {os.path.relpath(resolved, root)})"
    else:
        resolved = path
    if anchor and os.path.isfile(resolved) and resolved.lower().endswith(".md"):
        if anchor.lower() not in anchors_of(resolved):
            shown = os.path.relpath(resolved, root)
            return f"no heading in {shown} has the anchor #{anchor}"
    return None


def links_of(text):
    """(offset, target) for each link and reference definition outside code."""
    stripped = strip_code(text)
    for m in INLINE_LINK.finditer(stripped):
        yield m.start(), m.group(1)
    for m in REFERENCE_DEFINITION.finditer(stripped):
        yield m.start(), m.group(1)


def default_files(root):
    patterns = ["README.md", "docs/**/*.md", "jobs/**/*.md", "datasets/*.md", "tests/*/README.md"]
    files = []
    for pattern in patterns:
        for path in sorted(glob.glob(os.path.join(root, pattern), recursive=True)):
            if "node_modules" not in path.split(os.sep) and path not in files:
                files.append(path)
    return files


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    root = os.path.abspath(argv[1])
    if not os.path.isdir(root):
        print(f"check_links: {argv[1]} is not a directory", file=sys.stderr)
        return 2
    files = [os.path.abspath(f) for f in argv[2:]] or default_files(root)
    if not files:
        print(f"check_links: no Markdown files under {root}", file=sys.stderr)
        return 2
    broken = 0
    checked = 0
    for path in files:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for offset, target in links_of(text):
            checked += 1
            problem = check_target(root, path, target)
            if problem:
                broken += 1
                print(f"{os.path.relpath(path, root)}:{line_of(text, offset)}: broken link "
                      f"({target}): {problem}")
    if broken:
        print(f"check_links: {broken} broken link(s) of {checked} in {len(files)} file(s)",
              file=sys.stderr)
        return 1
    print(f"check_links: {checked} links in {len(files)} files resolve")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
