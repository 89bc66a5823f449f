"""ASGI hosting: the only code (with ``ui``) that imports Starlette."""
