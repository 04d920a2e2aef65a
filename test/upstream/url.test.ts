import { expect } from 'chai';
import { checkUpstreamUrl } from '../../src/upstream/url.js';
import { BadInputError } from '../../src/errors.js';

function refused(url: string): BadInputError {
  try {
    checkUpstreamUrl(url);
  } catch (e) {
    expect(e).to.be.instanceOf(BadInputError);
    const err = e as BadInputError;
    expect(err.object).to.equal('url');
    expect(err.retryable).to.equal(false);
    return err;
  }
  throw new Error(`accepted ${url}`);
}

describe('upstream/url: checkUpstreamUrl', () => {
  it('accepts https to any host', () => {
    for (const u of [
      'https://api.ispsystem.com/manager/billmgr',
      'https://api-eu.ispmanager.com/billmgr',
      'https://partner.example.net:1500/billmgr',
      '  https://203.0.113.5/billmgr  ',
      'https://[2001:db8::1]/billmgr',
    ]) {
      expect(checkUpstreamUrl(u)).to.be.instanceOf(URL);
    }
    expect(checkUpstreamUrl('https://api.ispsystem.com/manager/billmgr').pathname).to.equal('/manager/billmgr');
  });

  it('accepts http only to a loopback address', () => {
    for (const u of [
      'http://127.0.0.1:8080/billmgr',
      'http://127.10.20.30/billmgr',
      'http://localhost:1500/billmgr',
      'http://LOCALHOST/billmgr',
      'http://[::1]:1500/billmgr',
      'http://[::ffff:127.0.0.1]/billmgr',
      'http://2130706433/billmgr', // 127.0.0.1 written as a number: normalised by the URL parser
    ]) {
      expect(checkUpstreamUrl(u).protocol, u).to.equal('http:');
    }
  });

  it('refuses http to any other host, naming the rule', () => {
    for (const u of [
      'http://api.ispsystem.com/manager/billmgr',
      'http://10.0.0.1/billmgr',
      'http://128.0.0.1/billmgr',
      'http://[::2]/billmgr',
      'http://[::ffff:10.0.0.1]/billmgr',
      'http://localhost.example.com/billmgr',
      'http://127.0.0.1.nip.io/billmgr',
      'http://0.0.0.0/billmgr',
    ]) {
      expect(refused(u).message, u).to.match(/https:\/\/.*loopback|127\.0\.0\.1, ::1 or localhost/);
    }
  });

  it('refuses other schemes, garbage and empty values', () => {
    expect(refused('ftp://api.ispsystem.com/').message).to.match(/unsupported scheme "ftp"/);
    expect(refused('file:///etc/passwd').message).to.match(/unsupported scheme "file"/);
    expect(refused('javascript:alert(1)').message).to.match(/unsupported scheme/);
    expect(refused('api.ispsystem.com/manager/billmgr').message).to.match(/not a valid URL/);
    expect(refused('https://').message).to.match(/not a valid URL|no host/);
    expect(refused('not a url at all').message).to.match(/not a valid URL/);
    expect(refused('').message).to.match(/empty/);
    expect(refused('   ').message).to.match(/empty/);
  });

  it('refuses credentials in the URL without echoing them', () => {
    for (const u of ['https://reseller:Secr3tPass@api.ispsystem.com/billmgr', 'https://reseller@api.ispsystem.com/billmgr', 'http://u:Secr3tPass@127.0.0.1/billmgr']) {
      const err = refused(u);
      expect(err.message).to.match(/must not contain a user name or password/);
      expect(err.message + err.value).not.to.include('Secr3tPass');
    }
  });
});
