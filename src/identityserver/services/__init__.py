"""Engine services (Duende ``Services``): token creation, claims, keys, events, replay cache, data protection."""
