import { expect } from 'chai';
import { parseProtocolArgs } from '../src/args.js';
import { CommandError } from '../src/errors.js';

describe('protocol command line (SPEC 2)', () => {
  it('reads separate-token and --x=v values and ignores unknown options', () => {
    const { args, problem } = parseProtocolArgs(['--command', 'open', '--item=5', '--runningoperation', '7', '--lang', 'ru', '--newoption', 'x', '--flag']);
    expect(args).to.deep.equal({ command: 'open', item: 5, runningOperation: 7, lang: 'ru', module: null });
    expect(problem).to.equal(null);
  });
  it('refuses non-numeric ids', () => {
    for (const bad of ['abc', '-1', '0', '1.5', '', '99999999999999999999']) {
      const { args, problem } = parseProtocolArgs(['--command', 'open', '--item', bad, '--runningoperation', '9']);
      expect(problem, bad).to.be.instanceOf(CommandError);
      expect(problem!.message).to.match(/--item/);
      // What can be read is still read: the failure is recorded on the running operation.
      expect(args).to.include({ item: null, runningOperation: 9 });
    }
  });
});
