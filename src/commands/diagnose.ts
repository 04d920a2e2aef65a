// PLACEHOLDER
export async function diagnose(_p: import('../config.js').Paths, _o: { item: number }): Promise<number> { throw new Error('not implemented'); }
