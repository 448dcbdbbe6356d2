/**
 * Writes a MessagePack head for `n` (a length, or an unsigned integer's value): in the "fix" form
 * (`fixTag | n`) below `fixLimit`, else the 8-bit form where the type has one (tag8, then n), else
 * the 16- or 32-bit form. Returns the next offset.
 */
function writeHead(
  buf: Buffer,
  o: number,
  n: number,
  fixLimit: number,
  fixTag: number,
  tag8: number | null,
  tag16: number,
  tag32: number,
): number {
  if (n < fixLimit) buf[o++] = fixTag | n;
  else if (tag8 !== null && n < 0x100) {
    buf[o++] = tag8;
    buf[o++] = n;
  } else if (n < 0x10000) {
    buf[o++] = tag16;
    o = buf.writeUInt16BE(n, o);
  } else {
    buf[o++] = tag32;
    o = buf.writeUInt32BE(n, o);
  }
  return o;
}

/**
 * A MessagePack encoder for one flat array of strings, bytes and numbers: the window script's arguments
 * travel as one such array (one Redis argument) and Lua's cmsgpack.unpack builds its table in C.
 * Sent as separate arguments, each string and number cost ioredis a RESP header and a conversion,
 * and Redis a protocol parse, a Lua string and, for numbers, a strtod in the script.
 *
 * Numbers: integers in [0, 2^32) as MessagePack uints, everything else as float64 (exact for
 * every safe integer, which is all the script is given). Strings as UTF-8 str; bytes as str too
 * (copied as they are: Lua strings are bytes, and the script only stores and returns them).
 */
export function packFlatArray(items: ReadonlyArray<string | number | Uint8Array>): Buffer {
  let size = 5;
  for (const v of items) size += typeof v === 'string' ? 5 + Buffer.byteLength(v) : typeof v === 'number' ? 9 : 5 + v.byteLength;
  const buf = Buffer.allocUnsafe(size);
  let o = writeHead(buf, 0, items.length, 16, 0x90, null, 0xdc, 0xdd); // fixarray, array 16/32
  for (const v of items) {
    if (typeof v === 'string') {
      const len = Buffer.byteLength(v);
      o = writeHead(buf, o, len, 32, 0xa0, 0xd9, 0xda, 0xdb); // fixstr, str 8/16/32
      o += buf.write(v, o, len, 'utf8');
    } else if (typeof v !== 'number') {
      o = writeHead(buf, o, v.byteLength, 32, 0xa0, 0xd9, 0xda, 0xdb);
      buf.set(v, o);
      o += v.byteLength;
    } else if (Number.isInteger(v) && v >= 0 && v < 0x1_0000_0000) {
      o = writeHead(buf, o, v, 0x80, 0x00, 0xcc, 0xcd, 0xce); // positive fixint, uint 8/16/32
    } else {
      buf[o++] = 0xcb;
      o = buf.writeDoubleBE(v, o);
    }
  }
  return buf.subarray(0, o);
}
