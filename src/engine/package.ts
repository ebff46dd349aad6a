/** Locations inside the installed package: the native addon, configs, shipped assets. */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: the nearest directory above this file holding package.json and binding.gyp. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'binding.gyp'))) return dir;
    dir = resolve(dir, '..');
  }
  throw new Error('visurf: cannot locate the package root (package.json + binding.gyp)');
}

export function packagePath(...parts: string[]): string {
  return join(packageRoot(), ...parts);
}
