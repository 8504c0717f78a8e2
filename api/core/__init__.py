"""What every area of the API shares: the request context and its loaders, who calls and what they may
reach, errors, ids, pages, limits, metrics, and running a command for a mutation."""
