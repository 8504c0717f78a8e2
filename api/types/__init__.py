"""GraphQL types, one module per business area. Scalars are plain attributes; only fields that
load something are resolvers, and those load through the request's dataloaders."""
