import { expect } from "chai";
import { getHeapStatistics } from "node:v8";
import { heapBound } from "../../src/audit/heap.js";

const MiB = 2 ** 20;

describe("heapBound", function () {
  it("collects what is no longer alive once the heap has grown past its bound", function () {
    const check = heapBound(8 * MiB);
    let garbage: { i: number; s: string }[] | null = Array.from({ length: 300_000 }, (_, i) => ({ i, s: `x${i}` }));
    const grown = getHeapStatistics().used_heap_size;
    expect(garbage.length).to.equal(300_000);
    garbage = null;
    check();
    expect(getHeapStatistics().used_heap_size).to.be.below(grown - 8 * MiB);
  });
});
