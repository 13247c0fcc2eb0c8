from pathlib import Path

from caselink.cli_doc import cli_markdown


def test_docs_cli_md_matches_the_cli():
    path = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
    assert path.read_text(encoding="utf-8") == cli_markdown(), (
        "docs/cli.md is stale: run `python -m caselink.cli_doc > docs/cli.md`")
