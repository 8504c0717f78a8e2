"""GraphQL over HTTP: app, context, auth, types, mutations, dataloaders, CLI."""
