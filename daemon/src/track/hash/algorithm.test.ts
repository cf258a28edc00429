import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HASH_ALGO, formatHash, hashBytes, isCurrentHash, parseHash } from './algorithm.ts';
import { comparePaths, escapeManifestPath, manifestHash, manifestText } from './manifest.ts';

void test('hashBytes gives the FIPS 180-2 SHA-256 known answers, tagged with the algorithm', () => {
  assert.equal(HASH_ALGO, 'sha256');
  assert.equal(hashBytes('abc'), 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.equal(hashBytes(''), 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.equal(
    hashBytes('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'),
    'sha256:248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
  );
  assert.equal(hashBytes(new Uint8Array([0x61, 0x62, 0x63])), hashBytes('abc'));
});

void test('parseHash and isCurrentHash accept only well-formed current hashes', () => {
  const abc = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
  assert.deepEqual(parseHash(`sha256:${abc}`), { algo: 'sha256', hex: abc });
  assert.equal(formatHash(abc), `sha256:${abc}`);
  assert.equal(isCurrentHash(`sha256:${abc}`), true);
  assert.equal(isCurrentHash(`blake3:${abc}`), false);
  assert.equal(isCurrentHash('sha256:abc'), false);
  assert.equal(isCurrentHash(abc), false);
  assert.equal(parseHash('sha256:XYZ'), undefined);
});

void test('manifest lines are "<hex>  <size>  <path>", sorted by UTF-8 bytes, with escaped newlines', () => {
  const h = hashBytes('x');
  const hex = h.slice('sha256:'.length);
  const text = manifestText([
    { path: 'b', size: 1, hash: h },
    { path: 'a\nb\\c', size: 2, hash: h },
    { path: '\u{1F680}', size: 3, hash: h },
    { path: '\uFF21', size: 4, hash: h },
  ]);
  assert.equal(text, `${hex}  2  a\\nb\\\\c\n${hex}  1  b\n${hex}  4  \uFF21\n${hex}  3  \u{1F680}\n`);
  assert.equal(manifestHash([]), 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  // UTF-16 order would put the emoji (a surrogate pair, 0xD83D…) before U+FF21.
  assert.ok(comparePaths('\u{1F680}', '\uFF21') > 0);
  assert.equal(escapeManifestPath('a "b" $(c) \r'), 'a "b" $(c) \\r');
  assert.throws(() => manifestText([{ path: 'x', size: 1, hash: 'nope' }]), /"x" has a malformed hash "nope"/);
});
