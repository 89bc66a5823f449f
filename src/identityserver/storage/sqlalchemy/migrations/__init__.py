"""Alembic migrations shipped inside the package (``script_location`` points here); run them with
``identityserver db upgrade`` or :mod:`identityserver.storage.sqlalchemy.migrate`."""
