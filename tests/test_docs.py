"""Every ```python block in docs/*.md runs, so the guided tour cannot rot.

The blocks of one page run in order in one shared namespace (a page is one
story), each page in a fresh namespace. When a python block prints and the
next block of the page is a ```text block, the printed output must match it
(ignoring trailing spaces), so shown outputs cannot drift either. Blocks tagged ```cython whose
first line is ``# csrc/<file>.pyx`` are excerpts of a kernel: their lines
(ignoring indentation; a line ``...`` skips ahead) must appear, in order and
contiguously between skips, in that file, so a quoted kernel cannot drift
from the real one.
"""
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```\s*$", re.M | re.S)


def pages():
    return sorted(f for f in os.listdir(DOCS) if f.endswith(".md"))


def all_blocks(page):
    """(language, line number, code) of every fenced block in a page, in order."""
    with open(os.path.join(DOCS, page)) as f:
        text = f.read()
    return [(match.group(1), text.count("\n", 0, match.start(2)) + 1, match.group(2))
            for match in FENCE.finditer(text)]


def blocks(page, language):
    """(line number, code) of each fenced block of `language` in a page."""
    return [(line, code) for lang, line, code in all_blocks(page) if lang == language]


def _normalise(text):
    return "\n".join(line.rstrip() for line in text.strip("\n").split("\n"))


def test_there_is_a_tour():
    names = pages()
    assert len(names) >= 5
    assert sum(len(blocks(page, "python")) for page in names) >= 20


@pytest.mark.parametrize("page", pages())
def test_python_blocks_run(page, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    namespace = {"__name__": f"docs_{page[:-3].replace('-', '_')}"}
    fenced = all_blocks(page)
    for index, (language, line, code) in enumerate(fenced):
        if language != "python":
            continue
        capsys.readouterr()
        compiled = compile("\n" * (line - 1) + code, os.path.join("docs", page), "exec")
        exec(compiled, namespace)  # a failing assert points at docs/<page>:<line>
        printed = capsys.readouterr().out
        following = fenced[index + 1] if index + 1 < len(fenced) else None
        if printed and following is not None and following[0] == "text":
            assert _normalise(printed) == _normalise(following[2]), (
                f"docs/{page}:{following[1]}: the output shown differs from what the block "
                f"at line {line} prints:\n{printed}")


def _excerpt_found(excerpt_lines, source_lines):
    position = 0
    for chunk in "\n".join(excerpt_lines).split("\n...\n"):
        chunk = [line for line in chunk.split("\n") if line]
        for start in range(position, len(source_lines) - len(chunk) + 1):
            if source_lines[start:start + len(chunk)] == chunk:
                position = start + len(chunk)
                break
        else:
            return False, chunk
    return True, None


@pytest.mark.parametrize("page", pages())
def test_kernel_excerpts_match_the_source(page):
    for line, code in blocks(page, "cython"):
        lines = [l.strip() for l in code.strip("\n").split("\n")]
        source = re.match(r"#\s*(csrc/\S+\.pyx)", lines[0])
        assert source, f"docs/{page}:{line}: a cython excerpt must start with '# csrc/<file>.pyx'"
        path = os.path.join(ROOT, source.group(1))
        with open(path) as f:
            source_lines = [l.strip() for l in f.read().split("\n")]
        ok, missing = _excerpt_found([l for l in lines[1:]], source_lines)
        assert ok, f"docs/{page}:{line}: these lines are not in {source.group(1)}: {missing}"
