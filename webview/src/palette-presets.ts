/**
 * Made by scripts/palette-presets.mjs from palette.ts's pickPalette — do not edit; run
 * `node scripts/palette-presets.mjs` after changing the pick (palette.test.ts checks this
 * file against a fresh pick). The 100-colour run palette of the editor background
 * of each of VS Code's default themes, so a panel in a default theme skips the pick.
 */
const P0: readonly string[] = [
  '#539af2', '#c2fd0a', '#f12e1d', '#38a017', '#fdd5ff', '#fd65e3', '#faab3f', '#12f0de', '#a7758c', '#9e57f9',
  '#90b790', '#fa7f8c', '#39e252', '#a0832a', '#c097df', '#f5e78f', '#e62c8d', '#4e9397', '#78c7fd', '#bbc949',
  '#aef2fe', '#f9c3ab', '#e07937', '#c642d0', '#fd95dc', '#d09e83', '#d470b5', '#8eeb92', '#807cc6', '#8da523',
  '#15b477', '#d05a69', '#3ebfc6', '#5b79f7', '#c2dbab', '#e1acc4', '#d780fc', '#f8ea21', '#72c436', '#619655',
  '#749dc1', '#ad65be', '#c7cdff', '#cfa508', '#a1fccb', '#6cd5b3', '#f35a88', '#cfbc8a', '#a780e6', '#f7cc4b',
  '#bc6f4c', '#9e9b68', '#90a7f1', '#71e3fe', '#fda293', '#22b8fb', '#a98cb6', '#feb6ee', '#c2e233', '#478cc4',
  '#f34ab8', '#c3f98a', '#d27a89', '#f75f4c', '#cc5ff7', '#ff71bb', '#df8db5', '#68a796', '#89f039', '#cc4da9',
  '#c3b0fd', '#86cbd3', '#f9875e', '#ea942f', '#25aabe', '#87d576', '#1fc893', '#9ce1d7', '#be8a78', '#c08e43',
  '#a8b35e', '#7fb2d1', '#f02658', '#d5efbe', '#8592dc', '#24f979', '#73a967', '#e254da', '#4cb332', '#a6c99f',
  '#df86d7', '#2a9b7c', '#848b5a', '#a8beec', '#886bee', '#20f6a5', '#f9becf', '#df500c', '#26e085', '#0ece3c',
];
const P1: readonly string[] = [
  '#0e5caf', '#ea2413', '#309909', '#6a2203', '#b93fd3', '#0b5d2a', '#80027c', '#915d6d', '#3c1599', '#498e89',
  '#6e6bed', '#12415e', '#7e6f08', '#df2187', '#af0439', '#6d28cd', '#653e5c', '#226873', '#b24b0a', '#0486d3',
  '#8951af', '#7b7ba9', '#0d31c7', '#5f4a1a', '#c95463', '#38804b', '#700048', '#9f7655', '#b13290', '#434487',
  '#2a5cf1', '#591771', '#9201ab', '#92413d', '#9850f2', '#a8669a', '#31441a', '#973069', '#661e9d', '#546537',
  '#566aaf', '#718b3d', '#5f49ab', '#784784', '#8b173a', '#227008', '#6a49eb', '#4c16c1', '#433ddb', '#15338a',
  '#9731cf', '#565985', '#46335a', '#c12860', '#1178a5', '#894c06', '#0c5952', '#c52b30', '#5b2c38', '#786490',
  '#8f68cb', '#6e3e36', '#1f08b2', '#c149ac', '#523709', '#295171', '#357b7b', '#9a7d22', '#c85b32', '#138db1',
  '#981e87', '#896740', '#a46f7a', '#7c4d63', '#811e5f', '#e71960', '#12479d', '#ab22b5', '#389469', '#337aef',
  '#5f3979', '#92558d', '#a5524d', '#657648', '#7e30ab', '#535cda', '#7a4ecf', '#3735b1', '#c0558d', '#448111',
  '#0871c1', '#8d1c11', '#156f41', '#5b2358', '#a75fb7', '#5880c2', '#9f3501', '#006495', '#343375', '#2750c7',
];

export const PRESET_PALETTES: Readonly<Record<string, readonly string[]>> = {
  '#1f1f1f': P0,
  '#1e1e1e': P0,
  '#000000': P0,
  '#ffffff': P1,
};
