"""Protocol endpoints (Duende ``Endpoints``): parse HTTP, validate, generate, return a result."""
