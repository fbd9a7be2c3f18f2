// Gzip framing for .csv.gz (RFC 1952): where each member of a gzip file ends, and what
// follows the last one. The platform's DecompressionStream('gzip') does the inflating, but
// it says nothing about either, and platforms differ: Node 20 reads concatenated members and
// ignores trailing zero bytes, browsers (the Compression Streams spec) refuse anything after
// the first member ("Junk found after end of compressed data"), and their messages differ.
// So this walks the deflate blocks (Huffman codes decoded, nothing written out, no window),
// gives each member to its own DecompressionStream, and judges the end of the file itself:
// the same answer on every platform and for every chunking. The checks mirror zlib's
// inflate, so a stream zlib reads is never refused here; the CRC is left to zlib.

/** What is wrong with the gzip framing: `kind` is 'truncated', 'trailing' or 'corrupt';
 *  `offset` is the byte of the compressed file where it was found. */
export class GzipFormatError extends Error {
  constructor(kind, offset, detail) {
    super(detail);
    this.name = 'GzipFormatError';
    this.kind = kind;
    this.offset = offset;
  }
}

const LEN_BASE = new Uint16Array([3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67,
  83, 99, 115, 131, 163, 195, 227, 258]);
const LEN_EXTRA = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5,
  5, 0]);
const DIST_BASE = new Uint16Array([1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769,
  1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]);
const DIST_EXTRA = new Uint8Array([0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11,
  11, 12, 12, 13, 13]);
const CL_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

// Codes of up to FAST bits are decoded with one table look-up; longer ones bit by bit.
const FAST = 10;
const FAST_SIZE = 1 << FAST;
const FAST_MASK = FAST_SIZE - 1;

// A canonical Huffman code: `fast[bits]` = symbol << 4 | length (0: longer code or none),
// `count[len]` and `symbol` (sorted by code) for the slow path (as zlib's puff.c).
class Huffman {
  constructor(symbols) {
    this.count = new Uint16Array(16);
    this.symbol = new Uint16Array(symbols);
    this.fast = new Int32Array(FAST_SIZE);
  }

  // Builds the code from `lengths[0..n)`; returns an error text or null. As zlib's
  // inflate_table: over-subscribed sets are refused, incomplete ones too except a single
  // code of length 1, and an empty set is accepted (using it is the error).
  build(lengths, from, n, complete) {
    const count = this.count;
    count.fill(0);
    for (let s = 0; s < n; s++) count[lengths[from + s]]++;
    count[0] = 0;
    this.fast.fill(0);
    let max = 15;
    while (max > 0 && count[max] === 0) max--;
    if (max === 0) return null;
    let left = 1;
    for (let len = 1; len <= 15; len++) {
      left = (left << 1) - count[len];
      if (left < 0) return 'over-subscribed';
    }
    if (left > 0 && (complete || max !== 1)) return 'incomplete';
    const offs = new Uint16Array(16);
    const next = new Uint16Array(16);
    for (let len = 1, code = 0; len <= 15; len++) {
      offs[len] = len === 1 ? 0 : offs[len - 1] + count[len - 1];
      code = (code + count[len - 1]) << 1;
      next[len] = code;
    }
    for (let s = 0; s < n; s++) {
      const len = lengths[from + s];
      if (len === 0) continue;
      this.symbol[offs[len]++] = s;
      if (len > FAST) continue;
      let code = next[len]++;
      let rev = 0;
      for (let i = 0; i < len; i++, code >>>= 1) rev = (rev << 1) | (code & 1);
      for (let i = rev; i < FAST_SIZE; i += 1 << len) this.fast[i] = (s << 4) | len;
    }
    return null;
  }

