import { describe, expect, it } from 'vitest';
import { hostOf, parseLadderJsonl, renderLadderSvg, summarizeDecoded } from './ladder.ts';
import { sampleDecodedJsonl } from './testdata/samples.ts';

describe('decoded capture -> ladder messages', () => {
  it('reads the decode JSON Lines and says what each message carried', () => {
    const { messages, problems } = parseLadderJsonl(sampleDecodedJsonl());
    expect(problems).toEqual([]);
    expect(messages.map((m) => `${m.type}: ${m.summary}`)).toEqual([
      'OPEN: AS 65000, hold 9s, id 10.0.1.10; mp ipv4, route-refresh, as4, graceful-restart',
      'OPEN: AS 65100, hold 9s, id 192.168.121.16; mp ipv4, route-refresh, as4, graceful-restart',
      'KEEPALIVE: ',
      'KEEPALIVE: ',
      'UPDATE: +192.0.2.10/32, 192.0.2.11/32; nh 10.0.1.10; path 65000',
      'UPDATE: End-of-RIB ipv4',
      'UPDATE: +10.0.2.0/24; nh 10.0.1.1; path 65100',
      'UPDATE: End-of-RIB ipv4',
      'KEEPALIVE: ',
      'UPDATE: -192.0.2.11/32',
      'NOTIFICATION: Cease / Administrative Shutdown',
    ]);
  });

  it('summarises ADD-PATH, MP_REACH, many prefixes, decode errors and given summaries', () => {
    expect(
      summarizeDecoded({
        type: 'UPDATE',
        update: {
          withdrawn: [],
          nlri: [],
          attributes: { mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::10', 'fe80::1'], nlri: [{ prefix: '2001:db8:100::1/128', pathId: 2 }] }, asPath: [{ type: 'set', asns: [65001, 65002] }] },
        },
      }),
    ).toBe('+2001:db8:100::1/128 id 2; nh 2001:db8::10 fe80::1; path {65001 65002}');
    const nlri = Array.from({ length: 7 }, (_, i) => ({ prefix: `20.0.10.${i}/32` }));
    expect(summarizeDecoded({ type: 'UPDATE', update: { withdrawn: [], nlri, attributes: {} } })).toBe('+20.0.10.0/32, 20.0.10.1/32, 20.0.10.2/32 (+4 more)');
    expect(summarizeDecoded({ type: 'UPDATE', update: { withdrawn: [], nlri: [], attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [] } } } })).toBe('End-of-RIB ipv6');
    expect(summarizeDecoded({ type: 'UPDATE', error: 'UPDATE: attribute length error' })).toBe('UPDATE: attribute length error');
    expect(summarizeDecoded({ type: 'NOTIFICATION', notification: { code: 3, subcode: 1, data: '' } })).toBe('UPDATE Message Error / subcode 1');
    expect(summarizeDecoded({ type: 'OPEN', summary: 'given' })).toBe('given');
  });

  it('keeps going past bad lines and names them', () => {
    const lines = ['{"ts": 1, "src": "10.0.1.10:179", "dst": "10.0.1.1:40000", "type": "KEEPALIVE"}', '{oops', '[1]', '{"ts": "x", "src": "a", "dst": "b", "type": "OPEN"}', ''];
    const { messages, problems } = parseLadderJsonl(lines.join('\n'), 'pcaps/r.jsonl');
    expect(messages).toHaveLength(1);
    expect(problems).toEqual(['pcaps/r.jsonl:2: not JSON', 'pcaps/r.jsonl:3: not a JSON object', 'pcaps/r.jsonl:4: field ts: expected a number of seconds']);
  });

  it('groups endpoints by address, IPv6 included', () => {
    expect(hostOf('10.0.1.10:40412')).toBe('10.0.1.10');
    expect(hostOf('[2001:db8::1]:179')).toBe('2001:db8::1');
  });
});

describe('renderLadderSvg', () => {
  const { messages } = parseLadderJsonl(sampleDecodedJsonl());

  it('draws one lifeline per address and one arrow per message in time order, with relative times', () => {
    const svg = renderLadderSvg([...messages].reverse(), { names: { '10.0.1.1': 'router' } });
    expect(svg.match(/<g class="lifeline"/g)).toHaveLength(2);
    expect(svg).toContain('data-host="10.0.1.10"');
    expect(svg).toContain('>router</text>');
    const types = [...svg.matchAll(/<g class="msg [a-z]+" data-type="([A-Z-]+)"/g)].map((m) => m[1]);
    expect(types).toEqual(messages.map((m) => m.type));
    const times = [...svg.matchAll(/class="time">\+([\d.]+)</g)].map((m) => Number(m[1]));
    expect(times[0]).toBe(0);
    expect(times.at(-1)).toBeCloseTo(5.901, 3);
    // Arrows go left (node -> router) and right (router -> node).
    const arrows = [...svg.matchAll(/<line x1="([\d.]+)" y1="[\d.]+" x2="([\d.]+)" y2="[\d.]+" marker-end/g)].map((m) => Math.sign(Number(m[2]) - Number(m[1])));
    expect(arrows.slice(0, 2)).toEqual([1, -1]);
  });

  it('caps the rows it draws and says how many it left out', () => {
    const many = Array.from({ length: 30 }, (_, i) => ({ ts: i, src: '10.0.1.10:1', dst: '10.0.1.1:179', type: 'KEEPALIVE', summary: '' }));
    const svg = renderLadderSvg(many, { maxMessages: 10 });
    expect(svg.match(/<g class="msg /g)).toHaveLength(10);
    expect(svg).toContain('20 more messages not drawn');
  });

  it('escapes what the capture says', () => {
    const svg = renderLadderSvg([{ ts: 0, src: '1.1.1.1:1', dst: '2.2.2.2:179', type: 'UNKNOWN', summary: '<script>alert(1)</script>' }]);
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('&lt;script&gt;');
  });
});
