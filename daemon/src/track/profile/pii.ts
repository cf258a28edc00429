/**
 * Spotting personal data and secrets in dataset rows. Tuned to keep false positives down:
 * a profile that cries wolf on every number gets ignored. So phone numbers need separators
 * and 10–15 digits, and token-like strings need the mix of letters and digits real tokens have.
 */

/** Which kinds of sensitive text a row contains. */
export interface PiiHits {
  email: boolean;
  phone: boolean;
  apiKey: boolean;
}

const EMAIL = /(?<![\w.%+-])[A-Za-z0-9][\w.%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.([A-Za-z]{2,24})(?![\w-])/g;
/** `name@2x.png` is an image name, not an address. */
const FILE_SUFFIXES = new Set(['png', 'jpg', 'jpeg', 'gif', 'svg', 'webp', 'ico', 'css', 'js', 'ts', 'py', 'json', 'yaml', 'yml', 'txt', 'md']);

// International (+44 20 7946 0958) or national ((555) 123-4567, 555-123-4567, 555.123.4567)
// numbers with separators; not preceded by another digit group, so card numbers don't match.
/** Cheap test every phone match passes; most rows fail it, sparing the full pattern's lookbehinds. */
const PHONE_HINT = /\d{3}[ .-]\d{4}/;
const PHONE = /(?<![\w.+/-])(?<!\d[ .-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?|\d{2,4}[ .-])\d{3,4}[ .-]\d{4}(?![\w/-]|[ .-]\d)/g;

const API_KEY = new RegExp(
  [
    String.raw`sk-(?:proj-|ant-(?:api\d{2}-)?|svcacct-)?([A-Za-z0-9_-]{20,})`, // OpenAI, Anthropic
    String.raw`gh[pousr]_([A-Za-z0-9]{36,})`, // GitHub tokens
    String.raw`github_pat_([A-Za-z0-9_]{22,})`, // GitHub fine-grained tokens
    String.raw`(?:AKIA|ASIA)([0-9A-Z]{16})`, // AWS access key ids
    String.raw`hf_([A-Za-z0-9]{30,})`, // Hugging Face
    String.raw`xox[abposr]-([A-Za-z0-9-]{10,})`, // Slack
  ]
    .map((source) => `(?<![A-Za-z0-9_-])${source}(?![A-Za-z0-9])`)
    .join('|'),
  'g',
);
/** Cheap test for any token prefix, so the full pattern runs only on rows that might match. */
const KEY_HINT = /sk-|gh[pousr]_|github_pat_|A[KS]IA|hf_|xox[abposr]-/;

/** Looks for emails, phone numbers and API tokens in one row's text. */
export function findPii(text: string): PiiHits {
  return {
    email: text.includes('@') && hasEmail(text),
    phone: PHONE_HINT.test(text) && hasPhone(text),
    apiKey: KEY_HINT.test(text) && hasApiKey(text),
  };
}

function hasEmail(text: string): boolean {
  for (const match of text.matchAll(EMAIL)) {
    if (!FILE_SUFFIXES.has((match[1] ?? '').toLowerCase())) return true;
  }
  return false;
}

function hasPhone(text: string): boolean {
  for (const match of text.matchAll(PHONE)) {
    const digits = match[0].replace(/\D/g, '').length;
    if (digits >= 10 && digits <= 15) return true;
  }
  return false;
}

function hasApiKey(text: string): boolean {
  for (const match of text.matchAll(API_KEY)) {
    const body = match.slice(1).find((group) => group !== undefined) ?? '';
    if (match[0].startsWith('AKIA') || match[0].startsWith('ASIA')) return true;
    if (looksRandom(body)) return true;
  }
  return false;
}

/** Real tokens are random: both letter cases, or letters mixed with digits. Prose (`sk-learn-…`) is neither. */
function looksRandom(body: string): boolean {
  const lower = /[a-z]/.test(body);
  const upper = /[A-Z]/.test(body);
  return (lower && upper) || (/\d/.test(body) && (lower || upper));
}
