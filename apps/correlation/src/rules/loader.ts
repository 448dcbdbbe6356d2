import { watch, type FSWatcher } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Logger } from '@vigil/runtime';
import { compileRuleSet, formatRuleError, type CompileResult, type RuleError, type RuleSet, type RuleSource } from '../domain/compile';
import type { CorrelationMetrics } from '../metrics';

export const RULE_FILE_RE = /\.(ya?ml|json)$/i;
/** Bounds on what a rules folder may hold. */
export const MAX_RULE_FILES = 500;
export const MAX_RULE_FILE_BYTES = 1024 * 1024;

/** Reads and parses every .yaml/.yml/.json file of a folder (not recursive), in name order. */
export async function readRuleSources(dir: string): Promise<{ sources: RuleSource[]; errors: RuleError[] }> {
  const sources: RuleSource[] = [];
  const errors: RuleError[] = [];
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => RULE_FILE_RE.test(n) && !n.startsWith('.')).sort();
  } catch (err) {
    return {
      sources,
      errors: [
        {
          file: dir,
          rule: '(folder)',
          field: '',
          message: `cannot read the rules folder: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
        },
      ],
    };
  }
  if (names.length === 0) errors.push({ file: dir, rule: '(folder)', field: '', message: 'holds no .yaml, .yml or .json rule file' });
  if (names.length > MAX_RULE_FILES) {
    errors.push({
      file: dir,
      rule: '(folder)',
      field: '',
      message: `holds ${names.length} rule files, over the limit of ${MAX_RULE_FILES}`,
    });
    return { sources, errors };
  }
  for (const name of names) {
    const file = join(dir, name);
    try {
      const info = await stat(file);
      if (!info.isFile()) continue;
      if (info.size > MAX_RULE_FILE_BYTES) {
        errors.push({ file, rule: '(file)', field: '', message: `is ${info.size} bytes, over the ${MAX_RULE_FILE_BYTES}-byte limit` });
        continue;
      }
      const text = await readFile(file, 'utf8');
      // maxAliasCount bounds alias expansion ("billion laughs"); uniqueKeys refuses a key given twice.
      const document: unknown = /\.json$/i.test(name) ? JSON.parse(text) : parseYaml(text, { maxAliasCount: 100, uniqueKeys: true });
      sources.push({ file, document });
    } catch (err) {
      const message = err instanceof Error ? err.message.split('\n')[0]!.slice(0, 300) : String(err);
      errors.push({ file, rule: '(file)', field: '', message: `cannot be parsed: ${message}` });
    }
  }
  return { sources, errors };
}

/** Reads, validates and compiles a rules folder. */
export async function loadRules(dir: string): Promise<CompileResult> {
  const { sources, errors } = await readRuleSources(dir);
  const compiled = compileRuleSet(sources);
  if (errors.length === 0) return compiled;
  return { ok: false, errors: [...errors, ...(compiled.ok ? [] : compiled.errors)] };
}

/** Thrown at start-up when the rules are invalid; the message lists every problem, one per line. */
export class RuleLoadError extends Error {
  constructor(readonly errors: readonly RuleError[]) {
    super(`invalid rules:\n${errors.map((e) => `  ${formatRuleError(e)}`).join('\n')}`);
    this.name = 'RuleLoadError';
  }
}

/**
 * The rules in force. Loaded once at start (invalid rules stop start-up); reloaded on SIGHUP and
 * when a file in the folder changes. A reload that fails validation keeps the rules in force and
 * logs every problem, so a typo in production never disables detection.
 */
export class RuleRegistry {
  private watcher: FSWatcher | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private readonly onHup = () => void this.reload('SIGHUP');
  private reloading: Promise<boolean> | null = null;

  private constructor(
    readonly dir: string,
    private ruleSet: RuleSet,
    private readonly logger: Logger,
    private readonly metrics: CorrelationMetrics,
  ) {
    metrics.rulesLoaded.set(ruleSet.rules.length);
  }

  static async load(dir: string, logger: Logger, metrics: CorrelationMetrics): Promise<RuleRegistry> {
    const r = await loadRules(dir);
    if (!r.ok) throw new RuleLoadError(r.errors);
    logger.info({ dir, rules: r.ruleSet.rules.map((x) => x.id), disabled: r.ruleSet.ids.length - r.ruleSet.rules.length }, 'rules loaded');
    return new RuleRegistry(dir, r.ruleSet, logger, metrics);
  }

  get current(): RuleSet {
    return this.ruleSet;
  }

  /** Reloads now; resolves true when the new rules are in force. Concurrent calls share one reload. */
  reload(reason: string): Promise<boolean> {
    if (!this.reloading) {
      this.reloading = this.doReload(reason).finally(() => {
        this.reloading = null;
      });
    }
    return this.reloading;
  }

  private async doReload(reason: string): Promise<boolean> {
    const r = await loadRules(this.dir);
    if (!r.ok) {
      this.metrics.ruleReloads.inc({ outcome: 'rejected' });
      this.logger.error({ reason, errors: r.errors.map(formatRuleError) }, 'rule reload failed; keeping the rules in force');
      return false;
    }
    this.ruleSet = r.ruleSet;
    this.metrics.ruleReloads.inc({ outcome: 'applied' });
    this.metrics.rulesLoaded.set(r.ruleSet.rules.length);
    this.logger.info({ reason, rules: r.ruleSet.rules.map((x) => x.id) }, 'rules reloaded');
    return true;
  }

  /** Reload on SIGHUP, and on file changes in the folder (debounced: editors write in several steps). */
  startWatching(opts: { files: boolean; debounceMs?: number }): void {
    process.on('SIGHUP', this.onHup);
    if (!opts.files) return;
    try {
      this.watcher = watch(this.dir, { persistent: false }, () => {
        if (this.debounce) clearTimeout(this.debounce);
        this.debounce = setTimeout(() => void this.reload('file change'), opts.debounceMs ?? 250);
      });
      this.watcher.on('error', (err) => this.logger.warn({ err: err.message }, 'rules folder watch failed; SIGHUP still reloads'));
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'cannot watch the rules folder; SIGHUP still reloads');
    }
  }

  stop(): void {
    process.off('SIGHUP', this.onHup);
    this.watcher?.close();
    this.watcher = null;
    if (this.debounce) clearTimeout(this.debounce);
  }
}
