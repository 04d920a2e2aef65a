// Period advice against the real module in the other two shapes of churn (SPEC 9, issue 16): a steady
// year with no rules, a shrinking year with every period → 12. In each, advise's record and its
// replay of the rules used must match what the sandbox was paid, and its advice must be the pure
// replay's cheapest.
import { checkYear, playYear, type PlayedYear } from './real-year.js';

const cases = [
  { shape: 'steady' as const, label: 'no rules', rules: [] },
  {
    shape: 'shrinking' as const,
    label: 'every period → 12',
    rules: [
      { source: 1, target: 12, itemtype: null, pricelist: null },
      { source: 3, target: 12, itemtype: null, pricelist: null },
    ],
  },
];

for (const c of cases) {
  describe(`advise on a ${c.shape} year played through the real commands (${c.label})`, function () {
    this.timeout(900_000);
    let year: PlayedYear;
    before(async () => {
      year = await playYear(c.shape, c.rules);
    });
    after(async () => {
      await year?.w.close();
    });
    it("records the sandbox's debits, replays the rules used within 1 %, recommends the cheapest, optimum below all", () => {
      checkYear(year, `${c.shape} under ${c.label}`);
    });
  });
}
