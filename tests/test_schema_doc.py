from pathlib import Path

from caselink.schema_doc import schema_markdown


def test_docs_schema_md_matches_the_model():
    path = Path(__file__).resolve().parents[1] / "docs" / "schema.md"
    assert path.read_text(encoding="utf-8") == schema_markdown(), (
        "docs/schema.md is stale: run `python -m caselink.schema_doc > docs/schema.md`")
