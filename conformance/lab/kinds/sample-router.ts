// A router node with one eBGP neighbour and one iBGP route-reflector client with ADD-PATH, and a
// prefix of its own: the sample the kinds' rendering tests start from.
import { emptyNode, type LabNode, type NodeKindName } from '../model.ts';

export function sampleRouter(kind: NodeKindName, name = 'r'): LabNode {
  const n = emptyNode(name, kind);
  n.asn = 65005;
  n.routerId = '10.1.5.1';
  n.neighbors = [
    { address: '10.1.10.1', asn: 500 },
    { address: '10.1.5.10', asn: 65005, rrClient: true, addPath: true },
  ];
  n.announce = ['10.98.0.0/24'];
  return n;
}
