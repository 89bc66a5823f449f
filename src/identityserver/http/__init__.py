"""The request primitives every stage reads: ``EndpointRequest`` (what hosting builds from ASGI) and ``Parameters``
(a parsed query or form). Standard library only, below validation, so that no validator imports an endpoint."""
