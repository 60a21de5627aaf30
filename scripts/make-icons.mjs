// Draws the Teams app icons into manifest/: color.png (192×192, white "no entry" sign on the accent
// colour) and outline.png (32×32, the same sign in white on transparent). Teams wants exactly these
// sizes (https://learn.microsoft.com/microsoftteams/platform/concepts/build-and-test/apps-package).
// Only node:zlib is used, so the icons can be redrawn anywhere: `node scripts/make-icons.mjs`.
import { Buffer } from 'node:buffer';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';

/** Keep in step with accentColor in manifest/manifest.json. */
const ACCENT = [0xb3, 0x26, 0x1e];
const SUPERSAMPLE = 4;

/**
 * Whether a point of the unit square (0..1 both ways, y down) is on the sign: a ring with a bar
 * from top-left to bottom-right. `scale` is the sign's outer radius as a fraction of the icon.
 */
function onSign(x, y, scale) {
  const dx = (x - 0.5) / scale;
  const dy = (y - 0.5) / scale;
  const r = Math.hypot(dx, dy);
  if (r > 1) return false;
  if (r >= 0.72) return true;
  // Distance from the diagonal y = x, in units of the outer radius.
  return Math.abs(dx - dy) / Math.SQRT2 <= 0.16;
}

/** Fraction (0..1) of the pixel covered by the sign, by supersampling: cheap anti-aliasing. */
function coverage(px, py, size, scale) {
  let hits = 0;
  for (let sy = 0; sy < SUPERSAMPLE; sy++) {
    for (let sx = 0; sx < SUPERSAMPLE; sx++) {
      const x = (px + (sx + 0.5) / SUPERSAMPLE) / size;
      const y = (py + (sy + 0.5) / SUPERSAMPLE) / size;
      if (onSign(x, y, scale)) hits++;
    }
  }
  return hits / (SUPERSAMPLE * SUPERSAMPLE);
}

function chunk(type, data) {
  const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, crc]);
}

/**
 * Encodes an 8-bit PNG (https://www.w3.org/TR/png/). `channels` is 3 (RGB, colour type 2) or 4
 * (RGBA, colour type 6); `pixel(x, y)` returns that many bytes.
 */
function encodePng(size, channels, pixel) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = channels === 4 ? 6 : 2;
  // compression 0, filter 0, interlace 0 stay zero
  const stride = 1 + size * channels;
  const raw = Buffer.alloc(stride * size);
  for (let y = 0; y < size; y++) {
    raw[y * stride] = 0; // filter: none
    for (let x = 0; x < size; x++) raw.set(pixel(x, y), y * stride + 1 + x * channels);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const color = encodePng(192, 3, (x, y) => {
  const a = coverage(x, y, 192, 0.32);
  return ACCENT.map((c) => Math.round(c + (255 - c) * a));
});
const outline = encodePng(32, 4, (x, y) => [255, 255, 255, Math.round(255 * coverage(x, y, 32, 0.44))]);

const dir = fileURLToPath(new URL('../manifest/', import.meta.url));
writeFileSync(`${dir}color.png`, color);
writeFileSync(`${dir}outline.png`, outline);
console.log(`wrote ${dir}color.png (${color.length} bytes) and ${dir}outline.png (${outline.length} bytes)`);
