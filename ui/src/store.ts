// The queue as the UI knows it: items by id, in id order, and their totals. Pure: no DOM, no IPC.
//
// Two kinds of disorder are handled:
// - status updates can arrive (by event) before the `add_paths` answer that names the file:
//   they are kept and applied when the file is added, and the late "queued" does not undo them;
// - a stale update can arrive after a newer one: a status only moves along the queue's own
//   transitions (see `accepts`), so e.g. "running" never overwrites "done".

import type { ItemStatus_Serialize, ItemUpdate_Serialize, QueuedItem, Report_Serialize } from "./bindings";

export type ItemState = ItemStatus_Serialize["state"];

export const STATES: readonly ItemState[] = ["queued", "running", "done", "skipped", "failed", "cancelled"];

export interface Item {
  readonly id: number;
  readonly path: string;
  readonly name: string;
  /** Size in bytes when the file was added. */
  readonly size: number;
  status: ItemStatus_Serialize;
  /** Bumped on every change, so views can skip rows that did not change. */
  rev: number;
}

export interface Totals {
  files: number;
  queued: number;
  running: number;
  done: number;
  skipped: number;
  failed: number;
  cancelled: number;
  /** Input bytes of the files that have a result (done or skipped). */
  bytesBefore: number;
  /** Output bytes of the same files. */
  bytesAfter: number;
}

const FINAL: ReadonlySet<ItemState> = new Set(["done", "skipped"]);
const RETRYABLE: ReadonlySet<ItemState> = new Set(["failed", "cancelled"]);

/**
 * Whether the queue can move a file from `from` to `to`. Done and skipped are final;
 * failed and cancelled only go back to queued (retry); nothing goes back to queued while
 * it is running.
 */
export function accepts(from: ItemState, to: ItemState): boolean {
  if (FINAL.has(from)) return false;
  if (RETRYABLE.has(from)) return to === "queued";
  if (from === "running") return to !== "queued";
  return true; // queued → anything
}

/** The report of a file that has one (done or skipped). */
export function reportOf(status: ItemStatus_Serialize): Report_Serialize | null {
  return status.state === "done" || status.state === "skipped" ? status.report : null;
}

/** Where a finished file's result is: an uploaded object's URL, or a local file. */
export type ResultPlace = { kind: "url"; url: string } | { kind: "file"; path: string };

/** Where the result of a done or skipped file went (the URL when it was uploaded), or null. */
export function resultPlace(status: ItemStatus_Serialize): ResultPlace | null {
  if (status.state !== "done" && status.state !== "skipped") return null;
  if (status.url) return { kind: "url", url: status.url };
  if (status.destination) return { kind: "file", path: status.destination };
  return null;
}

/** The failure or skip reason, if any. */
export function reasonOf(status: ItemStatus_Serialize): string | null {
  return status.state === "failed" || status.state === "skipped" ? status.reason : null;
}

export function emptyTotals(): Totals {
  return { files: 0, queued: 0, running: 0, done: 0, skipped: 0, failed: 0, cancelled: 0, bytesBefore: 0, bytesAfter: 0 };
}

export class Store {
  private readonly byId = new Map<number, Item>();
  /** Ids in ascending order (the queue hands them out in order). */
  private readonly order: number[] = [];
  /** Updates for ids not added yet, folded with the same transition rules. */
  private readonly early = new Map<number, ItemStatus_Serialize>();
  private cachedTotals: Totals | null = null;
  /** Bumped on every change; lets views know whether to redraw at all. */
  version = 0;

  get size(): number {
    return this.order.length;
  }

  get(id: number): Item | undefined {
    return this.byId.get(id);
  }

  /** The item at a display position (ids ascending). */
  at(index: number): Item | undefined {
    const id = this.order[index];
    return id === undefined ? undefined : this.byId.get(id);
  }

  indexOf(id: number): number {
    // Binary search: `order` is sorted.
    let lo = 0;
    let hi = this.order.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.order[mid];
      if (v === id) return mid;
      if (v < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Ids of the files in one of `states`, ascending. */
  idsIn(...states: ItemState[]): number[] {
    const wanted = new Set(states);
    const out: number[] = [];
    for (const id of this.order) {
      const item = this.byId.get(id)!;
      if (wanted.has(item.status.state)) out.push(id);
    }
    return out;
  }

  /** Adds files from an `AddResult`. Returns how many were new. */
  add(items: readonly QueuedItem[]): number {
    let added = 0;
    for (const q of items) {
      const existing = this.byId.get(q.id);
      if (existing) continue;
      const status = this.early.get(q.id) ?? { state: "queued" };
      this.early.delete(q.id);
      this.byId.set(q.id, { id: q.id, path: q.path, name: q.name, size: q.size, status, rev: 0 });
      this.insertId(q.id);
      added++;
    }
    if (added > 0) this.changed();
    return added;
  }

  /** Applies one batch of status updates, in order. Returns whether anything changed. */
  apply(updates: readonly ItemUpdate_Serialize[]): boolean {
    let changed = false;
    for (const { id, status } of updates) {
      const item = this.byId.get(id);
      if (!item) {
        const before = this.early.get(id)?.state ?? "queued";
        if (accepts(before, status.state)) this.early.set(id, status);
        continue;
      }
      if (!accepts(item.status.state, status.state)) continue;
      item.status = status;
      item.rev++;
      changed = true;
    }
    if (changed) this.changed();
    return changed;
  }

  totals(): Totals {
    if (this.cachedTotals) return this.cachedTotals;
    const t = emptyTotals();
    for (const item of this.byId.values()) {
      t.files++;
      t[item.status.state]++;
      const report = reportOf(item.status);
      if (report) {
        t.bytesBefore += report.input.size;
        t.bytesAfter += report.output.size;
      }
    }
    this.cachedTotals = t;
    return t;
  }

  private insertId(id: number): void {
    const last = this.order[this.order.length - 1];
    if (last === undefined || id > last) {
      this.order.push(id);
      return;
    }
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.order[mid] < id) lo = mid + 1;
      else hi = mid;
    }
    this.order.splice(lo, 0, id);
  }

  private changed(): void {
    this.cachedTotals = null;
    this.version++;
  }
}
