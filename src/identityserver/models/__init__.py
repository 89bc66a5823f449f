"""Plain domain dataclasses with no I/O (Duende ``src/Storage/Models`` and ``IdentityServer/Models``)."""
