import type { CodegenConfig } from '@graphql-codegen/cli';

// Types come from the schema file in the repository, so no running server is needed.
const config: CodegenConfig = {
  schema: '../schema.graphqls',
  documents: ['src/**/*.{ts,tsx}', '!src/gql/**/*'],
  ignoreNoDocuments: true,
  generates: {
    './src/gql/': {
      preset: 'client',
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { Time: 'string' },
      },
      presetConfig: {
        fragmentMasking: false,
      },
    },
  },
  errorsOnly: true,
};

export default config;
