"""``python -m fairwatch`` runs the command line."""

from fairwatch.cli.main import app

app()
