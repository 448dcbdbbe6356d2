#!/usr/bin/env node
import { resolve } from 'node:path';
import { ConfigError } from '@vigil/runtime';
import { demoMain } from './demo';
import { deployCheckMain } from './deploy';
import { faultsMain } from './faults';
import { infraMain } from './infra/cli';
import { InfraError } from './infra/proc';
import { sigmaMain } from './sigma';
import { standinsMain } from './standins';
import { verifyMain } from './verify';

const ROOT = resolve(__dirname, '..', '..');

async function main(argv: string[]): Promise<number> {
  const [group, ...rest] = argv;
  switch (group) {
    case 'infra':
      return infraMain(ROOT, rest);
    case 'demo':
      return demoMain(ROOT, rest);
    case 'standins':
      return standinsMain(rest);
    case 'verify':
      return verifyMain(rest);
    case 'sigma':
      return sigmaMain(rest);
    case 'deploy-check':
      return deployCheckMain(ROOT, rest);
    case 'faults':
      return faultsMain(ROOT, rest);
    default:
      process.stderr.write(
        'usage: vigil-tools <infra up|down|status|topics|reset|run | demo [--once] | verify <file...> --key-file <f> | sigma import <folder> [--out <dir>] [--mapping <file>]>\n',
      );
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof InfraError || err instanceof ConfigError) {
      process.stderr.write(`error: ${err.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
