"""airfair."""
