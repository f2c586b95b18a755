import { describe, expect, it } from 'vitest';
import { parsePlainDecode } from './decode-args.ts';

describe('parsePlainDecode: the command lines the prebuilt decode runs without commander', () => {
  it.each([
    [['decode', 'a.pcap'], { file: 'a.pcap', opts: { format: 'table' } }],
    [['decode', 'a.pcap', '--format', 'jsonl'], { file: 'a.pcap', opts: { format: 'jsonl' } }],
    [['decode', '--format=jsonl', 'a.pcap', '--stream', '3'], { file: 'a.pcap', opts: { format: 'jsonl', stream: 3 } }],
    [['decode', 'a.pcap', '--add-path', 'all'], { file: 'a.pcap', opts: { format: 'table', addPath: 'all' } }],
    [['decode', 'a.pcap', '--add-path=0,2'], { file: 'a.pcap', opts: { format: 'table', addPath: new Set([0, 2]) } }],
  ])('%j', (argv, expected) => {
    expect(parsePlainDecode(argv)).toEqual(expected);
  });

  it.each([
    [['decode']],
    [['decode', '--help']],
    [['decode', 'a.pcap', '-h']],
    [['decode', 'a.pcap', 'b.pcap']],
    [['decode', 'a.pcap', '--format', 'xml']],
    [['decode', 'a.pcap', '--format']],
    [['decode', 'a.pcap', '--format', '--stream', '1']],
    [['decode', 'a.pcap', '--stream', 'x']],
    [['decode', 'a.pcap', '--stream', '1', '--stream', '2']],
    [['decode', 'a.pcap', '--verbose']],
    [['decode', '--', 'a.pcap']],
    [['lab', 'up']],
  ])('%j goes to commander', (argv) => {
    expect(parsePlainDecode(argv)).toBeNull();
  });
});
