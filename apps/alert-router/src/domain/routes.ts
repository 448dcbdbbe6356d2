import { z } from 'zod';
import { parseDuration } from './duration';
import { GROUP_LABEL_PREFIX, labelValue, type AlertLabels } from './labels';
import { matchesAll, parseMatcher, type Matcher } from './matchers';

/** Defaults of the root route (Alertmanager's): every route inherits what it does not set. */
export const ROUTE_DEFAULTS = {
  groupWaitMs: 30_000, // 30 s: wait for the rest of a burst before the first notification
  groupIntervalMs: 300_000, // 5 min: at most one notification per group this often
  repeatIntervalMs: 14_400_000, // 4 h: re-send an unchanged, still-firing group
} as const;

export const MAX_ROUTE_DEPTH = 16;
export const MAX_ROUTES = 1_000;

/** `...` groups by every label (one group per alert); `group.*` by every group value of the alert. */
export const GROUP_BY_ALL = '...';
export const GROUP_BY_GROUP_VALUES = 'group.*';

const DurationText = z.string().refine((v) => parseDuration(v) !== null, {
  message: 'must be a duration such as 30s, 5m, 4h or 1h30m',
});
const MatcherText = z.string().superRefine((v, ctx) => {
  const r = parseMatcher(v);
  if (!r.ok) ctx.addIssue({ code: 'custom', message: r.error });
});
const ReceiverName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be 1-64 of A-Z a-z 0-9 _ . - (starting alphanumeric)');
const GroupByLabel = z.string().regex(/^(\.\.\.|group\.\*|[A-Za-z_][A-Za-z0-9_.-]{0,255})$/, 'must be a label name, "group.*" or "..."');

/** A route as written in the routes file. */
export interface RouteSpec {
  name?: string | undefined;
  matchers?: string[] | undefined;
  receiver?: string | undefined;
  receivers?: string[] | undefined;
  group_by?: string[] | undefined;
  group_wait?: string | undefined;
  group_interval?: string | undefined;
  repeat_interval?: string | undefined;
  continue?: boolean | undefined;
  routes?: RouteSpec[] | undefined;
}

export const RouteSpecSchema: z.ZodType<RouteSpec> = z.lazy(() =>
  z.strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be 1-64 of A-Z a-z 0-9 _ . -')
      .optional(),
    matchers: z.array(MatcherText).max(32).optional(),
    receiver: ReceiverName.optional(),
    receivers: z.array(ReceiverName).min(1).max(16).optional(),
    group_by: z.array(GroupByLabel).max(32).optional(),
    group_wait: DurationText.optional(),
    group_interval: DurationText.optional(),
    repeat_interval: DurationText.optional(),
    continue: z.boolean().optional(),
    routes: z.array(RouteSpecSchema).max(100).optional(),
  }),
);

export const InhibitRuleSpecSchema = z.strictObject({
  source_matchers: z.array(MatcherText).min(1).max(32),
  target_matchers: z.array(MatcherText).min(1).max(32),
  /** Labels that must carry the same value on source and target (e.g. the group values). */
  equal: z
    .array(z.string().regex(/^(group\.\*|[A-Za-z_][A-Za-z0-9_.-]{0,255})$/, 'must be a label name or "group.*"'))
    .max(32)
    .default([]),
});
export type InhibitRuleSpec = z.infer<typeof InhibitRuleSpecSchema>;

export type GroupBy = { kind: 'all' } | { kind: 'labels'; labels: readonly string[]; groupValues: boolean };

/** A resolved route: every option filled in from its ancestors. */
export interface Route {
  /** Stable identity: the route's name, else its position ("root", "root.0", "root.0.2"). */
  readonly id: string;
  readonly matchers: readonly Matcher[];
  readonly receivers: readonly string[];
  readonly groupBy: GroupBy;
  readonly groupWaitMs: number;
  readonly groupIntervalMs: number;
  readonly repeatIntervalMs: number;
  readonly continue: boolean;
  readonly routes: readonly Route[];
}

export interface RouteProblem {
  /** Path inside the routes file, e.g. "route.routes[1].receiver". */
  path: string;
  message: string;
}

function parseGroupBy(labels: readonly string[]): GroupBy {
  if (labels.includes(GROUP_BY_ALL)) return { kind: 'all' };
  return { kind: 'labels', labels: labels.filter((l) => l !== GROUP_BY_GROUP_VALUES), groupValues: labels.includes(GROUP_BY_GROUP_VALUES) };
}

/**
 * Turns the validated spec into a tree with inherited options, checking what a schema cannot:
 * receivers that exist, no matchers on the root, unique names, bounded size and depth.
 */
