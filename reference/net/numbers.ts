// Assigned numbers of the layers below BGP, one table each: capture link types (tcpdump.org
// LINKTYPE_*), EtherTypes (IEEE 802), IP protocol / IPv6 next-header numbers (IANA) and TCP flags.

export const LinkType = { NULL: 0, ETHERNET: 1, RAW: 101, LINUX_SLL: 113, IPV4: 228, IPV6: 229, LINUX_SLL2: 276 } as const;

/** DLT_RAW's values on some BSDs; libpcap writes 101 to files, but older captures carry these. */
export const LinkTypeRawBsd = [12, 14] as const;

export const EtherType = { IPV4: 0x0800, ARP: 0x0806, VLAN: 0x8100, IPV6: 0x86dd, QINQ: 0x88a8, QINQ_OLD: 0x9100 } as const;

/** IPv4 protocol and IPv6 next-header numbers (one registry). */
export const IpProtocol = { HOP_BY_HOP: 0, TCP: 6, UDP: 17, ROUTING: 43, FRAGMENT: 44, AUTH: 51, ICMPV6: 58, DEST_OPTS: 60, MOBILITY: 135 } as const;

export const TcpFlag = { FIN: 0x01, SYN: 0x02, RST: 0x04, ACK: 0x10 } as const;
