"""Response generators (Duende ``ResponseHandling``): turn validated requests into protocol responses."""
