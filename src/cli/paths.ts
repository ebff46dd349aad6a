/** Locations inside the installed package (configs, shipped assets). */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: the nearest directory above this file holding package.json and configs/. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'configs'))) return dir;
    dir = resolve(dir, '..');
  }
  throw new Error('visurf: cannot locate the package root (package.json + configs/)');
}

export function packagePath(...parts: string[]): string {
  return join(packageRoot(), ...parts);
}
