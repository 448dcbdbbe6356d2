import { silentLogger } from '@vigil/runtime';
import { freshTopics, produceRaw, testKafka, uniqueName } from '@vigil/testing';
import { unreadSpill } from '../src/read-position';

jest.setTimeout(60_000);

// What a per-sink start reports about the spill topic, on a real broker: records a shared-reading
// spill group has not read back, and nothing for groups that never read that topic.
describe('unread spilled records at a per-sink start', () => {
  it('counts what each spill group has not read, per partition, and skips groups that never read the topic', async () => {
    const { topics } = await freshTopics(2, ['forwardSpill']);
    const spill = topics.forwardSpill;
    await produceRaw(spill, ['a', 'b', 'c'], 'k1');
    await produceRaw(spill, ['d', 'e'], 'k2');
    const admin = testKafka().admin();
    await admin.connect();
    try {
      const ends = await admin.fetchTopicOffsets(spill);
      const partitions = ends.filter((e) => Number(e.high) > 0);
      expect(partitions.reduce((n, e) => n + Number(e.high), 0)).toBe(5);
      const behind = uniqueName('spill-behind');
      const caughtUp = uniqueName('spill-caught-up');
      const never = uniqueName('spill-never');
      // One group has read one record of each partition; one has read everything.
      await admin.setOffsets({
        groupId: behind,
        topic: spill,
        partitions: partitions.map((e) => ({ partition: e.partition, offset: '1' })),
      });
      await admin.setOffsets({
        groupId: caughtUp,
        topic: spill,
        partitions: partitions.map((e) => ({ partition: e.partition, offset: e.high })),
      });

      const existing = await admin.listTopics();
      expect(await unreadSpill(admin, existing, silentLogger(), spill, [behind, caughtUp, never])).toEqual({
        [behind]: 5 - partitions.length,
      });
      expect(await unreadSpill(admin, existing, silentLogger(), `${spill}-absent`, [behind])).toEqual({});
    } finally {
      await admin.disconnect();
    }
  });
});
