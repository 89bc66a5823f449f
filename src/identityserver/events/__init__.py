"""Events raised by the engine (Duende ``Events``) and delivered to an ``EventSink``."""
