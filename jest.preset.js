// Shared jest settings: swc transpiles TypeScript (with decorator metadata for Nest),
// and @vigil/* imports resolve to library sources so tests never need a prior build.
const path = require('node:path');

module.exports = function preset(projectDir, overrides = {}) {
  return {
    rootDir: projectDir,
    testEnvironment: 'node',
    testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
    transform: {
      '^.+\\.ts$': [
        '@swc/jest',
        {
          jsc: {
            parser: { syntax: 'typescript', decorators: true },
            transform: { legacyDecorator: true, decoratorMetadata: true },
            target: 'es2022',
          },
          module: { type: 'commonjs' },
        },
      ],
    },
    moduleNameMapper: {
      '^@vigil/([a-z-]+)$': path.join(__dirname, 'libs/$1/src/index.ts'),
    },
    testTimeout: 60_000,
    ...overrides,
  };
};
