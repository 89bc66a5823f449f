"""The store contract suite, for anyone who writes a store (Duende's ``IntegrationTests/Storage`` suites).

The same behaviour tests run against IdentityServer's own stores (in memory, SQLite, PostgreSQL) and against
yours: subclass a contract class from ``identityserver.testing.contracts`` in a test module and provide a
``store_factory`` fixture returning a ``StoreFactory`` (``identityserver.testing.factory``) that builds your
stores on a fresh, empty backend for each test::

    # tests/test_mongo_stores.py of a third-party package
    import pytest

    from identityserver.testing.contracts import PersistedGrantStoreContract
    from identityserver.testing.factory import StoreFactory


    class MongoStoreFactory(StoreFactory):
        def __init__(self, database): self.database = database
        async def persisted_grant_store(self): return MongoPersistedGrantStore(self.database)


    @pytest.fixture
    def store_factory(empty_mongo_database):  # your fixture giving each test an empty database
        return MongoStoreFactory(empty_mongo_database)


    class TestMongoPersistedGrantStore(PersistedGrantStoreContract):
        pass

``identityserver.testing.backends`` has the factories of the built-in stores (``InMemoryStoreFactory``,
``SqlStoreFactory``). The package needs pytest and pytest-asyncio (IdentityServer's ``dev`` extra has both); it is
the only part of IdentityServer that imports them, and nothing else imports it. Contract tests are marked
``asyncio``, so they run in pytest-asyncio's strict mode as well as in auto mode."""
