// The demo (README's first command) plays the seed's example with exactly one purchase.
import { expect } from 'chai';
import { runExe, ensureBuilt } from '../support/world.js';

describe('demo', function () {
  this.timeout(180_000);
  it("plays the seed's example: one yearly purchase serves both customers", async () => {
    ensureBuilt();
    const r = await runExe(['demo'], { PATH: process.env.PATH });
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.match(/with the rule and the pool \(this run\):\s+100\.00\s+\(1 purchase\(s\), 0 renewal\(s\)\)/);
    expect(r.stdout).to.match(/Boris got license (\d+) — the one from the pool, not a new purchase/);
    expect(r.stdout).to.not.match(/✗/);
    expect(r.stdout).to.match(/The pool saved 100\.00/);
    expect(r.stdout).to.match(/tariff option with the internal name "panel"/);
  });
});
