// The executable's first file (dist/pmisplicense), built as CommonJS: BILLmanager asks `features`
// whenever it loads its modules, and Node's ES-module loader costs more than the answer (a bare
// `node` start plus about a third, measured by `npm run bench`). Every other command goes on to
// the ES-module bundle (cli.ts), which loads only what that command needs.
import { asksForFeatures, featuresDocument } from './commands/features.js';

if (asksForFeatures(process.argv.slice(2))) {
  process.stdout.write(featuresDocument());
} else {
  // Not a literal: the bundler must leave the ES-module entry to Node.
  const entry = './pmisplicense.mjs';
  import(entry).catch((e: unknown) => {
    process.stderr.write(`pmisplicense: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
}
