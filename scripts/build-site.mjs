// Assembles the static site in build/site/ from web/, the package's JS client, the built
// engine (dist/), ECharts and the generated sample. Any static file server can serve it.
// usage: node scripts/build-site.mjs [OUT_DIR]
import { cpSync, mkdirSync, rmSync, existsSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = process.argv[2] ?? join(root, 'build', 'site');
const need = (p) => {
  if (!existsSync(p)) throw new Error(`missing ${p}: run scripts/build.sh (and npm install) first`);
  return p;
};

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
cpSync(join(root, 'web'), out, { recursive: true });
// The package's client keeps its layout, so its import of ../../dist/custlens.mjs resolves.
// Every module of the client (index.js and what it imports), not its type declarations.
mkdirSync(join(out, 'custlens', 'bindings', 'js'), { recursive: true });
for (const f of readdirSync(join(root, 'bindings', 'js')).filter((n) => n.endsWith('.js')))
  cpSync(join(root, 'bindings', 'js', f), join(out, 'custlens', 'bindings', 'js', f));
mkdirSync(join(out, 'custlens', 'dist'), { recursive: true });
for (const f of ['custlens.mjs', 'custlens.wasm'])
  cpSync(need(join(root, 'dist', f)), join(out, 'custlens', 'dist', f));
mkdirSync(join(out, 'vendor'), { recursive: true });
cpSync(need(join(root, 'node_modules', 'echarts', 'dist', 'echarts.min.js')), join(out, 'vendor', 'echarts.min.js'));
mkdirSync(join(out, 'sample'), { recursive: true });
execFileSync(process.execPath, [join(root, 'scripts', 'gen-sample.mjs'), join(out, 'sample', 'orders.csv')], { stdio: 'ignore' });
console.log(`site in ${out}`);
