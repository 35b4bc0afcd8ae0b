"""The browser console (regulators), the platform view and the public portal.

Server-rendered Jinja2 pages with htmx for interaction and Apache ECharts for charts,
both vendored under ``static/vendor`` from npm (no CDN). Bilingual: Simplified Chinese by
default, English; message catalogues in ``i18n/``. The pages use the API's session
cookie and call the same :class:`~fairwatch.cases.service.CaseService`, so every page
action is checked against the same role matrix.
"""

from fairwatch.web.app import mount

__all__ = ["mount"]
