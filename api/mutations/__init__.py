"""One module per mutation: parse input, call the domain use case, shape the payload."""
