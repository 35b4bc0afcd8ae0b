"""Reports on monitoring runs: the self-contained HTML report and the families table."""

from fairwatch.report.families import FAMILIES, SEVERITIES
from fairwatch.report.html import LABELS, render_html, write_report

__all__ = ["FAMILIES", "LABELS", "SEVERITIES", "render_html", "write_report"]
