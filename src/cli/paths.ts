/** Locations inside the installed package (configs, shipped assets): see engine/package.ts. */
export { packagePath, packageRoot } from '../engine/package.js';
