"""The README and docs/ say what is true: their links resolve, every subcommand and flag is in docs/cli.md, and every
command line they show a user is one the real parser takes."""

from __future__ import annotations

import ast
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from ranklens.cli import build_parser

PAGES = [ROOT / "README.md", ROOT / "CHANGELOG.md", ROOT / "bench" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
COMMAND = re.compile(r"^\s*(?:\.venv/bin/)?(?:ranklens|python -m ranklens)\s+(.*)$")


def slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {slug(line.lstrip("#")) for line in page.read_text(encoding="utf-8").splitlines() if line.startswith("#")}


def code_lines(page: Path) -> list[str]:
    """The lines of a page's code: indented blocks and fenced blocks."""
    lines, fenced = [], False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("```"):
            fenced = not fenced
        elif fenced or line.startswith("    "):
            lines.append(line.strip())
    return lines


def documented_commands() -> list[tuple[str, str]]:
    return [
        (page.name, match.group(1).split("  #")[0].strip())
        for page in PAGES
        for line in code_lines(page)
        if (match := COMMAND.match(line))
    ]


def subcommands() -> dict[str, object]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, type(parser._subparsers._group_actions[0])))
    return dict(action.choices)


def cli_sections() -> dict[str, str]:
    """docs/cli.md's text by its `## ranklens NAME` sections, and the shared options' section as "shared"."""
    sections, name = {}, None
    for line in (ROOT / "docs" / "cli.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            title = line[3:].strip()
            name = title.removeprefix("ranklens ") if title.startswith("ranklens ") else "shared"
            sections.setdefault(name, "")
        elif name:
            sections[name] += line + "\n"
    return sections


def test_the_readme_is_for_users_and_short():
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) < 250


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    broken = []
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target):
            continue  # http(s), mailto: not ours to check offline
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.exists() or (anchor and resolved.suffix == ".md" and anchor not in anchors(resolved)):
            broken.append(target)
    assert broken == []


def test_the_slug_is_githubs():
    assert slug(" Labels & export") == "labels--export"
    assert slug(" ranklens check") == "ranklens-check"
    assert slug(" Models, offline") == "models-offline"


def test_every_subcommand_and_flag_is_in_cli_md():
    sections = cli_sections()
    missing = []
    for name, parser in subcommands().items():
        if name not in sections:
            missing.append(f"## ranklens {name}")
            continue
        for action in parser._actions:
            for option in action.option_strings:
                documented = option in sections[name] or option in sections["shared"]
                if option.startswith("--") and option != "--help" and not documented:
                    missing.append(f"{name} {option}")
    assert missing == []


def test_cli_md_documents_no_subcommand_that_is_gone():
    assert set(cli_sections()) - {"shared"} <= set(subcommands())


def test_every_command_line_in_the_docs_is_one_the_parser_takes():
    commands = documented_commands()
    assert len(commands) > 20, "the docs show commands"
    refused = []
    for page, line in commands:
        try:
            build_parser().parse_args(shlex.split(line))
        except SystemExit:
            refused.append(f"{page}: ranklens {line}")
    assert refused == []


def test_the_documented_checks_run(tmp_path):
    """Those that need no model and no file of the user's run as written: `check` on a built-in corpus, `cache`."""
    runnable = [
        line
        for _, line in documented_commands()
        if (line.startswith("check --corpus python") and "csv" not in line) or line == "cache"
    ]
    assert len(runnable) >= 2
    for line in runnable:
        done = subprocess.run(
            [sys.executable, "-m", "ranklens", *shlex.split(line)],
            cwd=ROOT,
            env={**os.environ, "RANKLENS_HOME": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, (line, done.stderr[-2000:])


def test_the_benches_that_stay_say_what_they_answer_in_a_few_lines():
    scripts = sorted((ROOT / "bench").glob("*.py"))
    assert len(scripts) <= 8
    for script in scripts:
        doc = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8")))
        assert doc and len(doc.splitlines()) <= 15, script.name
        assert script.name in (ROOT / "bench" / "README.md").read_text(encoding="utf-8"), script.name
