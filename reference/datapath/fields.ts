// Checks on datapath configuration fields; errors name the field and what was expected.
import { isIPv4 } from 'node:net';
import { DatapathError } from './programmer.ts';

export function requireIpv4(value: string, field: string): void {
  if (!isIPv4(value)) throw new DatapathError(`${field}: "${value}" is not an IPv4 address`);
}

export function requireInterfaceName(value: string, field: string): void {
  if (!/^[A-Za-z0-9_.@-]{1,15}$/.test(value)) throw new DatapathError(`${field}: "${value}" is not an interface name`);
}
