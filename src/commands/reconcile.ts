// PLACEHOLDER
export async function reconcile(_p: import('../config.js').Paths, _o: { module: number | null; json: boolean; apply: boolean }): Promise<number> { throw new Error('not implemented'); }
