"""Automatic signing-key management (Duende ``Services/Default/KeyManagement``)."""