export function buildRouteTree(
  spec: RouteSpec,
  receiverNames: ReadonlySet<string>,
): { ok: true; route: Route } | { ok: false; problems: RouteProblem[] } {
  const problems: RouteProblem[] = [];
  const names = new Set<string>();
  let count = 0;

  if (spec.matchers && spec.matchers.length > 0)
    problems.push({ path: 'route.matchers', message: 'the root route matches every alert and may not have matchers' });

  const build = (s: RouteSpec, path: string, id: string, parent: Route | null, depth: number): Route => {
    count++;
    if (depth > MAX_ROUTE_DEPTH) problems.push({ path, message: `routes nest deeper than ${MAX_ROUTE_DEPTH} levels` });
    if (s.receiver && s.receivers) problems.push({ path, message: 'set receiver or receivers, not both' });
    const receivers = s.receivers ?? (s.receiver ? [s.receiver] : (parent?.receivers ?? []));
    if (!parent && receivers.length === 0)
      problems.push({ path: `${path}.receiver`, message: 'the root route needs a receiver (every alert must reach someone)' });
    (s.receivers ?? (s.receiver ? [s.receiver] : [])).forEach((r, i) => {
      if (!receiverNames.has(r))
        problems.push({
          path: s.receivers ? `${path}.receivers[${i}]` : `${path}.receiver`,
          message: `receiver "${r}" is not defined in receivers`,
        });
    });
    if (s.name) {
      if (names.has(s.name)) problems.push({ path: `${path}.name`, message: `route name "${s.name}" is used twice` });
      names.add(s.name);
    }
    const matchers: Matcher[] = [];
    for (const text of s.matchers ?? []) {
      const m = parseMatcher(text);
      if (m.ok) matchers.push(m.value);
    }
    const groupIntervalMs = s.group_interval
      ? parseDuration(s.group_interval)!
      : (parent?.groupIntervalMs ?? ROUTE_DEFAULTS.groupIntervalMs);
    const repeatIntervalMs = s.repeat_interval
      ? parseDuration(s.repeat_interval)!
      : (parent?.repeatIntervalMs ?? ROUTE_DEFAULTS.repeatIntervalMs);
    if (groupIntervalMs < 1) problems.push({ path: `${path}.group_interval`, message: 'must be longer than zero' });
    if (repeatIntervalMs < 1) problems.push({ path: `${path}.repeat_interval`, message: 'must be longer than zero' });
    const partial = {
      id: s.name ?? id,
      matchers,
      receivers,
      groupBy: s.group_by ? parseGroupBy(s.group_by) : (parent?.groupBy ?? { kind: 'labels' as const, labels: [], groupValues: false }),
      groupWaitMs: s.group_wait ? parseDuration(s.group_wait)! : (parent?.groupWaitMs ?? ROUTE_DEFAULTS.groupWaitMs),
      groupIntervalMs,
      repeatIntervalMs,
      continue: s.continue ?? false,
      routes: [] as Route[],
    };
    if (count > MAX_ROUTES) {
      problems.push({ path, message: `more than ${MAX_ROUTES} routes` });
      return partial;
    }
    (s.routes ?? []).forEach((child, i) => partial.routes.push(build(child, `${path}.routes[${i}]`, `${id}.${i}`, partial, depth + 1)));
    return partial;
  };

  const route = build(spec, 'route', 'root', null, 1);
  if (spec.continue) problems.push({ path: 'route.continue', message: 'the root route cannot continue' });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, route };
}

/**
 * The routes an alert goes to, depth-first (Alertmanager's Route.Match): a route that matches
 * hands the alert to its first matching child, and to later siblings too when that child has
 * `continue: true`; when no child matches, the route itself takes the alert.
 */
export function matchRoutes(route: Route, labels: AlertLabels): Route[] {
  if (!matchesAll(route.matchers, labels)) return [];
  const all: Route[] = [];
  for (const child of route.routes) {
    const hits = matchRoutes(child, labels);
    all.push(...hits);
    if (hits.length > 0 && !child.continue) break;
  }
  return all.length > 0 ? all : [route];
}

/** The label values that identify an alert's group on a route, sorted by name. */
export function groupLabels(route: Route, labels: AlertLabels): Record<string, string> {
  const out: Record<string, string> = {};
  if (route.groupBy.kind === 'all') {
    for (const [k, v] of Object.entries(labels.values)) out[k] = v;
    if (labels.tags.length > 0) out.tag = [...labels.tags].sort().join(',');
  } else {
    for (const name of route.groupBy.labels) out[name] = name === 'tag' ? [...labels.tags].sort().join(',') : labelValue(labels, name);
    if (route.groupBy.groupValues) {
      for (const [k, v] of Object.entries(labels.values)) if (k.startsWith(GROUP_LABEL_PREFIX)) out[k] = v;
    }
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Walks the tree (pre-order): for listing routes and checking the config. */
export function allRoutes(route: Route): Route[] {
  return [route, ...route.routes.flatMap(allRoutes)];
}
