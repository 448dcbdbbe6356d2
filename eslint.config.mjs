// Lint: typescript-eslint's recommended rules, plus Nx module boundaries so that the
// architecture holds by construction (docs/architecture.md, "Boundaries").
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const INFRA_PACKAGES = ['kafkajs', 'ioredis', '@nestjs/*', 'express', 'pino', 'prom-client', 'nodemailer', 'undici'];

const BOUNDARIES = {
  // An app imports its own domain folder (a nested Nx project) by relative path.
  allow: ['./domain/*', '../domain/*', './domain', '../domain', '../../domain/*'],
  depConstraints: [
    // Pure domain code: no Kafka, Redis, Nest, HTTP, logging or metrics; only contracts.
    {
      sourceTag: 'type:domain',
      onlyDependOnLibsWithTags: ['type:contracts', 'type:domain'],
      bannedExternalImports: INFRA_PACKAGES,
    },
    { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts'], bannedExternalImports: INFRA_PACKAGES },
    { sourceTag: 'type:sdk', onlyDependOnLibsWithTags: ['type:contracts'] },
    { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:contracts'] },
    { sourceTag: 'type:platform', onlyDependOnLibsWithTags: ['type:contracts', 'type:platform', 'type:testing'] },
    {
      sourceTag: 'type:app',
      onlyDependOnLibsWithTags: ['type:contracts', 'type:platform', 'type:domain', 'type:sdk', 'type:testing'],
    },
    { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['*'] },
    { sourceTag: 'type:test', onlyDependOnLibsWithTags: ['*'] },
  ],
};

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.cache/**', '.nx/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': ['error', { allow: ['warn', 'error'] }],
      '@nx/enforce-module-boundaries': ['error', BOUNDARIES],
    },
  },
  {
    // Domain code takes time as a parameter: no reading the clock.
    files: ['apps/*/src/domain/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'domain code takes time as a parameter' }],
      'no-restricted-syntax': [
        'error',
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'domain code takes time as a parameter' },
      ],
    },
  },
  {
    // The system tests drive the whole product and reach into the apps' and tools' sources on
    // purpose (decode paths for fuzzing, the demo launcher); nothing imports them.
    files: ['test/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': ['error', { ...BOUNDARIES, allow: [...BOUNDARIES.allow, '../../tools/src/**', '../../apps/**'] }],
    },
  },
  {
    files: ['**/*.spec.ts', 'bench/**/*.ts', 'tools/**/*.ts', 'test/**/*.ts'],
    rules: { 'no-console': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
