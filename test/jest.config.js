// e2e: the whole pipeline; fuzz: decode paths, HTTP endpoints and Kafka junk; faults: the fault suite's CI smoke.
module.exports = require('../jest.preset')(__dirname, {
  testMatch: ['<rootDir>/e2e/**/*.spec.ts', '<rootDir>/fuzz/**/*.spec.ts', '<rootDir>/faults/**/*.spec.ts'],
  testTimeout: 600_000,
});
