import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeIco, encodePng } from './png.js';

/**
 * Draws the tray and notification icons into assets/: one per state, each distinct by shape
 * and colour so it reads at 16 px and for people who tell red from green poorly:
 *   ok       green circle, white check mark
 *   running  blue circle, white arrow down onto a line (saving)
 *   warning  amber triangle, dark "!"
 *   error    red octagon (stop sign), white "X"
 * Shapes are described in unit coordinates and rendered with 8x8 supersampling at each size, so
 * small sizes are drawn for that size rather than scaled down from a large bitmap.
 *
 * Run: npm run icons (builds, then writes assets/). The output is committed.
 */
export type IconState = 'ok' | 'running' | 'warning' | 'error';
type Pt = [number, number];
type Rgb = [number, number, number];

interface Design {
  fill: Rgb;
  border: Rgb;
  glyph: Rgb;
  inShape: (p: Pt) => boolean;
  edgeDist: (p: Pt) => number;
  inGlyph: (p: Pt) => boolean;
}

const dist = (a: Pt, b: Pt): number => Math.hypot(a[0] - b[0], a[1] - b[1]);

function segDist(p: Pt, a: Pt, b: Pt): number {
  const [dx, dy] = [b[0] - a[0], b[1] - a[1]];
  const t = Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / (dx * dx + dy * dy)));
  return dist(p, [a[0] + t * dx, a[1] + t * dy]);
}

function polyline(points: Pt[], width: number): (p: Pt) => boolean {
  return (p) => points.slice(1).some((b, i) => segDist(p, points[i] as Pt, b) <= width / 2);
}

function convexInside(poly: Pt[]): (p: Pt) => boolean {
  return (p) => {
    let sign = 0;
    for (let i = 0; i < poly.length; i++) {
      const a = poly[i] as Pt;
      const b = poly[(i + 1) % poly.length] as Pt;
      const c = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]);
      if (c !== 0) {
        if (sign === 0) sign = Math.sign(c);
        else if (Math.sign(c) !== sign) return false;
      }
    }
    return true;
  };
}

function polyEdgeDist(poly: Pt[]): (p: Pt) => number {
  return (p) => Math.min(...poly.map((a, i) => segDist(p, a, poly[(i + 1) % poly.length] as Pt)));
}

function triangleIn(p: Pt, a: Pt, b: Pt, c: Pt): boolean {
  return convexInside([a, b, c])(p);
}

const C: Pt = [0.5, 0.5];
const R = 0.47;
const circle = { inShape: (p: Pt) => dist(p, C) <= R, edgeDist: (p: Pt) => R - dist(p, C) };
const octagon: Pt[] = Array.from({ length: 8 }, (_, i) => {
  const a = Math.PI / 8 + (i * Math.PI) / 4;
  return [0.5 + 0.5 * Math.cos(a), 0.5 + 0.5 * Math.sin(a)] as Pt;
});
const triangle: Pt[] = [[0.5, 0.03], [0.98, 0.93], [0.02, 0.93]];

const DESIGNS: Record<IconState, Design> = {
  ok: {
    fill: [30, 158, 74], border: [12, 92, 40], glyph: [255, 255, 255], ...circle,
    inGlyph: polyline([[0.25, 0.52], [0.43, 0.70], [0.76, 0.33]], 0.15),
  },
  running: {
    fill: [31, 111, 209], border: [14, 60, 130], glyph: [255, 255, 255], ...circle,
    inGlyph: (p) => polyline([[0.5, 0.2], [0.5, 0.5]], 0.15)(p) || triangleIn(p, [0.26, 0.46], [0.74, 0.46], [0.5, 0.7]) || polyline([[0.27, 0.79], [0.73, 0.79]], 0.11)(p),
  },
  warning: {
    fill: [245, 170, 0], border: [140, 90, 0], glyph: [30, 30, 30], inShape: convexInside(triangle), edgeDist: polyEdgeDist(triangle),
    inGlyph: (p) => polyline([[0.5, 0.35], [0.5, 0.62]], 0.14)(p) || dist(p, [0.5, 0.79]) <= 0.08,
  },
  error: {
    fill: [214, 40, 40], border: [120, 14, 14], glyph: [255, 255, 255], inShape: convexInside(octagon), edgeDist: polyEdgeDist(octagon),
    inGlyph: polyline([[0.31, 0.31], [0.69, 0.69]], 0.15),
  },
};
// The X of the error icon has two strokes.
const errorStroke = polyline([[0.69, 0.31], [0.31, 0.69]], 0.15);
const errorFirst = DESIGNS.error.inGlyph;
DESIGNS.error.inGlyph = (p) => errorFirst(p) || errorStroke(p);

/** RGBA pixels of STATE at SIZE; TEMPLATE draws the macOS menu-bar variant (black shape, glyph cut out). */
export function renderIcon(state: IconState, size: number, template = false): Uint8Array {
  const d = DESIGNS[state];
  const out = new Uint8Array(size * size * 4);
  const ss = 8;
  // The border is about one pixel at every size, so the shape stands out on light and dark panels.
  const borderWidth = Math.max(1 / size, 0.045);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < ss; sy++) {
        for (let sx = 0; sx < ss; sx++) {
          const p: Pt = [(x + (sx + 0.5) / ss) / size, (y + (sy + 0.5) / ss) / size];
          if (!d.inShape(p)) continue;
          let c: Rgb;
          if (d.inGlyph(p)) {
            if (template) continue;
            c = d.glyph;
          } else c = template ? [0, 0, 0] : d.edgeDist(p) < borderWidth ? d.border : d.fill;
          r += c[0];
          g += c[1];
          b += c[2];
          a++;
        }
      }
      const i = (y * size + x) * 4;
      if (a > 0) {
        out[i] = Math.round(r / a);
        out[i + 1] = Math.round(g / a);
        out[i + 2] = Math.round(b / a);
        out[i + 3] = Math.round((255 * a) / (ss * ss));
      }
    }
  }
  return out;
}

export const STATES: IconState[] = ['ok', 'running', 'warning', 'error'];
export const PNG_SIZES = [16, 24, 32, 48, 64];

function main(): void {
  const dir = fileURLToPath(new URL('../../assets/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  for (const state of STATES) {
    for (const size of PNG_SIZES) writeFileSync(join(dir, `${state}-${size}.png`), encodePng(size, size, renderIcon(state, size)));
    writeFileSync(join(dir, `${state}.ico`), encodeIco([16, 24, 32, 48, 256].map((size) => ({ size, png: encodePng(size, size, renderIcon(state, size)) }))));
    writeFileSync(join(dir, `${state}Template.png`), encodePng(16, 16, renderIcon(state, 16, true)));
    writeFileSync(join(dir, `${state}Template@2x.png`), encodePng(32, 32, renderIcon(state, 32, true)));
  }
  process.stderr.write(`icons written to ${dir}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
