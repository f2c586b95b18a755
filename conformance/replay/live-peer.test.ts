import { describe, expect, it } from 'vitest';
import { emptyNode } from '../lab/model.ts';
import { externalDeviceSetup, livePeerLabel, parseLivePeer } from './live-peer.ts';

describe('the live peer of a replay', () => {
  it('parses the forms `peerproof run --speaker` takes, and labels them back', () => {
    for (const value of ['frr', 'gobgp', 'bird', 'openbgpd', 'docker:registry.local/vendor/bgp:1.2', 'external:10.90.0.2', 'external:[fd00::2]:179'])
      expect(livePeerLabel(parseLivePeer(value))).toBe(value);
    expect(parseLivePeer('docker:vendor/bgp:1')).toEqual({ kind: 'docker', image: 'vendor/bgp:1' });
    expect(() => parseLivePeer('quagga')).toThrow('expected frr, gobgp, bird, openbgpd, docker:IMAGE or external:ADDRESS');
    expect(() => parseLivePeer('docker:')).toThrow(/expected/);
  });

  it("tells a device owner what to configure from the fixture's peer node", () => {
    const peer = emptyNode('peer', 'frr');
    Object.assign(peer, { asn: 65002, routerId: '10.90.0.2', interfaces: { eth1: ['10.90.0.2/24'] }, neighbors: [{ address: '10.90.0.1', asn: 65001 }] });
    expect(externalDeviceSetup(peer)).toBe(
      'configure the device with 10.90.0.2/24, AS 65002, router id 10.90.0.2, neighbour 10.90.0.1 AS 65001; the device opens the session (the replay only listens; --connect makes the replay open it)',
    );
    expect(externalDeviceSetup(peer, true)).toMatch(/; the replay opens the session \(the device must accept it on port 179\)$/);
  });
});
