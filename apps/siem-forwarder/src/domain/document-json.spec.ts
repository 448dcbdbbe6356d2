import { alertDocument, eventDocument } from '@vigil/schema-mapping';
import { esDocument, bulkCreateLines, indexName, parseIndexPattern, type EsFormat } from './elasticsearch';
import { alertItem, eventItem } from './fixtures';
import { documentJson, type Forwardable } from './forwardable';
import { epochSeconds, hecEvent, type SplunkFormat } from './splunk';

// Splunk's and Elasticsearch's Vigil shape splice the item's own JSON (made once per item) into
// their envelopes. These cases hold the spliced text to the text the plain objects give, byte for
// byte, over the shapes that could tell them apart: escapes, non-ASCII, absent optional members.

function pattern(text: string) {
  const r = parseIndexPattern(text);
  if (!r.ok) throw new Error(r.problem);
  return r.pattern;
}

const items: Array<[string, () => Forwardable]> = [
  ['an ordinary event', () => eventItem()],
  [
    'an event with quotes, backslashes, control and line-separator characters',
    () =>
      eventItem({ action: 'a "quoted" \\ back\nslash\u2028x', details: { 'k"ey': '\u0000\u001f', nested: { list: [1, 'two', null] } } }),
  ],
  ['an event with non-ASCII text and an emoji', () => eventItem({ action: 'connexión 登录 🔐', tags: ['ünïcode'] })],
  ['an event without actor, target or optional source fields', () => eventItem({ actor: undefined, source: { application: 'app' } })],
  ['an alert', () => alertItem()],
  ['an alert without action or distinct count', () => alertItem({ action: undefined, distinct_count: undefined })],
];

const SPLUNK: SplunkFormat = {
  index: 'security',
  source: 'vigil',
  sourcetype: 'vigil:event',
  alertSourcetype: 'vigil:alert',
  format: 'vigil',
};

/** The HEC event as one object, the way it was written before the JSON was shared. */
function hecObject(item: Forwardable, f: SplunkFormat): string {
  const isEvent = item.kind === 'event';
  const host = f.host ?? (isEvent ? item.event.source.hostname : undefined);
  const index = isEvent ? f.index : (f.alertIndex ?? f.index);
  return JSON.stringify({
    time: epochSeconds(item.timeMs),
    ...(host ? { host } : {}),
    source: f.source,
    sourcetype: isEvent ? f.sourcetype : f.alertSourcetype,
    ...(index ? { index } : {}),
    event: isEvent ? eventDocument(item.event, 'vigil') : alertDocument(item.alert, 'vigil'),
  });
}

describe('the item JSON shared by the sinks', () => {
  const es: EsFormat = { index: pattern('vigil-events-{yyyy.MM.dd}'), alertIndex: pattern('vigil-alerts-{yyyy.MM}'), format: 'vigil' };

  it.each(items)('%s: the HEC event is the text of the whole object', (_, make) => {
    expect(hecEvent(make(), SPLUNK)).toBe(hecObject(make(), SPLUNK));
    const bare = { ...SPLUNK, index: undefined, host: undefined };
    expect(hecEvent(make(), bare)).toBe(hecObject(make(), bare));
  });

  it.each(items)('%s: the bulk document is the text of esDocument', (_, make) => {
    const item = make();
    const index = indexName(item.kind === 'event' ? es.index : es.alertIndex, item.timeMs);
    const expected = `${JSON.stringify({ create: { _index: index, _id: item.id } })}\n${JSON.stringify(esDocument(item, 'vigil'))}\n`;
    expect(bulkCreateLines(item, es)).toBe(expected);
  });

  it('is made once per item and used by both sinks', () => {
    const item = eventItem();
    const stringify = jest.spyOn(JSON, 'stringify');
    try {
      hecEvent(item, SPLUNK);
      bulkCreateLines(item, es);
      // Any object carrying the event's id is a stringify of the event (or a copy of it).
      const ofTheEvent = stringify.mock.calls.filter(([v]) => typeof v === 'object' && v !== null && 'event_id' in v);
      expect(ofTheEvent).toHaveLength(1);
      expect(ofTheEvent[0]![0]).toBe(item.kind === 'event' ? item.event : null);
    } finally {
      stringify.mockRestore();
    }
    expect(item.json).toBe(documentJson(item));
  });

  it('other shapes (ECS, OCSF) are made from their own objects', () => {
    const item = eventItem();
    expect(JSON.parse(hecEvent(item, { ...SPLUNK, format: 'ecs' })).event).toEqual(
      JSON.parse(JSON.stringify(eventDocument(item.kind === 'event' ? item.event : (null as never), 'ecs'))),
    );
    expect(bulkCreateLines(item, { ...es, format: 'ocsf' }).split('\n')[1]).toBe(JSON.stringify(esDocument(item, 'ocsf')));
  });
});
