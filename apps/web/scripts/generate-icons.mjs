// Draws Parley's app icons (a speech bubble with a bold "P") and writes them as PNGs into
// public/icons. The PNGs are committed, so builds never run this; rerun it only to change
// the mark: `node apps/web/scripts/generate-icons.mjs`. Plain node:zlib, so no image tooling.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';

const outDir = join(dirname(fileURLToPath(import.meta.url)), '../public/icons');

/** Brand colours as RGBA; indigo on white passes WCAG AA for the "P" either way round. */
const INDIGO = [67, 56, 202, 255];
const WHITE = [255, 255, 255, 255];
const CLEAR = [0, 0, 0, 0];

// The mark, in a unit square (0..1, y pointing down).
function inRoundedRect(x, y, left, top, right, bottom, radius) {
  const dx = Math.max(left + radius - x, 0, x - (right - radius));
  const dy = Math.max(top + radius - y, 0, y - (bottom - radius));
  return x >= left && x <= right && y >= top && y <= bottom && dx * dx + dy * dy <= radius * radius;
}

function inTriangle(x, y, [ax, ay], [bx, by], [cx, cy]) {
  const d1 = (x - bx) * (ay - by) - (ax - bx) * (y - by);
  const d2 = (x - cx) * (by - cy) - (bx - cx) * (y - cy);
  const d3 = (x - ax) * (cy - ay) - (cx - ax) * (y - ay);
  return !((d1 < 0 || d2 < 0 || d3 < 0) && (d1 > 0 || d2 > 0 || d3 > 0));
}

function inBubble(x, y) {
  return (
    inRoundedRect(x, y, 0.08, 0.1, 0.92, 0.76, 0.17) ||
    inTriangle(x, y, [0.22, 0.7], [0.46, 0.7], [0.16, 0.93])
  );
}

function inLetterP(x, y) {
  const stem = x >= 0.36 && x <= 0.47 && y >= 0.22 && y <= 0.66;
  // The bowl is a "D": a rectangle closed by a half ring on the right.
  const [cx, cy, outer, inner] = [0.55, 0.365, 0.145, 0.055];
  const r = Math.hypot(x - cx, y - cy);
  const bowlBar =
    x >= 0.36 && x <= cx && y >= cy - outer && y <= cy + outer && !(y > cy - inner && y < cy + inner);
  const bowlArc = x > cx && r <= outer && r >= inner;
  return stem || bowlBar || bowlArc;
}

/** Colour of one point: `maskable` fills the square and shrinks the mark into the safe zone. */
function colourAt(x, y, maskable) {
  if (maskable) {
    const scale = 0.62; // keeps the mark inside the 80% safe circle after any mask
    const [u, v] = [(x - 0.5) / scale + 0.5, (y - 0.5) / scale + 0.5];
    if (!inBubble(u, v)) return INDIGO;
    return inLetterP(u, v) ? INDIGO : WHITE;
  }
  if (!inBubble(x, y)) return CLEAR;
  return inLetterP(x, y) ? WHITE : INDIGO;
}

/** RGBA pixels, anti-aliased by averaging a 4×4 grid of samples per pixel. */
function render(size, maskable) {
  const samples = 4;
  const pixels = Buffer.alloc(size * size * 4);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      const sum = [0, 0, 0, 0];
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const c = colourAt(
            (px + (sx + 0.5) / samples) / size,
            (py + (sy + 0.5) / samples) / size,
            maskable,
          );
          // Premultiply so transparent samples do not darken the edges.
          for (let i = 0; i < 3; i++) sum[i] += (c[i] * c[3]) / 255;
          sum[3] += c[3];
        }
      }
      const n = samples * samples;
      const alpha = sum[3] / n;
      const offset = (py * size + px) * 4;
      for (let i = 0; i < 3; i++) pixels[offset + i] = alpha ? Math.round((sum[i] / n) * (255 / alpha)) : 0;
      pixels[offset + 3] = Math.round(alpha);
    }
  }
  return pixels;
}

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

function encodePng(size, pixels) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8); // 8 bits per channel, RGBA, then the only defined methods, no interlace
  const rows = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    // Each scanline starts with its filter type; 0 (none) is plenty for flat-colour art.
    pixels.copy(rows, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([
    signature,
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

mkdirSync(outDir, { recursive: true });
for (const [name, size, maskable] of [
  ['icon-192.png', 192, false],
  ['icon-512.png', 512, false],
  ['icon-maskable-512.png', 512, true],
  ['apple-touch-icon-180.png', 180, true],
]) {
  writeFileSync(join(outDir, name), encodePng(size, render(size, maskable)));
  console.log(`wrote ${join(outDir, name)}`);
}