  // The symbol << 4 | length at the start of `bits` (at least 15 valid bits), or -1.
  slow(bits) {
    const count = this.count;
    let code = 0, first = 0, index = 0;
    for (let len = 1; len <= 15; len++) {
      code |= (bits >>> (len - 1)) & 1;
      const c = count[len];
      if (code - c < first) return (this.symbol[index + (code - first)] << 4) | len;
      index += c;
      first = (first + c) << 1;
      code <<= 1;
    }
    return -1;
  }
}

const FIXED_LIT = new Huffman(288);
const FIXED_DIST = new Huffman(32);
{
  const l = new Uint8Array(288);
  l.fill(8, 0, 144);
  l.fill(9, 144, 256);
  l.fill(7, 256, 280);
  l.fill(8, 280, 288);
  FIXED_LIT.build(l, 0, 288, false);
  FIXED_DIST.build(new Uint8Array(32).fill(5), 0, 32, false);
}

const EMPTY = new Uint8Array(0);
// Bytes the walker may need at once: a symbol with its extra bits reads at most 10; a
// dynamic block's code lengths at most 570. Short of them it waits for the next chunk.
const SYMBOL_BYTES = 16;
const HEADER_BYTES = 640;
const PAD = 1024; // zeros after the last bytes of the file: reading past its end is then detected, not done

const MEMBER_HEADER = 0, BLOCK = 1, STORED = 2, CODES = 3, TRAILER = 4, AFTER = 5, PADDING = 6;

// Thrown inside the walker when it needs bytes it does not have yet.
const MORE = Symbol('more');

const END_OF_BLOCK = 0, NEED_BYTES = 1, BAD_LITERAL = 2, BAD_DISTANCE = 3, BAD_DISTANCE_BACK = 4;

// The hot loop: a block's codes while at least SYMBOL_BYTES are left (`limit`), i.e. every
// byte a symbol can need is there. The bit buffer keeps under 31 bits, so it stays a small
// integer for V8. Leaves the state at the end-of-block code, before a bad code, or where the
// bytes ran short.
function codesFast(s, buf, limit) {
  const lf = s.lit.fast, df = s.dist.fast, lit = s.lit, dist = s.dist;
  let pos = s.pos, bb = s.bb, bc = s.bc, out = s.out;
  let r = NEED_BYTES;
  let p0 = pos, b0 = bb, c0 = bc; // where the symbol starts, for an error
  while (pos <= limit) {
    p0 = pos;
    b0 = bb;
    c0 = bc;
    if (bc <= 23) {
      bb |= buf[pos] << bc;
      bc += 8;
      pos++;
      if (bc <= 23) {
        bb |= buf[pos] << bc;
        bc += 8;
        pos++;
        if (bc <= 23) { bb |= buf[pos] << bc; bc += 8; pos++; }
      }
    }
    let e = lf[bb & FAST_MASK];
    if (e === 0) {
      e = lit.slow(bb);
      if (e < 0) { r = BAD_LITERAL; break; }
    }
    const n = e & 15;
    bb >>= n;
    bc -= n;
    const sym = e >> 4;
    if (sym < 256) {
      out++;
      continue;
    }
    if (sym === 256) { r = END_OF_BLOCK; break; }
    const li = sym - 257;
    if (li >= 29) { r = BAD_LITERAL; break; }
    let x = LEN_EXTRA[li];
    const length = LEN_BASE[li] + (bb & ((1 << x) - 1));
    bb >>= x;
    bc -= x;
    while (bc <= 23) { bb |= buf[pos++] << bc; bc += 8; }
    let d = df[bb & FAST_MASK];
    if (d === 0) {
      d = dist.slow(bb);
      if (d < 0) { r = BAD_DISTANCE; break; }
    }
    const di = d >> 4;
    if (di >= 30) { r = BAD_DISTANCE; break; }
    bb >>= d & 15;
    bc -= d & 15;
    x = DIST_EXTRA[di];
    if (bc < x) { while (bc <= 23) { bb |= buf[pos++] << bc; bc += 8; } }
    const distance = DIST_BASE[di] + (bb & ((1 << x) - 1));
    bb >>= x;
    bc -= x;
    if (distance > out) { r = BAD_DISTANCE_BACK; break; }
    out += length;
  }
  if (r !== NEED_BYTES && r !== END_OF_BLOCK) {
    pos = p0;
    bb = b0;
    bc = c0;
  }
  s.pos = pos;
  s.bb = bb;
  s.bc = bc;
  s.out = out;
  return r;
}

