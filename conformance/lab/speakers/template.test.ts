import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadFixture } from '../fixture/load.ts';
import { emptyNode } from '../model.ts';
import { nodeVariables, renderTemplate, TemplateError } from './template.ts';

describe('speaker config templates', () => {
  it('fills names, repeats sections per item, renders inverted sections when false, drops standalone tag lines', () => {
    const text = ['as {{asn}}', '{{#neighbors}}', 'nb {{address}} {{#multihop}}hops {{multihop}}{{/multihop}}{{^multihop}}direct{{/multihop}}', '{{/neighbors}}', '{{#tags}}[{{.}}]{{/tags}}'].join('\n');
    const out = renderTemplate(text, { asn: 65000, neighbors: [{ address: '10.0.0.1', multihop: 2 }, { address: '10.0.0.2', multihop: false }], tags: ['a', 'b'] }, 't.tmpl');
    expect(out).toBe('as 65000\nnb 10.0.0.1 hops 2\nnb 10.0.0.2 direct\n[a][b]');
  });

  it('a typo or an unbalanced section names the file and line instead of rendering an empty config', () => {
    expect(() => renderTemplate('a\n{{asm}}', { asn: 1 }, 'acme.tmpl')).toThrow(/acme.tmpl:2: \{\{asm\}\} is not a template variable here \(known: asn\)/);
    expect(() => renderTemplate('{{#neighbors}}\nx', { neighbors: [] }, 'acme.tmpl')).toThrow(/acme.tmpl:1: \{\{#neighbors\}\} is never closed/);
    expect(() => renderTemplate('{{#a}}{{/b}}', { a: true, b: true }, 'acme.tmpl')).toThrow(/\{\{\/b\}\} closes \{\{#a\}\} of line 1/);
    expect(() => renderTemplate('{{neighbors}}', { neighbors: [] }, 'acme.tmpl')).toThrow(/is a list or mapping/);
  });

  it('gives a node its ASN, router id, neighbours, announced prefixes and addresses', () => {
    const fixture = loadFixture('fixtures/seed-000-cilium-two-subnets');
    const node1 = fixture.topology.nodes.find((n) => n.name === 'node1')!;
    const vars = nodeVariables(node1, fixture.topology);
    expect(vars).toMatchObject({
      node: 'node1',
      asn: 65000,
      routerId: '10.0.1.10',
      neighbors: [{ index: 0, address: '192.168.121.16', peerAsn: 65100, ebgp: true, multihop: 2, addPath: false, updateSource: false }],
      announce: [{ prefix: '172.31.254.0/26' }, { prefix: '192.0.2.0/32' }],
      interfaces: [{ name: 'eth1', addresses: [{ cidr: '10.0.1.10/24', address: '10.0.1.10', ipv6: false }] }],
    });
    expect(nodeVariables(emptyNode('bare', 'speaker'), { name: 't', nodes: [], links: [] })).toMatchObject({ asn: 0, routerId: false, neighbors: [] });
  });

  it('the worked example renders for every speaker node of seed-000', () => {
    const file = join(import.meta.dirname, 'examples', 'bird-vendor.conf.tmpl');
    const fixture = loadFixture('fixtures/seed-000-cilium-two-subnets');
    const node2 = fixture.topology.nodes.find((n) => n.name === 'node2')!;
    const out = renderTemplate(readFileSync(file, 'utf8'), nodeVariables(node2, fixture.topology), file);
    expect(out).toContain('router id 10.0.2.10;');
    expect(out).toContain('  neighbor 192.168.121.16 as 65100;\n');
    expect(out).toContain('  multihop 2;\n');
    expect(out).not.toContain('direct;\n  ipv4');
    expect(out).not.toContain('{{');
  });

  it("a neighbour's families, one-way ADD-PATH and extended next hop are variables, rendered by the worked example", () => {
    const file = join(import.meta.dirname, 'examples', 'bird-vendor.conf.tmpl');
    const peerOf = (fixture: string) => {
      const f = loadFixture(`fixtures/${fixture}`);
      const peer = f.topology.nodes.find((n) => n.name === 'peer')!;
      return { vars: nodeVariables(peer, f.topology), out: renderTemplate(readFileSync(file, 'utf8'), nodeVariables(peer, f.topology), file) };
    };
    // IPv4 + IPv6 unicast over the IPv4 session, ADD-PATH offered for sending only.
    const sendOnly = peerOf('field-addpath-ipv6-played-both-peer-send-only');
    expect(sendOnly.vars.neighbors).toMatchObject([
      {
        families: [{ name: 'ipv4-unicast', afi: 'ipv4' }, { name: 'ipv6-unicast', afi: 'ipv6' }],
        ipv4Unicast: true,
        ipv6Unicast: true,
        addPath: false,
        addPathSend: true,
        addPathReceive: false,
        extendedNexthop: false,
      },
    ]);
    expect(sendOnly.out).toContain('  ipv4 { import none; export where source = RTS_STATIC; add paths tx; };\n');
    expect(sendOnly.out).toContain('  ipv6 { import none; export where source = RTS_STATIC; add paths tx; };\n');
    // Receive only, both ways, none: rx, on, nothing.
    expect(peerOf('field-addpath-ipv4-played-send-peer-addpath').out).toContain('RTS_STATIC; add paths on; };');
    const plain = peerOf('field-addpath-ipv4-played-none-peer-default');
    expect(plain.out).toContain('  ipv4 { import none; export where source = RTS_STATIC; };\n');
    expect(plain.out).not.toContain('ipv6 {');
    const node = emptyNode('n', 'speaker');
    node.neighbors = [{ address: '10.0.0.1', asn: 1, addPath: 'receive', extendedNexthop: true }];
    const rx = renderTemplate(readFileSync(file, 'utf8'), nodeVariables(node, { name: 't', nodes: [node], links: [] }), file);
    expect(rx).toContain('RTS_STATIC; add paths rx; extended next hop on; };');
    // The receiving side's extended next hop, as the fixture states it.
    expect(peerOf('field-extended-nexthop-peer-side').out).toContain('RTS_STATIC; extended next hop on; };');
    // An IPv6 announcement goes to the IPv6 static protocol.
    node.announce = ['10.1.0.0/24', 'fd00:1::/64'];
    const announced = renderTemplate(readFileSync(file, 'utf8'), nodeVariables(node, { name: 't', nodes: [node], links: [] }), file);
    expect(announced).toMatch(/protocol static announced4 \{\n  ipv4;\n  route 10\.1\.0\.0\/24 blackhole;\n\}/);
    expect(announced).toMatch(/protocol static announced6 \{\n  ipv6;\n  route fd00:1::\/64 blackhole;\n\}/);
  });

  it('TemplateError is what callers catch', () => {
    expect(() => renderTemplate('{{x}}', {}, 'f')).toThrow(TemplateError);
  });
});
