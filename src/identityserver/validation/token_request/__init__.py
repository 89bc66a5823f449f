"""The token request validator and one module per grant type (dispatch table, never a switch)."""
