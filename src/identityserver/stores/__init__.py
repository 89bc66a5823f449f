"""Store contracts (``protocols.py``) and their non-SQL implementations."""
