"""Options, configuration-file loading, the demo configuration and the composition root."""
