// Path attributes to the wire, in type-code order: each known attribute by its row of
// attribute-table.ts (on a 2-octet session, ASNs above 65535 go out as AS_TRANS with AS4_PATH /
// AS4_AGGREGATOR alongside, RFC 6793 4.2.2), unknown ones with the flags they were given.

import { AttributeFlag, beginAttribute, endAttribute } from './attribute-format.ts';
import { ATTRIBUTE_TABLE, type AttributeEncodeState } from './attribute-table.ts';
import { ByteWriter, checkUint, fromHex } from './bytes.ts';
import type { CodecContext, PathAttributes } from './types.ts';

/**
 * Writes every attribute of `attributes` in type-code order (unknown ones placed by their code,
 * with their flags as given). On a 2-octet session, ASNs above 65535 go out as AS_TRANS with
 * AS4_PATH / AS4_AGGREGATOR alongside (RFC 6793 4.2.2).
 */
export function writeAttributes(w: ByteWriter, attributes: PathAttributes, ctx: CodecContext): void {
  const as4 = ctx.as4 === true;
  // [type code, writer] pairs, sorted before writing. Unnamed closures on purpose: tsx's keepNames
  // wraps every named one in a defineProperty call, which dominated encoding time.
  const writers: Array<[number, () => void]> = [];

  const state: AttributeEncodeState = { attributes, ctx, as4, w, add: (code, write) => void writers.push([code, write]) };
  for (const row of ATTRIBUTE_TABLE) row.encode(state);
  for (const unknown of attributes.unknown ?? []) {
    const code = checkUint(unknown.code, 8, 'attribute code');
    const flags = checkUint(unknown.flags, 8, `attribute ${code} flags`);
    const value = fromHex(unknown.hex, `attribute ${code}`);
    writers.push([
      code,
      () => {
        const at = beginAttribute(w, flags, code);
        w.bytes(value);
        endAttribute(w, at, (flags & AttributeFlag.EXTENDED_LENGTH) !== 0);
      },
    ]);
  }

  writers.sort((x, y) => x[0] - y[0]); // stable: unknown attributes keep their order
  for (const [, write] of writers) write();
}

