"""Storage adapters that satisfy the store contracts of ``identityserver.stores`` (Duende's EntityFramework
storage packages): ``sqlalchemy`` for SQLite and PostgreSQL, ``redis`` for a shared replay cache."""
