import { expect } from 'chai';
import { checkEnvironment, httpTimeoutSeconds, keyWaitSeconds, lockWaitSeconds, orderSettleSeconds, paths } from '../src/config.js';
import { EnvironmentError } from '../src/errors.js';

describe('config', () => {
  it('derives every path from MGR_ROOT unless set', () => {
    expect(paths({ MGR_ROOT: '/opt/mgr' })).to.deep.equal({ mgrRoot: '/opt/mgr', mgrctl: '/opt/mgr/sbin/mgrctl', db: '/opt/mgr/var/pmisplicense.db', log: '/opt/mgr/var/pmisplicense.log' });
    expect(paths({}).mgrRoot).to.equal('/usr/local/mgr5');
    expect(paths({ PMISPLICENSE_DB: '/tmp/x.db' }).db).to.equal('/tmp/x.db');
  });

  it('uses the defaults when a setting is unset or empty', () => {
    for (const env of [{}, { PMISPLICENSE_HTTP_TIMEOUT: '', PMISPLICENSE_KEY_WAIT: '', PMISPLICENSE_ORDER_SETTLE: '', PMISPLICENSE_LOCK_WAIT: '' }]) {
      expect(httpTimeoutSeconds(env)).to.equal(60);
      expect(keyWaitSeconds(env)).to.equal(60);
      expect(orderSettleSeconds(env)).to.equal(180);
      expect(lockWaitSeconds(env)).to.equal(60);
    }
  });

  it('takes usable values as given (SPEC 5.2 bounds the key wait at 60 s)', () => {
    expect(httpTimeoutSeconds({ PMISPLICENSE_HTTP_TIMEOUT: '2.5' })).to.equal(2.5);
    expect(keyWaitSeconds({ PMISPLICENSE_KEY_WAIT: '0' })).to.equal(0);
    expect(keyWaitSeconds({ PMISPLICENSE_KEY_WAIT: '600' })).to.equal(60);
    expect(orderSettleSeconds({ PMISPLICENSE_ORDER_SETTLE: '0' })).to.equal(0);
    expect(lockWaitSeconds({ PMISPLICENSE_LOCK_WAIT: ' 5 ' })).to.equal(5);
  });

  it('refuses a setting that is set but unusable, naming the variable, instead of using the default', () => {
    const read = { PMISPLICENSE_HTTP_TIMEOUT: httpTimeoutSeconds, PMISPLICENSE_KEY_WAIT: keyWaitSeconds, PMISPLICENSE_ORDER_SETTLE: orderSettleSeconds, PMISPLICENSE_LOCK_WAIT: lockWaitSeconds };
    for (const [name, fn] of Object.entries(read)) {
      for (const bad of ['abc', '-5', '-1', ' ', 'Infinity', '1e3', '10s', '0x10', '99999999']) {
        const env = { [name]: bad };
        expect(() => fn(env), `${name}=${bad}`).to.throw(EnvironmentError, name);
        expect(() => checkEnvironment(env), `${name}=${bad}`).to.throw(EnvironmentError, name);
      }
    }
    expect(() => httpTimeoutSeconds({ PMISPLICENSE_HTTP_TIMEOUT: '0' })).to.throw(EnvironmentError, /more than 0/);
  });

  it('the error is of type command and names the variable as its object', () => {
    try {
      checkEnvironment({ PMISPLICENSE_LOCK_WAIT: 'abc' });
      expect.fail('no error');
    } catch (e) {
      expect(e).to.be.instanceOf(EnvironmentError);
      const err = e as EnvironmentError;
      expect(err.type).to.equal('command');
      expect(err.object).to.equal('PMISPLICENSE_LOCK_WAIT');
      expect(err.message).to.equal('PMISPLICENSE_LOCK_WAIT="abc" is not usable: it must be a number of seconds from 0 to 3600. Fix or unset PMISPLICENSE_LOCK_WAIT.');
    }
  });

  it('checks PMISPLICENSE_NOW with the others', () => {
    expect(() => checkEnvironment({ PMISPLICENSE_NOW: 'garbage' })).to.throw(EnvironmentError, 'PMISPLICENSE_NOW');
    expect(() => checkEnvironment({ PMISPLICENSE_NOW: '2026-01-10' })).to.not.throw();
    expect(() => checkEnvironment({})).to.not.throw();
  });
});
