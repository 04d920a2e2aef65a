import { expect } from 'chai';
import { needsRenewal } from '../../src/pool/renewal.js';

const base = { licensePeriod: 1, licenseExpires: '2025-03-10', serviceExpires: '2025-06-01', serviceActive: true, today: '2025-03-05' };

describe('renewal rule (SPEC 5.3)', () => {
  it('renews within the 5-day lead when the service is paid beyond the license', () => {
    expect(needsRenewal(base)).to.equal(true);
    expect(needsRenewal({ ...base, today: '2025-03-04' })).to.equal(false); // 6 days left
  });
  it('renews a license that already lapsed while the service is paid', () => {
    expect(needsRenewal({ ...base, today: '2025-03-20' })).to.equal(true);
  });
  it('never buys ahead of the service', () => {
    expect(needsRenewal({ ...base, serviceExpires: '2025-03-10' })).to.equal(false);
    expect(needsRenewal({ ...base, serviceExpires: '2025-03-01' })).to.equal(false);
  });
  it('never renews lifetime licenses or licenses of inactive services', () => {
    expect(needsRenewal({ ...base, licensePeriod: 0 })).to.equal(false);
    expect(needsRenewal({ ...base, serviceActive: false })).to.equal(false);
  });
});
