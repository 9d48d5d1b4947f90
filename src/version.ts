import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The package.json version: the services framework's `version` (docs/CONTRACT.md). Found from src/ and from dist/src/. */
function readPackageVersion(): string {
  for (const relative of ['../package.json', '../../package.json']) {
    const path = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(path)) {
      const manifest = JSON.parse(readFileSync(path, 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'course-distribution' && manifest.version) return manifest.version;
    }
  }
  throw new Error('package.json of course-distribution not found');
}

export const PACKAGE_VERSION = readPackageVersion();
