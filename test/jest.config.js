module.exports = require('../jest.preset')(__dirname, { testMatch: ['<rootDir>/e2e/**/*.spec.ts'], testTimeout: 600_000 });
