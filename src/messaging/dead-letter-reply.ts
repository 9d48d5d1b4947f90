/**
 * The bytes of a dead letter in an operator reply, cut to fit one NATS message: a letter can be larger than the
 * server's max_payload (the consumer dead-letters events that are too large), and a reply that does not fit is
 * never delivered. What is cut is said in the reply (`truncated`, `original_size`); the whole letter stays in the
 * database.
 */

/** Room kept for the reply's headers (status, error headers, the services framework's) beyond the JSON body. */
const HEADER_ROOM_BYTES = 4096;

export interface LetterBytes {
  /** The bytes sent (all of them, or the first ones), base64. */
  data_base64: string;
  /** The same bytes as text when the letter is UTF-8 (a cut one ends at a character boundary), else null. */
  data_text: string | null;
  /** True when only the first bytes are sent. */
  truncated: boolean;
  /** Size of the whole letter, in bytes. */
  original_size: number;
}

const jsonSize = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

function isUtf8(data: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(data);
    return true;
  } catch {
    return false;
  }
}

/**
 * `rest` with the letter's bytes added: all of them when the reply fits in `maxPayload` bytes, else as many of the
 * first ones as fit, with `truncated: true`.
 */
export function withLetterBytes<T extends object>(rest: T, data: Uint8Array, maxPayload: number): T & LetterBytes {
  const utf8 = isUtf8(data);
  const render = (n: number): T & LetterBytes => {
    const part = data.subarray(0, n);
    // stream: true leaves a character cut in half out instead of failing on it.
    const text = utf8 ? new TextDecoder('utf-8', { fatal: true }).decode(part, { stream: n < data.length }) : null;
    return { ...rest, data_base64: Buffer.from(part).toString('base64'), data_text: text, truncated: n < data.length, original_size: data.length };
  };
  const limit = maxPayload - HEADER_ROOM_BYTES;
  let n = data.length;
  let reply = render(n);
  for (let size = jsonSize(reply); size > limit && n > 0; size = jsonSize(reply)) {
    // The bytes' share of the reply shrinks in proportion; 5 % less each round makes sure it ends.
    const overhead = jsonSize(render(0));
    n = Math.max(0, Math.min(n - 1, Math.floor(((n * (limit - overhead)) / (size - overhead)) * 0.95)));
    reply = render(n);
  }
  return reply;
}
