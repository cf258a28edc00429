/**
 * The run palette (webview/src/palette.ts): 100 solid colours per theme background, each
 * readable against it (3:1, WCAG's bar for graphics) and apart from every other one.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { contrast, MIN_CONTRAST, oklabDistance, PALETTE_SIZE, parseColor, pickPalette, type Rgb } from '../../webview/src/palette.ts';
import { runPalette } from '../../webview/src/run-palette.ts';
import { PRESET_PALETTES } from '../../webview/src/palette-presets.ts';

/** Editor backgrounds of VS Code's Dark Modern, Light Modern, Dark+, Light+, and the two high-contrast themes. */
const backgrounds = { darkModern: '#1f1f1f', lightModern: '#ffffff', darkPlus: '#1e1e1e', lightPlus: '#ffffff', hcDark: '#000000', hcLight: '#ffffff', solarizedLight: '#fdf6e3', monokai: '#272822' };

const rgb = (hex: string): Rgb => parseColor(hex) as Rgb;

describe('run palette', () => {
  it('the palette of fewer runs is the start of the full one (a panel picks only the colours it shows, and a run keeps its colour as more arrive)', () => {
    // A mid-grey takes the fallback candidates: the prefix must hold there too.
    for (const bg of [...Object.values(backgrounds), '#808080']) {
      const full = runPalette(bg);
      for (const n of [1, 10, 37]) assert.deepEqual(runPalette(bg, n), full.slice(0, n), `${bg}, ${n} colours`);
    }
  });

  for (const [name, bg] of Object.entries(backgrounds)) {
    it(`${name}: 100 distinct opaque colours, each at least 3:1 against ${bg}, none closer than a visible step`, () => {
      const p = runPalette(bg);
      assert.equal(p.length, PALETTE_SIZE);
      assert.equal(new Set(p).size, PALETTE_SIZE);
      for (const c of p) {
        assert.match(c, /^#[0-9a-f]{6}$/, 'solid #rrggbb, no alpha');
        assert.ok(contrast(rgb(c), rgb(bg)) >= MIN_CONTRAST, `${c} on ${bg}: contrast ${contrast(rgb(c), rgb(bg)).toFixed(2)}`);
      }
      let closest = Infinity;
      for (let i = 0; i < p.length; i++) for (let j = i + 1; j < p.length; j++) closest = Math.min(closest, oklabDistance(rgb(p[i] as string), rgb(p[j] as string)));
      // ~0.02 is a just-noticeable difference; 100 colours in a contrast-limited band keep over twice that.
      assert.ok(closest >= 0.045, `closest pair ${closest.toFixed(3)} apart`);
      // The first few runs (the usual comparison) get far more distinct colours than the 100th.
      let closest6 = Infinity;
      for (let i = 0; i < 6; i++) for (let j = i + 1; j < 6; j++) closest6 = Math.min(closest6, oklabDistance(rgb(p[i] as string), rgb(p[j] as string)));
      assert.ok(closest6 >= 0.15, `first six ${closest6.toFixed(3)} apart`);
    });
  }

  it('the default themes\' palettes, picked ahead of time, are what the pick makes now (else run `node scripts/palette-presets.mjs`)', () => {
    for (const bg of ['#1f1f1f', '#1e1e1e', '#000000', '#ffffff']) assert.ok(PRESET_PALETTES[bg], `${bg} has a preset`);
    for (const [bg, preset] of Object.entries(PRESET_PALETTES)) assert.deepEqual(preset, pickPalette(rgb(bg), PALETTE_SIZE), `${bg}: palette-presets.ts is stale`);
  });

  it('takes a preset background\'s colours from the presets however the colour is spelled, and picks any other', () => {
    // Presets that no pick would make: what comes back says where it came from.
    const fake = { '#123456': Array.from({ length: 5 }, (_, i) => `#00000${i}`) };
    for (const spelled of ['#123456', '#123456ff', 'rgb(18, 52, 86)', 'RGBA(18,52,86,0.5)', '#123456'.toUpperCase()]) {
      assert.deepEqual(runPalette(spelled, 3, fake), ['#000000', '#000001', '#000002'], spelled);
    }
    // More colours than the preset holds, or a count that is no count: picked as before.
    assert.deepEqual(runPalette('#123456', 6, fake), pickPalette(rgb('#123456'), 6));
    assert.deepEqual(runPalette('#123456', 2.5, fake), pickPalette(rgb('#123456'), 2.5));
    // A background with no preset is picked.
    assert.equal(PRESET_PALETTES['#fdf6e3'], undefined);
    assert.deepEqual(runPalette('#fdf6e3', 20), pickPalette(rgb('#fdf6e3'), 20));
  });

  it('is the same for the same background (runs keep their colours across redraws)', () => {
    assert.deepEqual(runPalette('#1f1f1f'), runPalette('rgb(31, 31, 31)'));
  });

  it('reads hex with alpha and rgba(), and says null for what it cannot read', () => {
    assert.deepEqual(parseColor('#d1861654'), [0xd1, 0x86, 0x16]);
    assert.deepEqual(parseColor('#fff'), [255, 255, 255]);
    assert.deepEqual(parseColor('rgba(12, 34, 56, 0.5)'), [12, 34, 56]);
    assert.equal(parseColor('var(--x)'), null);
    assert.equal(runPalette('not a colour').length, PALETTE_SIZE);
  });
});
