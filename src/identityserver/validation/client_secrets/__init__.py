"""Client authentication: secret parsers, secret validators and the ``ClientSecretValidator`` that runs them."""
