/** Keel's version: injected by the build; from package.json when running from sources. */
import { readFileSync } from 'node:fs';

declare const KEEL_BUILD_VERSION: string | undefined;

function fromPackageJson(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export const KEEL_VERSION: string = typeof KEEL_BUILD_VERSION === 'string' ? KEEL_BUILD_VERSION : fromPackageJson();
