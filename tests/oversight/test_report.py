"""The inspection report: self-contained, small numbers suppressed, and its printed pages looked at."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

NOW = "2016-01-01T00:00:00"
CAN_PRINT = Path("/usr/bin/chromium").exists() and shutil.which("pdftoppm") is not None


def test_report_is_self_contained_suppresses_small_numbers_and_prints(history: dict[str, Any], cli: Any) -> None:
    """One run (the report takes seconds): the HTML checks always; the PDF pages when Chromium and
    poppler-utils are installed (scripts/ensure_chromium.sh, scripts/ensure_poppler.sh; CI has both)."""
    out = history["tmp"] / "report.html"
    result = cli("oversight", "report", "--db", history["url"], "--now", NOW, "--out", str(out),
                 *(["--pdf"] if CAN_PRINT else []))
    assert result.exit_code == 0, result.stderr
    html = out.read_text(encoding="utf-8")
    for heading in ("1. Volumes", "2. Classifications", "3. Basic investigative steps missed",
                    "4. Linkage alerts", "5. Does investigative effort differ"):
        assert heading in html
    assert html.count("<svg") >= 4
    assert not re.search(r"<(script|link|img|iframe)\b", html)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    cells = re.findall(r'<td class="n">([^<]*)</td>', html)
    assert cells and "&lt;5" in cells
    assert not [c for c in cells if c.strip() in ("1", "2", "3", "4")]
    assert "gay_bisexual_men" in html  # 20 cases: published
    assert "sex_worker" not in html    # 1 case: suppressed, never printed
    assert not list(history["tmp"].glob("*.partial"))
    if not CAN_PRINT:
        return
    pdf = out.with_suffix(".pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(history["tmp"] / "page")], check=True)
    pages = sorted(history["tmp"].glob("page-*.png"))
    assert len(pages) >= 3 and all(p.stat().st_size > 2000 for p in pages)
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    assert "Inspection report" in text and "Benjamini" in text


def test_a_small_force_still_gets_its_report(cli: Any, tmp_path: Path) -> None:
    """With too few cases for a reference group the disparity section says so; the rest of the report
    is still written (it used to refuse with an error naming --reference, which `report` has not got)."""
    cases = tmp_path / "cases.csv"
    cases.write_text("case_id,found_at,lat,lon,cause,classification,victim_tags\n"
                     + "".join(f"K-{i},2015-0{i}-03,51.27,1.08,drug_toxicity,unexpected_not_suspicious,homeless\n"
                               for i in range(1, 4)), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'small.db'}"
    assert cli("ingest", str(cases), "--db", url).exit_code == 0
    out = tmp_path / "report.html"
    result = cli("oversight", "report", "--db", url, "--now", NOW, "--out", str(out))
    assert result.exit_code == 0, result.stderr
    html = out.read_text(encoding="utf-8")
    assert "1. Volumes" in html and "5. Does investigative effort differ" in html
    assert "no reference group" in html and "--reference" not in html
    refused = cli("oversight", "report", "--db", url, "--out", str(out), "--by", "shoe_size")
    assert refused.exit_code == 2 and "--by" in refused.stderr


def test_volumes_per_month_are_london_months() -> None:
    """Report times are stored as naive UTC: 00:30 on 1 July (BST) is 23:30 UTC on 30 June and was
    drawn in June's bar, so a July report showed a June bar."""
    import pandas as pd

    from caselink.oversight.report import london_months

    found = pd.Series(pd.to_datetime(["2014-06-30T23:30", "2014-12-31T23:30", "2014-10-26T00:30"]))
    assert list(london_months(found)) == ["2014-07", "2014-12", "2014-10"]


def test_report_says_erased_cases_are_in_no_group(history: dict[str, Any], cli: Any) -> None:
    tagged = [r["case_id"] for r in history["records"] if "gay_bisexual_men" in r["victim_tags"]][:2]
    for case_id in tagged:
        assert cli("erase", case_id, "--db", history["url"], "--officer", "DPO Hart",
                   "--rationale", "retention").exit_code == 0
    out = history["tmp"] / "report.html"
    result = cli("oversight", "report", "--db", history["url"], "--now", NOW, "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert "&lt;5 case(s) whose victim_tags\nwas erased" in out.read_text(encoding="utf-8")