/**
 * Splits a gzip file into its members as its chunks arrive. `push(chunk)` and, after the
 * last chunk, `finish()` return `{ spans, error }`: `spans` are the bytes to give to the
 * current member's decompressor, in order, `{ bytes, end }` with `end` when the member is
 * complete after them (the next span starts a new member); `error` a GzipFormatError, found
 * after those spans. The spans hold all the bytes of the file up to where the walker has
 * read, except zero padding after the last member.
 */
export class GzipFramer {
  constructor() {
    this.phase = MEMBER_HEADER;
    this.buf = EMPTY;
    this.pos = 0;
    this.end = 0; // buf[pos..end) is the file's, from end on the padding after its last byte
    this.base = 0; // offset in the file of buf[0]
    this.bb = 0; // bit buffer (bits of bytes before pos, not yet used) and its bit count
    this.bc = 0;
    this.last = false; // the current block is the member's last
    this.stored = 0; // bytes left in a stored block
    this.out = 0; // the member's decompressed bytes so far
    this.members = 0; // complete members
    this.done = 0; // their decompressed bytes
    this.memberStart = 0;
    this.paddingStart = -1;
    this.failed = null;
    this.lens = new Uint8Array(320);
    this.cl = new Huffman(19);
    this.dynLit = new Huffman(288);
    this.dynDist = new Huffman(32);
    this.lit = FIXED_LIT;
    this.dist = FIXED_DIST;
  }

  /** The decompressed bytes of what was read so far (of a member's data, the whole
   *  symbols): a decompressor given the same bytes gives that much out. */
  get output() {
    return this.done + this.out;
  }

  push(chunk) {
    return this.#run(chunk, false);
  }

  finish() {
    return this.#run(EMPTY, true);
  }

  #run(chunk, final) {
    if (this.failed) return { spans: [], error: this.failed };
    // The bytes not read yet, then the chunk: one buffer (the rest is small, but for a
    // dynamic block's header it may wait for 640 bytes of small chunks).
    let buf;
    if (this.pos < this.end) {
      const rest = this.end - this.pos;
      buf = new Uint8Array(rest + chunk.length + (final ? PAD : 0));
      buf.set(this.buf.subarray(this.pos));
      buf.set(chunk, rest);
      this.base += this.pos;
      this.end = rest + chunk.length;
    } else {
      this.base += this.end;
      buf = final ? new Uint8Array(PAD) : chunk;
      this.end = final ? 0 : chunk.length;
    }
    this.buf = buf;
    this.pos = 0;
    this.final = final;
    const spans = [];
    let from = 0; // the first byte not yet in a span
    let error = null;
    try {
      for (;;) {
        const phase = this.phase;
        if (phase === CODES) this.#codes();
        else if (phase === BLOCK) this.#block();
        else if (phase === STORED) this.#storedBytes();
        else if (phase === MEMBER_HEADER) this.#header();
        else if (phase === TRAILER) {
          this.#trailer();
          spans.push({ bytes: buf.subarray(from, this.pos), end: true });
          from = this.pos;
        } else if (phase === AFTER) {
          if (!this.#after()) break;
        } else if (phase === PADDING) {
          this.#padding();
          break;
        }
      }
    } catch (e) {
      if (e !== MORE) throw e;
      if (this.failed) error = this.failed;
      else if (final) error = this.#truncated();
    }
    if (error === null && this.failed) error = this.failed;
    // In a member: the bytes read so far (no whole byte stays in the bit buffer).
    if (this.phase !== AFTER && this.phase !== PADDING) {
      const keep = this.bc >> 3;
      this.pos -= keep;
      this.bc -= keep << 3;
      this.bb &= (1 << this.bc) - 1;
      const upto = error && error.kind === 'truncated' ? this.end : this.pos;
      if (upto > from) spans.push({ bytes: buf.subarray(from, upto), end: false });
    }
    if (error) this.failed = error;
    if (final) this.end = this.pos = this.buf.length; // nothing is read after finish()
    return { spans, error };
  }

