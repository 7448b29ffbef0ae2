"""Would Excel open this file without its repair prompt? openxml-audit (a pure-Python port of
the Open XML SDK's validator) checks a package against the OOXML schemas and semantic rules
and predicts Excel's reaction. Every test that writes a workbook can call
``assert_excel_opens``.
"""

from __future__ import annotations

from pathlib import Path


def audit(path: Path):
    """openxml-audit's result and its verdict for Excel."""
    from openxml_audit import OpenXmlValidator, predict

    result = OpenXmlValidator().validate(Path(path))
    return result, predict(result)


def assert_excel_opens(path: Path) -> None:
    """Fails, listing the findings, unless the package is valid and predicted to open cleanly."""
    from openxml_audit import AppPrediction

    result, verdict = audit(path)
    findings = "\n".join(f"  [{e.severity.value}] {e.description}" for e in result.errors[:20])
    assert result.is_valid and verdict.prediction is AppPrediction.OPENS_CLEAN, (
        f"{path}: {verdict.headline}\n{findings}"
    )
