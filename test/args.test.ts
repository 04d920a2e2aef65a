import { expect } from 'chai';
import { parseProtocolArgs } from '../src/args.js';
import { CommandError } from '../src/errors.js';

describe('protocol command line (SPEC 2)', () => {
  it('reads separate-token and --x=v values and ignores unknown options', () => {
    const a = parseProtocolArgs(['--command', 'open', '--item=5', '--runningoperation', '7', '--lang', 'ru', '--newoption', 'x', '--flag']);
    expect(a).to.deep.equal({ command: 'open', item: 5, runningOperation: 7, lang: 'ru', module: null });
  });
  it('refuses non-numeric ids', () => {
    for (const bad of ['abc', '-1', '0', '1.5', '', '99999999999999999999']) expect(() => parseProtocolArgs(['--command', 'open', '--item', bad]), bad).to.throw(CommandError, /--item/);
  });
});
