import { describe, expect, it } from "vitest";
import type { ItemUpdate_Serialize } from "../src/bindings";
import { accepts, Store } from "../src/store";
import { done, queued, skipped } from "./fixtures";

const u = (id: number, status: ItemUpdate_Serialize["status"]): ItemUpdate_Serialize => ({ id, status });

describe("Store.add", () => {
  it("keeps ids in ascending order whatever order they are added in", () => {
    const store = new Store();
    store.add([queued(5), queued(6)]);
    store.add([queued(2)]);
    store.add([queued(9), queued(0)]);
    expect([0, 1, 2, 3, 4].map((i) => store.at(i)!.id)).toEqual([0, 2, 5, 6, 9]);
    expect(store.indexOf(6)).toBe(3);
    expect(store.indexOf(7)).toBe(-1);
  });

  it("ignores an id it already has", () => {
    const store = new Store();
    expect(store.add([queued(1)])).toBe(1);
    store.apply([u(1, { state: "running" })]);
    expect(store.add([queued(1)])).toBe(0);
    expect(store.get(1)!.status.state).toBe("running");
    expect(store.size).toBe(1);
  });
});

describe("Store.apply", () => {
  it("applies the updates of a batch in order", () => {
    const store = new Store();
    store.add([queued(0), queued(1)]);
    const changed = store.apply([u(0, { state: "running" }), u(1, { state: "running" }), u(0, done(1000, 400))]);
    expect(changed).toBe(true);
    expect(store.get(0)!.status.state).toBe("done");
    expect(store.get(1)!.status.state).toBe("running");
  });

  it("keeps updates that arrive before the file is added, and the late add does not undo them", () => {
    const store = new Store();
    expect(store.apply([u(3, { state: "running" })])).toBe(false);
    store.apply([u(3, done(2000, 500))]);
    expect(store.get(3)).toBeUndefined();
    store.add([queued(3, 2000)]);
    expect(store.get(3)!.status.state).toBe("done");
    expect(store.totals().done).toBe(1);
  });

  it("does not let a stale batch overwrite a newer state", () => {
    const store = new Store();
    store.add([queued(0), queued(1), queued(2)]);
    // Newer batch first…
    store.apply([u(0, done(1000, 400)), u(1, { state: "failed", reason: "broken" }), u(2, { state: "running" })]);
    // …then an older one.
    const changed = store.apply([u(0, { state: "running" }), u(1, { state: "running" }), u(2, { state: "queued" })]);
    expect(changed).toBe(false);
    expect(store.get(0)!.status.state).toBe("done");
    expect(store.get(1)!.status.state).toBe("failed");
    expect(store.get(2)!.status.state).toBe("running");
  });

  it("accepts a retry: failed → queued → running → done", () => {
    const store = new Store();
    store.add([queued(0)]);
    store.apply([u(0, { state: "failed", reason: "locked" })]);
    store.apply([u(0, { state: "queued" }), u(0, { state: "running" })]);
    expect(store.get(0)!.status.state).toBe("running");
    store.apply([u(0, done(1000, 100))]);
    expect(store.get(0)!.status.state).toBe("done");
  });

  it("early updates follow the same rules", () => {
    const store = new Store();
    store.apply([u(7, skipped(500, "already optimal")), u(7, { state: "running" })]);
    store.add([queued(7, 500)]);
    expect(store.get(7)!.status.state).toBe("skipped");
  });

  it("bumps version and row revisions only on change", () => {
    const store = new Store();
    store.add([queued(0)]);
    const v = store.version;
    const rev = store.get(0)!.rev;
    store.apply([u(0, { state: "running" })]);
    expect(store.version).toBe(v + 1);
    expect(store.get(0)!.rev).toBe(rev + 1);
    store.apply([u(0, { state: "queued" })]); // rejected
    expect(store.version).toBe(v + 1);
  });

  it("lists ids by state", () => {
    const store = new Store();
    store.add([queued(0), queued(1), queued(2), queued(3)]);
    store.apply([u(1, { state: "running" }), u(1, { state: "failed", reason: "x" }), u(3, { state: "cancelled" })]);
    expect(store.idsIn("failed")).toEqual([1]);
    expect(store.idsIn("failed", "cancelled")).toEqual([1, 3]);
  });
});

describe("transitions", () => {
  it("follows the queue's rules", () => {
    expect(accepts("queued", "running")).toBe(true);
    expect(accepts("queued", "cancelled")).toBe(true);
    expect(accepts("running", "done")).toBe(true);
    expect(accepts("running", "queued")).toBe(false);
    expect(accepts("done", "running")).toBe(false);
    expect(accepts("skipped", "failed")).toBe(false);
    expect(accepts("failed", "queued")).toBe(true);
    expect(accepts("cancelled", "queued")).toBe(true);
    expect(accepts("cancelled", "running")).toBe(false);
  });
});

describe("Store.totals", () => {
  it("counts states and sums bytes of finished files only", () => {
    const store = new Store();
    store.add([queued(0, 1000), queued(1, 3000), queued(2, 500), queued(3, 800), queued(4, 900), queued(5, 100)]);
    store.apply([
      u(0, done(1000, 400)),
      u(1, done(3000, 1000)),
      u(2, skipped(500, "already optimal")),
      u(3, { state: "failed", reason: "not an image" }),
      u(4, { state: "running" }),
      u(5, { state: "cancelled" }),
    ]);
    const t = store.totals();
    expect(t).toMatchObject({ files: 6, queued: 0, running: 1, done: 2, skipped: 1, failed: 1, cancelled: 1 });
    expect(t.bytesBefore).toBe(1000 + 3000 + 500);
    expect(t.bytesAfter).toBe(400 + 1000 + 500);
    expect(1 - t.bytesAfter / t.bytesBefore).toBeCloseTo(2600 / 4500);
  });

  it("recomputes after a change", () => {
    const store = new Store();
    store.add([queued(0, 1000)]);
    expect(store.totals()).toMatchObject({ files: 1, queued: 1, bytesBefore: 0 });
    store.apply([u(0, done(1000, 250))]);
    expect(store.totals()).toMatchObject({ queued: 0, done: 1, bytesBefore: 1000, bytesAfter: 250 });
  });
});
