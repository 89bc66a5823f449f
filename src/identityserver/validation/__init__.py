"""Request validation (Duende ``Validation``): validators return result objects, never raise for protocol
errors."""
