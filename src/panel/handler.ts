// PLACEHOLDER
export async function runPanel(_p: import('../config.js').Paths): Promise<number> { throw new Error('not implemented'); }
