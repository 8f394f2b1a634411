"""gunicorn entry point: one app per worker (no preload), so no database connection crosses a fork."""

from service import create_app

app = create_app()
