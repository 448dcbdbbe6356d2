import { execFile } from 'node:child_process';
import type { ResponseAction } from '@vigil/contracts';
import { ConnectorError, type ActionRequest, type ActionResult, type Connector } from '../types';
import type { NftConfig } from './config';

export interface NftRun {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  spawnError?: string;
}

/**
 * Runs the binary with an argument array: no shell ever sees the arguments. The environment is
 * passed explicitly so the PATH lookup uses this module's view of it.
 */
export function runFile(binary: string, args: readonly string[], timeoutMs: number): Promise<NftRun> {
  return new Promise((resolve) => {
    execFile(
      binary,
      [...args],
      { timeout: timeoutMs, maxBuffer: 64 * 1024, shell: false, windowsHide: true, env: process.env },
      (err, stdout, stderr) => {
        if (!err) return resolve({ code: 0, stdout, stderr, timedOut: false });
        const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean; signal?: string };
        if (typeof e.code === 'string') return resolve({ code: null, stdout, stderr, timedOut: false, spawnError: e.code });
        resolve({
          code: typeof e.code === 'number' ? e.code : null,
          stdout,
          stderr,
          timedOut: e.killed === true || e.signal === 'SIGTERM',
        });
      },
    );
  });
}

/**
 * nft's answer when the element to delete is not in the set: the unblock's goal already holds.
 * ("No such file or directory" is what a missing table or set gives: a configuration error.)
 */
const ABSENT = /element does not exist/i;
/** Kernel busy or netlink congestion: worth another try. */
const TRANSIENT = /Resource temporarily unavailable|Device or resource busy|Interrupted system call/i;

/**
 * Blocks addresses by adding them to an nftables set (`nft add element <family> <table> <set> { addr timeout Ns }`)
 * and unblocks by deleting them. The target is a validated IP or CIDR, never free text; the set for
 * IPv6 targets is a separate one. Elements carry a kernel timeout when the block has a duration, so
 * the kernel lifts a block even if the undo never runs.
 */
export class NftablesConnector implements Connector {
  readonly name = 'nftables' as const;
  readonly actions: readonly ResponseAction[] = ['block_ip', 'unblock_ip'];

  constructor(
    private readonly config: NftConfig,
    private readonly run: typeof runFile = runFile,
  ) {}

  argsFor(req: Pick<ActionRequest, 'action' | 'target' | 'durationMs'>): string[] {
    const set = req.target.includes(':') ? this.config.setV6 : this.config.setV4;
    const c = this.config;
    if (req.action === 'block_ip') {
      const timeout = req.durationMs !== undefined ? ` timeout ${Math.ceil(req.durationMs / 1000)}s` : '';
      return ['add', 'element', c.family, c.table, set, `{ ${req.target}${timeout} }`];
    }
    return ['delete', 'element', c.family, c.table, set, `{ ${req.target} }`];
  }

  async execute(req: ActionRequest): Promise<ActionResult> {
    if (req.action !== 'block_ip' && req.action !== 'unblock_ip') throw new ConnectorError(`nftables cannot ${req.action}`, false);
    const args = this.argsFor(req);
    const audit = { argv: [this.config.binary, ...args].join(' ') };
    const r = await this.run(this.config.binary, args, this.config.timeoutMs);
    if (r.spawnError) throw new ConnectorError(`cannot run ${this.config.binary}: ${r.spawnError}`, false, audit);
    if (r.timedOut) throw new ConnectorError(`${this.config.binary} gave no answer within ${this.config.timeoutMs} ms`, true, audit);
    if (r.code === 0) return { request: audit, summary: `${req.action === 'block_ip' ? 'added' : 'deleted'} ${req.target}` };
    const err = r.stderr.replace(/\s+/g, ' ').trim().slice(0, 400);
    if (req.action === 'unblock_ip' && ABSENT.test(r.stderr)) {
      return { request: audit, summary: `${req.target} was not in the set` };
    }
    throw new ConnectorError(`nft exited ${r.code}: ${err}`, TRANSIENT.test(r.stderr), audit);
  }
}
