// Bundles the modeller and the diagram viewer (bpmn-js and their CSS) into app/static/build with esbuild.
// Run by `make frontend`: node app/static/esbuild.mjs ENTRY...
//
// The pages' Content-Security-Policy allows no inline styles. bpmn-js-properties-panel builds its container
// from an HTML string with a style attribute, which the browser refuses (and reports); the plugin below
// takes that attribute out at build time, and modeller.css gives the container the same height.
import { build } from 'esbuild'
import { readFile } from 'node:fs/promises'

const INLINE_STYLE = 'style="height: 100%" '

const noInlineStyles = {
  name: 'no-inline-styles',
  setup (esbuild) {
    esbuild.onLoad({ filter: /bpmn-js-properties-panel[\\/]dist[\\/]index\.esm\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8')
      if (!source.includes(INLINE_STYLE)) throw new Error('bpmn-js-properties-panel changed: review the inline style patch')
      return { contents: source.replaceAll(INLINE_STYLE, ''), loader: 'js' }
    })
  }
}

const fileLoaders = Object.fromEntries(['.woff', '.woff2', '.ttf', '.eot', '.svg'].map((ext) => [ext, 'file']))

await build({
  entryPoints: process.argv.slice(2),
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2020',
  outdir: 'app/static/build',
  assetNames: 'assets/[name]-[hash]',
  loader: fileLoaders,
  logLevel: 'warning',
  plugins: [noInlineStyles]
})
