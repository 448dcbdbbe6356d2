import type { IncomingMessage, ServerResponse } from 'node:http';
import { startHttp, type Handler, type RunningServer } from '../http';

/** A failure the next requests get instead of the real answer. */
export interface InjectedFault {
  status: number;
  /** Sent as Retry-After (seconds). */
  retryAfterSeconds?: number;
  /** Raw body; defaults to the stand-in's own error body for that status. */
  body?: string;
  contentType?: string;
}

/** Test controls every stand-in offers. */
export interface FaultControls {
  /** The next `n` requests get `fault` (after authentication and validation pass). */
  failNext(n: number, fault: InjectedFault): void;
  /** Forgets the faults not yet answered: a time-boxed outage ends (fault tests). */
  clearFaults(): void;
  /** Down: the port stops listening (connection refused). Up: it listens again on the same port. */
  setDown(down: boolean): Promise<void>;
  /** Requests answered with an injected fault so far. */
  readonly faulted: number;
  /** When each injected fault was answered (epoch ms), to check how long a client waited. */
  readonly faultedAt: readonly number[];
}

/**
 * An HTTP server on a fixed port that can be taken down and brought back, and that answers a
 * queue of injected faults before the real handler: the base of every stand-in.
 */
export class RestartableServer implements FaultControls {
  private server: RunningServer | null = null;
  private readonly faults: InjectedFault[] = [];
  readonly faultedAt: number[] = [];
  port = 0;

  constructor(
    private readonly handler: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void | Promise<void>,
    private readonly maxBody = 1024 * 1024,
  ) {}

  async start(port = 0): Promise<void> {
    const h: Handler = (req, res, body) => this.handler(req, res, body);
    this.server = await startHttp(h, { port, maxBody: this.maxBody });
    this.port = this.server.port;
  }

  /** For handlers: takes the next injected fault, if any (call once the request is known to be valid). */
  takeFault(): InjectedFault | null {
    const f = this.faults.shift() ?? null;
    if (f) this.faultedAt.push(Date.now());
    return f;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get faulted(): number {
    return this.faultedAt.length;
  }

  failNext(n: number, fault: InjectedFault): void {
    for (let i = 0; i < n; i++) this.faults.push({ ...fault });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  async setDown(down: boolean): Promise<void> {
    if (down && this.server) {
      await this.server.close();
      this.server = null;
    } else if (!down && !this.server) {
      await this.start(this.port);
    }
  }

  async close(): Promise<void> {
    await this.server?.close();
    this.server = null;
  }
}

/** What every stand-in built on a RestartableServer exposes, read live from it. */
export interface ServerControls extends FaultControls {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * A stand-in's address and test controls, delegating to its server. Stand-ins add their own fields
 * with Object.assign (plain values: the address is fixed once the server has started).
 */
export function serverControls(server: RestartableServer): ServerControls {
  return {
    get url() {
      return server.url;
    },
    get port() {
      return server.port;
    },
    get faulted() {
      return server.faulted;
    },
    faultedAt: server.faultedAt,
    failNext: (n, f) => server.failNext(n, f),
    clearFaults: () => server.clearFaults(),
    setDown: (d) => server.setDown(d),
    close: () => server.close(),
  };
}

/** Writes an injected fault: its status, Retry-After, and the given or default body. */
export function writeFault(res: ServerResponse, fault: InjectedFault, defaultBody: string, defaultType: string): void {
  const body = fault.body ?? defaultBody;
  res.writeHead(fault.status, {
    'Content-Type': fault.contentType ?? defaultType,
    'Content-Length': Buffer.byteLength(body),
    ...(fault.retryAfterSeconds !== undefined ? { 'Retry-After': String(fault.retryAfterSeconds) } : {}),
  });
  res.end(body);
}
