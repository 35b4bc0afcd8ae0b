"""The HTTP API (FastAPI): :func:`create_app` over a case store.

``fairwatch serve`` runs it with uvicorn. :func:`deliver_outbox` posts pending
status-change events to registered webhooks (the app does it in the background).
"""

from fairwatch.api.app import create_app, route_operations
from fairwatch.api.webhooks import deliver_outbox, sign, verify_signature

__all__ = ["create_app", "deliver_outbox", "route_operations", "sign", "verify_signature"]
