// The offline optimum: the cheapest set of licenses covering, on every day, as many licenses as
// services alive that day, knowing the future. Exact, by min-cost flow:
//
// Let x(s,k) be how many licenses of kind k (1 month, 12 months) are bought on day s; one covers
// days s … end(s,k) (SPEC 1: expiredate = s + k months, the last paid day, inclusive). Cover day d:
// Σ_{s ≤ d ≤ end(s,k)} x(s,k) − y(d) = n(d), with surplus y(d) ≥ 0. Each license's column has
// consecutive ones (an interval), so subtracting row d−1 from row d (rows −1 and D being 0 = 0)
// leaves every column with one +1 and one −1: the node-arc incidence matrix of a network with
// nodes 0…D, an arc s → end+1 (capped at D) of cost price(k) per license bought, and an arc d+1 → d
// of cost 0 per surplus license; node v supplies n(v) − n(v−1). The matrix is totally unimodular,
// so the cheapest flow is integral and is the optimum of the covering problem itself — not a bound.
//
// Licenses are interchangeable within a tariff: a license moves from a service that closes to one
// that opens (pool re-use) as the flow lets it. Modelled as the real module never could: any day's
// purchase, moves at any time. Not modelled: the one IP/key change a calendar month (SPEC 5.5) —
// the optimum ignores it, so it is a lower bound of every policy (a policy's purchases and
// renewals are all arcs of this network), and the tests assert it is never above one.
// Renewals need no arcs: prolonging a paid license covers e+1 … e+k, which the purchase on day e+1
// covers as well for the same price.

export interface LicenseKind {
  /** 1, 12 (months); 0 lifetime. */
  months: number;
  cents: number;
  /** Last covered day index (inclusive) of a license bought on day index s. */
  end: (s: number) => number;
}

export interface Optimum {
  cents: number;
  /** Licenses bought per kind (months → count). */
  bought: Record<number, number>;
}

interface Arc {
  to: number;
  cap: number;
  cost: number;
  /** Index of the reverse arc in graph[to]. */
  rev: number;
  /** The license kind (months; 0 lifetime) a purchase arc buys; -1 for the rest. */
  kind: number;
}

const INF = Number.MAX_SAFE_INTEGER;

/**
 * Cheapest cover of `demand` (licenses needed on day index 0 … D−1) with licenses of `kinds`.
 * Successive shortest paths with Dijkstra on reduced costs (all arc costs start non-negative).
 */
export function cheapestCover(demand: readonly number[], kinds: readonly LicenseKind[]): Optimum {
  const D = demand.length;
  const bought: Record<number, number> = {};
  for (const k of kinds) bought[k.months] = 0;
  if (D === 0 || demand.every((n) => n === 0)) return { cents: 0, bought };
  if (kinds.length === 0) throw new Error('no license kind with a price: nothing can cover the demand');
  // Nodes 0…D are the days' boundaries; S = D+1 the source, T = D+2 the sink.
  const S = D + 1;
  const T = D + 2;
  const N = D + 3;
  const graph: Arc[][] = Array.from({ length: N }, () => []);
  const add = (from: number, to: number, cap: number, cost: number, kind = -1): void => {
    graph[from]!.push({ to, cap, cost, rev: graph[to]!.length, kind });
    graph[to]!.push({ to: from, cap: 0, cost: -cost, rev: graph[from]!.length - 1, kind: -1 });
  };
  let need = 0;
  for (let v = 0; v <= D; v++) {
    const b = (v < D ? demand[v]! : 0) - (v > 0 ? demand[v - 1]! : 0);
    if (b > 0) {
      add(S, v, b, 0);
      need += b;
    } else if (b < 0) add(v, T, -b, 0);
  }
  const uncapped = need; // no arc ever carries more than all the supply
  for (let s = 0; s < D; s++) {
    for (const k of kinds) add(s, Math.min(k.end(s) + 1, D), uncapped, k.cents, k.months);
    add(s + 1, s, uncapped, 0);
  }

  const potential = new Array<number>(N).fill(0);
  const dist = new Array<number>(N);
  const prevNode = new Int32Array(N);
  const prevArc = new Int32Array(N);
  const done = new Uint8Array(N);
  const heap: Array<[number, number]> = [];
  const heapPush = (d: number, v: number): void => {
    heap.push([d, v]);
    for (let i = heap.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (heap[parent]![0] <= heap[i]![0]) break;
      [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
      i = parent;
    }
  };
  const heapPop = (): [number, number] => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && heap[l]![0] < heap[m]![0]) m = l;
        if (r < heap.length && heap[r]![0] < heap[m]![0]) m = r;
        if (m === i) break;
        [heap[m], heap[i]] = [heap[i]!, heap[m]!];
        i = m;
      }
    }
    return top;
  };
  let flow = 0;
  let cents = 0;
  while (flow < need) {
    dist.fill(INF);
    done.fill(0);
    dist[S] = 0;
    // Dijkstra with a binary heap of (distance, node), stale entries skipped.
    heap.length = 0;
    heapPush(0, S);
    while (heap.length > 0) {
      const [best, u] = heapPop();
      if (done[u]) continue;
      done[u] = 1;
      const arcs = graph[u]!;
      for (let i = 0; i < arcs.length; i++) {
        const a = arcs[i]!;
        if (a.cap <= 0 || done[a.to]) continue;
        const nd = best + a.cost + potential[u]! - potential[a.to]!;
        if (nd < dist[a.to]!) {
          dist[a.to] = nd;
          prevNode[a.to] = u;
          prevArc[a.to] = i;
          heapPush(nd, a.to);
        }
      }
    }
    if (dist[T] === INF) throw new Error('the demand cannot be covered');
    for (let v = 0; v < N; v++) if (dist[v]! < INF) potential[v]! += dist[v]!;
    let push = need - flow;
    for (let v = T; v !== S; v = prevNode[v]!) push = Math.min(push, graph[prevNode[v]!]![prevArc[v]!]!.cap);
    for (let v = T; v !== S; v = prevNode[v]!) {
      const a = graph[prevNode[v]!]![prevArc[v]!]!;
      a.cap -= push;
      graph[v]![a.rev]!.cap += push;
      cents += push * a.cost;
    }
    flow += push;
  }
  // Licenses bought = flow on the purchase arcs (their reverse arcs hold it).
  for (let s = 0; s < D; s++) for (const a of graph[s]!) if (a.kind >= 0) bought[a.kind] = (bought[a.kind] ?? 0) + (uncapped - a.cap);
  return { cents, bought };
}
