// PLACEHOLDER
export async function poolAdopt(_p: import('../config.js').Paths, _o: { module: number; license: number; force: boolean }): Promise<number> { throw new Error('not implemented'); }
