import { expect } from 'chai';

/** Awaits a promise that must fail with an error of class `cls`; returns that error. */
export async function rejects<T extends Error>(p: Promise<unknown>, cls: new (...a: never[]) => T): Promise<T> {
  try {
    await p;
  } catch (e) {
    expect(e, String(e)).to.be.instanceOf(cls);
    return e as T;
  }
  throw new Error(`expected ${cls.name}, got success`);
}