  #fail(kind, at, detail) {
    this.failed = new GzipFormatError(kind, this.base + at, detail);
    throw MORE; // unwinds; #run reports this.failed
  }

  #truncated() {
    return new GzipFormatError('truncated', this.base + this.end,
      this.phase === MEMBER_HEADER ? 'the file ends inside a gzip header' : 'the file ends inside the compressed data');
  }

  // Bytes available from pos: short of n, wait for more (or, at the end, the file is cut).
  #need(n) {
    if (this.end - this.pos < n) throw MORE;
  }

  // The byte of the next bit to read: where an error is (whatever the bit buffer holds).
  #at() {
    return this.pos - ((this.bc + 7) >> 3);
  }

  // After a step that read bits past the end of the file (into the zero padding).
  #overrun(pos, bc) {
    return this.final && (pos - this.end) * 8 > bc;
  }

  #bits(n) {
    // n <= 24; the caller checked that the bytes are there (or the padding is).
    while (this.bc < n) {
      this.bb |= this.buf[this.pos++] << this.bc;
      this.bc += 8;
    }
    const v = this.bb & ((1 << n) - 1);
    this.bb >>= n;
    this.bc -= n;
    return v;
  }

  #header() {
    const b = this.buf, p = this.pos;
    this.#need(10);
    if (b[p] !== 0x1f || b[p + 1] !== 0x8b) this.#fail('corrupt', p, 'not a gzip header');
    if (b[p + 2] !== 8) this.#fail('corrupt', p + 2, 'unknown compression method');
    const flags = b[p + 3];
    if (flags & 0xe0) this.#fail('corrupt', p + 3, 'unknown header flags set');
    let q = p + 10;
    if (flags & 4) { // FEXTRA
      this.#need(q + 2 - p);
      q += 2 + (b[q] | (b[q + 1] << 8));
      this.#need(q - p);
    }
    for (const flag of [8, 16]) { // FNAME, FCOMMENT: zero-terminated
      if (!(flags & flag)) continue;
      const z = b.subarray(0, this.end).indexOf(0, q);
      if (z < 0) throw MORE;
      q = z + 1;
    }
    if (flags & 2) { // FHCRC (checked by zlib)
      q += 2;
      this.#need(q - p);
    }
    this.memberStart = this.base + p;
    this.pos = q;
    this.bb = this.bc = 0;
    this.out = 0;
    this.last = false;
    this.phase = BLOCK;
  }

  #block() {
    const save = this.pos, sbb = this.bb, sbc = this.bc;
    if (!this.final) this.#need(HEADER_BYTES);
    try {
      this.last = this.#bits(1) === 1;
      const type = this.#bits(2);
      if (type === 0) {
        this.#bits(this.bc & 7); // to a byte boundary
        const len = this.#bits(16), nlen = this.#bits(16);
        if (this.#overrun(this.pos, this.bc)) throw MORE;
        if (len !== (~nlen & 0xffff)) this.#fail('corrupt', this.#at() - 4, 'invalid stored block lengths');
        // The bytes of the block start at a byte boundary: give back the whole bytes buffered.
        this.pos -= this.bc >> 3;
        this.bb = this.bc = 0;
        this.stored = len;
        this.phase = STORED;
      } else if (type === 1) {
        this.lit = FIXED_LIT;
        this.dist = FIXED_DIST;
        this.phase = CODES;
      } else if (type === 2) {
        this.#dynamic();
        this.phase = CODES;
      } else {
        if (this.#overrun(this.pos, this.bc)) throw MORE;
        this.#fail('corrupt', this.#at(), 'invalid block type');
      }
    } catch (e) {
      if (e === MORE && !this.failed) { this.pos = save; this.bb = sbb; this.bc = sbc; }
      throw e;
    }
  }

  #dynamic() {
    const nlen = this.#bits(5) + 257, ndist = this.#bits(5) + 1, ncode = this.#bits(4) + 4;
    const bad = (what) => {
      if (this.#overrun(this.pos, this.bc)) throw MORE;
      this.#fail('corrupt', this.#at(), what);
    };
    if (nlen > 286 || ndist > 30) bad('too many length or distance symbols');
    const lens = this.lens;
    lens.fill(0, 0, 19);
    for (let i = 0; i < ncode; i++) lens[CL_ORDER[i]] = this.#bits(3);
    if (this.cl.build(lens, 0, 19, true)) bad('invalid code lengths set');
    const cl = this.cl;
    for (let i = 0; i < nlen + ndist;) {
      if (this.bc < 15) this.#fill();
      let e = cl.fast[this.bb & FAST_MASK];
      if (e === 0) e = cl.slow(this.bb);
      if (e < 0) bad('invalid code lengths set');
      this.bb >>= e & 15;
      this.bc -= e & 15;
      const sym = e >> 4;
      if (sym < 16) {
        lens[i++] = sym;
        continue;
      }
      let value = 0, rep;
      if (sym === 16) {
        if (i === 0) bad('invalid bit length repeat');
        value = lens[i - 1];
        rep = 3 + this.#bits(2);
      } else if (sym === 17) {
        rep = 3 + this.#bits(3);
      } else {
        rep = 11 + this.#bits(7);
      }
      if (i + rep > nlen + ndist) bad('invalid bit length repeat');
      lens.fill(value, i, i + rep);
      i += rep;
    }
    if (lens[256] === 0) bad('invalid code -- missing end-of-block');
    if (this.dynLit.build(lens, 0, nlen, false)) bad('invalid literal/lengths set');
    if (this.dynDist.build(lens, nlen, ndist, false)) bad('invalid distances set');
    if (this.#overrun(this.pos, this.bc)) throw MORE;
    this.lit = this.dynLit;
    this.dist = this.dynDist;
  }

  // 24 to 31 bits in the bit buffer.
  #fill() {
    while (this.bc <= 23) {
      this.bb |= this.buf[this.pos++] << this.bc;
      this.bc += 8;
    }
  }

  #storedBytes() {
    const n = Math.min(this.stored, this.end - this.pos);
    this.pos += n;
    this.out += n;
    this.stored -= n;
    if (this.stored > 0) throw MORE;
    this.phase = this.last ? TRAILER : BLOCK;
  }

  // The literal/length and distance codes of a block, to its end-of-block code.
  #codes() {
    const r = this.final ? this.#codesAtEnd() : codesFast(this, this.buf, this.end - SYMBOL_BYTES);
    if (r === END_OF_BLOCK) {
      this.phase = this.last ? TRAILER : BLOCK;
      if (this.last) { // the trailer starts at the next byte boundary
        this.pos -= this.bc >> 3;
        this.bb = this.bc = 0;
      }
      return;
    }
    if (r === NEED_BYTES) throw MORE;
    this.#fail('corrupt', this.#at(), r === BAD_DISTANCE_BACK ? 'invalid distance too far back'
      : r === BAD_DISTANCE ? 'invalid distance code' : 'invalid literal/length code');
  }

  // The same at the end of the file, where the bytes run out: a symbol that needs bits past
  // the file's last byte (read from the padding) means the file is cut, however it decodes.
  #codesAtEnd() {
    const buf = this.buf, end = this.end, lit = this.lit, dist = this.dist;
    let pos = this.pos, bb = this.bb, bc = this.bc, out = this.out;
    const past = () => (pos - end) * 8 > bc;
    let r = NEED_BYTES;
    for (;;) {
      const start = pos, sbb = bb, sbc = bc;
      const undo = (code) => {
        r = past() ? NEED_BYTES : code;
        pos = start; bb = sbb; bc = sbc;
      };
      if ((pos - end) * 8 >= bc) break; // no bit of the file left
      while (bc <= 23) { bb |= buf[pos++] << bc; bc += 8; }
      let e = lit.fast[bb & FAST_MASK];
      if (e === 0) e = lit.slow(bb);
      if (e < 0) { bb >>= 15; bc -= 15; undo(BAD_LITERAL); break; }
      bb >>= e & 15;
      bc -= e & 15;
      const sym = e >> 4;
      if (sym < 256 || sym === 256) {
        if (past()) { undo(NEED_BYTES); break; }
        if (sym === 256) { r = END_OF_BLOCK; break; }
        out++;
        continue;
      }
      const li = sym - 257;
      if (li >= 29) { undo(BAD_LITERAL); break; }
      let x = LEN_EXTRA[li];
      const length = LEN_BASE[li] + (bb & ((1 << x) - 1));
      bb >>= x;
      bc -= x;
      while (bc <= 23) { bb |= buf[pos++] << bc; bc += 8; }
      let d = dist.fast[bb & FAST_MASK];
      if (d === 0) d = dist.slow(bb);
      if (d < 0 || d >> 4 >= 30) { bb >>= 15; bc -= 15; undo(BAD_DISTANCE); break; }
      bb >>= d & 15;
      bc -= d & 15;
      x = DIST_EXTRA[d >> 4];
      while (bc <= 23) { bb |= buf[pos++] << bc; bc += 8; }
      const distance = DIST_BASE[d >> 4] + (bb & ((1 << x) - 1));
      bb >>= x;
      bc -= x;
      if (past()) { undo(NEED_BYTES); break; }
      if (distance > out) { undo(BAD_DISTANCE_BACK); break; }
      out += length;
    }
    this.pos = pos;
    this.bb = bb;
    this.bc = bc;
    this.out = out;
    return r;
  }

  #trailer() {
    this.#need(8);
    const b = this.buf, p = this.pos;
    const isize = (b[p + 4] | (b[p + 5] << 8) | (b[p + 6] << 16) | (b[p + 7] << 24)) >>> 0;
    if (isize !== this.out % 0x100000000) this.#fail('corrupt', p + 4, 'incorrect length check');
    this.pos = p + 8;
    this.members++;
    this.done += this.out;
    this.out = 0;
    this.phase = AFTER;
  }

  // Between members: another member, zero padding (as gzip and zlib allow), or trailing data.
  // Returns false when it waits for more bytes (or the file ended cleanly).
  #after() {
    const b = this.buf, p = this.pos;
    if (p >= this.end) return false;
    if (b[p] === 0x1f) {
      if (this.end - p < 2) {
        if (!this.final) return false;
        this.phase = MEMBER_HEADER; // a next member cut after its first byte
        throw MORE;
      } else if (b[p + 1] === 0x8b) {
        this.phase = MEMBER_HEADER;
        return true;
      }
    } else if (b[p] === 0) {
      this.paddingStart = this.base + p;
      this.phase = PADDING;
      return true;
    }
    this.#fail('trailing', p, 'data after the end of the compressed data');
    return false;
  }

  #padding() {
    const b = this.buf;
    for (let p = this.pos; p < this.end; p++) {
      if (b[p] !== 0) {
        this.failed = new GzipFormatError('trailing', this.paddingStart, 'data after the end of the compressed data');
        this.pos = this.end;
        return;
      }
    }
    this.pos = this.end;
  }
}
