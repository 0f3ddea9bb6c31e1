"""FastAPI service and web pages (arrives with the API issue)."""
