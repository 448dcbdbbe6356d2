/**
 * A MessagePack encoder for one flat array of strings and numbers: the window script's arguments
 * travel as one such array (one Redis argument) and Lua's cmsgpack.unpack builds its table in C.
 * Sent as separate arguments, each string and number cost ioredis a RESP header and a conversion,
 * and Redis a protocol parse, a Lua string and, for numbers, a strtod in the script.
 *
 * Numbers: integers in [0, 2^32) as MessagePack uints, everything else as float64 (exact for
 * every safe integer, which is all the script is given). Strings as UTF-8 str.
 */
export function packFlatArray(items: ReadonlyArray<string | number>): Buffer {
  let size = 5;
  for (const v of items) size += typeof v === 'string' ? 5 + Buffer.byteLength(v) : 9;
  const buf = Buffer.allocUnsafe(size);
  let o = 0;
  const n = items.length;
  if (n < 16) buf[o++] = 0x90 | n;
  else if (n < 0x10000) {
    buf[o++] = 0xdc;
    o = buf.writeUInt16BE(n, o);
  } else {
    buf[o++] = 0xdd;
    o = buf.writeUInt32BE(n, o);
  }
  for (const v of items) {
    if (typeof v === 'string') {
      const len = Buffer.byteLength(v);
      if (len < 32) buf[o++] = 0xa0 | len;
      else if (len < 0x100) {
        buf[o++] = 0xd9;
        buf[o++] = len;
      } else if (len < 0x10000) {
        buf[o++] = 0xda;
        o = buf.writeUInt16BE(len, o);
      } else {
        buf[o++] = 0xdb;
        o = buf.writeUInt32BE(len, o);
      }
      o += buf.write(v, o, len, 'utf8');
    } else if (Number.isInteger(v) && v >= 0 && v < 0x1_0000_0000) {
      if (v < 0x80) buf[o++] = v;
      else if (v < 0x100) {
        buf[o++] = 0xcc;
        buf[o++] = v;
      } else if (v < 0x10000) {
        buf[o++] = 0xcd;
        o = buf.writeUInt16BE(v, o);
      } else {
        buf[o++] = 0xce;
        o = buf.writeUInt32BE(v, o);
      }
    } else {
      buf[o++] = 0xcb;
      o = buf.writeDoubleBE(v, o);
    }
  }
  return buf.subarray(0, o);
}
