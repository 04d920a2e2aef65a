// Where the suite's time goes (a developer's aid, off unless asked): with PMISPLICENSE_TEST_TIMES=<file>,
// every test file's wall time, hooks included, is appended there as a JSON line { file, ms }. Mocha's
// root hooks run once per file in parallel mode, which is what npm test uses; reporters' durations
// leave out the before() hooks, where the slow files spend their time.
import { appendFileSync } from 'node:fs';
import { relative } from 'node:path';

const out = process.env.PMISPLICENSE_TEST_TIMES;
let started = 0;

interface HookContext {
  test?: { parent?: { suites: Array<{ file?: string }> } };
}

export const mochaHooks = out
  ? {
      beforeAll(): void {
        started = Date.now();
      },
      afterAll(this: HookContext): void {
        const file = this.test?.parent?.suites.find((s) => s.file)?.file;
        appendFileSync(out, `${JSON.stringify({ file: file ? relative(process.cwd(), file) : '?', ms: Date.now() - started })}\n`);
      },
    }
  : {};
