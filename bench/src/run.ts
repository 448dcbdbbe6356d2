/**
 * `./vigil bench [name...]`: runs the named benchmarks (all by default) one after another against
 * the local Kafka and Redis, each printing its figures and ratios.
 */
type Bench = { name: string; run: () => Promise<void> };

const BENCHES: Bench[] = [
  { name: 'soar', run: () => import('./soar').then((m) => m.run()) },
  { name: 'ingest', run: () => import('./ingest').then((m) => m.run()) },
  { name: 'router', run: () => import('./router').then((m) => m.run()) },
  { name: 'correlation', run: () => import('./correlation').then((m) => m.run()) },
  { name: 'forwarder', run: () => import('./forwarder').then((m) => m.run()) },
  { name: 'pipeline', run: () => import('./pipeline').then((m) => m.run()) },
  { name: 'latency', run: () => import('./latency').then((m) => m.run()) },
  { name: 'consumer', run: () => import('./consumer').then((m) => m.run()) },
  { name: 'profile', run: () => import('./profile').then((m) => m.run()) },
  { name: 'interop', run: () => import('./interop').then((m) => m.run()) },
  { name: 'idle', run: () => import('./idle').then((m) => m.run()) },
  // Each benchmark module registers here: { name: 'ingest', run: () => import('./ingest').then((m) => m.run()) },
];

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const chosen = wanted.length ? BENCHES.filter((b) => wanted.includes(b.name)) : BENCHES;
  if (wanted.length && chosen.length !== wanted.length) {
    throw new Error(`unknown benchmark; available: ${BENCHES.map((b) => b.name).join(', ')}`);
  }
  for (const b of chosen) {
    console.log(`\n### ${b.name}`);
    await b.run();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
