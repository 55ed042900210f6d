"""The hazmon server: ingest, storage, exposure, alerts and health files over a FastAPI app.

Build it with `server.app.create_app(settings)`; nothing happens at import time.
"""
