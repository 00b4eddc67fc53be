import type { CodegenConfig } from '@graphql-codegen/cli';

// Types come from the schema file in the repository, so no running server is needed.
const config: CodegenConfig = {
  schema: '../schema.graphqls',
  // Tests' own documents stay out: the generated document map ships in the bundle.
  documents: ['src/**/*.{ts,tsx}', '!src/gql/**/*', '!src/**/*.test.{ts,tsx}'],
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
