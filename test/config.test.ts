import { expect } from 'chai';
import { keyWaitSeconds, lockWaitSeconds, orderSettleSeconds, paths } from '../src/config.js';

describe('config', () => {
  it('derives every path from MGR_ROOT unless set', () => {
    expect(paths({ MGR_ROOT: '/opt/mgr' })).to.deep.equal({ mgrRoot: '/opt/mgr', mgrctl: '/opt/mgr/sbin/mgrctl', db: '/opt/mgr/var/pmisplicense.db', log: '/opt/mgr/var/pmisplicense.log' });
    expect(paths({}).mgrRoot).to.equal('/usr/local/mgr5');
    expect(paths({ PMISPLICENSE_DB: '/tmp/x.db' }).db).to.equal('/tmp/x.db');
  });
  it('falls back to the defaults for unusable waits instead of waiting forever', () => {
    for (const bad of ['abc', '-1', '', ' ', 'Infinity']) {
      expect(lockWaitSeconds({ PMISPLICENSE_LOCK_WAIT: bad }), bad).to.equal(60);
      expect(keyWaitSeconds({ PMISPLICENSE_KEY_WAIT: bad }), bad).to.equal(60);
    }
    expect(keyWaitSeconds({ PMISPLICENSE_KEY_WAIT: '0' })).to.equal(0);
    expect(keyWaitSeconds({ PMISPLICENSE_KEY_WAIT: '600' })).to.equal(60); // SPEC 5.2: at most 60 s
    expect(orderSettleSeconds({})).to.equal(180);
    expect(orderSettleSeconds({ PMISPLICENSE_ORDER_SETTLE: '0' })).to.equal(0);
    expect(lockWaitSeconds({ PMISPLICENSE_LOCK_WAIT: '5' })).to.equal(5);
  });
});
