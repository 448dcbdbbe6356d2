/**
 * SMS length arithmetic (3GPP TS 23.038 / 23.040). GSM-7 text: 160 septets in one segment, 153
 * per segment when concatenated; characters of the extension table cost two septets and a pair is
 * never split across segments. Anything outside GSM-7 forces UCS-2: 70 UTF-16 units in one
 * segment, 67 when concatenated, and a surrogate pair is never split.
 */
const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENDED = '\f^{}\\[~]|€';
const BASIC = new Set(GSM_BASIC);
const EXTENDED = new Set(GSM_EXTENDED);

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export function encodingOf(text: string): SmsEncoding {
  for (const ch of text) if (!BASIC.has(ch) && !EXTENDED.has(ch)) return 'UCS-2';
  return 'GSM-7';
}

/** Cost of each character in its encoding's units (septets for GSM-7, UTF-16 units for UCS-2). */
function costs(text: string, enc: SmsEncoding): number[] {
  return [...text].map((ch) => (enc === 'GSM-7' ? (EXTENDED.has(ch) ? 2 : 1) : ch.length));
}

export const LIMITS = { 'GSM-7': { single: 160, multi: 153 }, 'UCS-2': { single: 70, multi: 67 } } as const;

/** How many segments the text takes. */
export function segmentCount(text: string): number {
  if (text.length === 0) return 1;
  const enc = encodingOf(text);
  const c = costs(text, enc);
  const total = c.reduce((a, b) => a + b, 0);
  if (total <= LIMITS[enc].single) return 1;
  let segments = 1;
  let used = 0;
  for (const n of c) {
    if (used + n > LIMITS[enc].multi) {
      segments++;
      used = 0;
    }
    used += n;
  }
  return segments;
}

/**
 * The text cut to fit `maxSegments` (1 or 2), ending in an ellipsis of the text's own encoding
 * ("..." in GSM-7, where "…" does not exist; "…" in UCS-2), so truncation never switches encoding.
 */
export function fitSegments(text: string, maxSegments: 1 | 2): string {
  if (segmentCount(text) <= maxSegments) return text;
  const enc = encodingOf(text);
  const ellipsis = enc === 'GSM-7' ? '...' : '…';
  const chars = [...text];
  let lo = 0;
  let hi = chars.length;
  // Longest prefix that, with the ellipsis, still fits: binary search over character counts.
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (segmentCount(chars.slice(0, mid).join('').trimEnd() + ellipsis) <= maxSegments) lo = mid;
    else hi = mid - 1;
  }
  return chars.slice(0, lo).join('').trimEnd() + ellipsis;
}
