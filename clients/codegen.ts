// TypeScript types for client teams, from the server's schema.graphql and the project's operations
// (operations/*.graphql). The custom scalars travel as strings: DateTime is ISO 8601 with an offset, to the
// millisecond (new Date(value) reads it everywhere); Date is YYYY-MM-DD (a local business day, keep it a
// string: new Date('2026-11-30') is midnight UTC, another day in Shanghai); JSON is any JSON value.
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: '../schema.graphql',
  documents: '../operations/*.graphql',
  generates: {
    'generated/graphql.ts': {
      plugins: ['typescript', 'typescript-operations'],
      config: {
        scalars: { DateTime: 'string', Date: 'string', JSON: 'unknown', ID: 'string' },
        enumsAsTypes: true,
        strictScalars: true,
        useTypeImports: true,
      },
    },
  },
};

export default config;
