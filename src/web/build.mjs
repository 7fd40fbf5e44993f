// Bundles src/main.ts and src/style.css with esbuild into OUT/assets/ (names carry a content
// hash, so they can be cached for ever) and writes OUT/index.html pointing at them. No inline
// script or style: the service's Content-Security-Policy forbids both.
import * as esbuild from 'esbuild';
import { mkdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const out = process.argv[2];
if (!out) {
  console.error('usage: node build.mjs OUTDIR');
  process.exit(2);
}
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });

const result = await esbuild.build({
  entryPoints: ['src/main.ts', 'src/style.css'],
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome110', 'firefox110', 'safari16'],
  entryNames: '[name]-[hash]',
  outdir: join(out, 'assets'),
  metafile: true,
  logLevel: 'warning',
});

const built = Object.keys(result.metafile.outputs).map((p) => basename(p));
const js = built.find((f) => f.startsWith('main-') && f.endsWith('.js'));
const css = built.find((f) => f.startsWith('style-') && f.endsWith('.css'));
const template = readFileSync('src/index.html', 'utf8');
writeFileSync(
  join(out, 'index.html'),
  template.replace('%CSS%', `assets/${css}`).replace('%JS%', `assets/${js}`),
);
console.log(`console built into ${out}: ${js}, ${css}`);
