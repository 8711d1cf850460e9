// The Watch folders screen's data: the rules and log of the last overview, kept current by
// live activity events. No DOM.
//
// Counts are incremented locally, the way the backend counts them. An overview replaces
// everything; events that crossed it on the way (already in it, or newer than it) are
// recognised by their identity so that none is counted twice or lost.

import type { Activity, RuleStatus_Serialize, WatchOverview_Serialize } from "./bindings";
import { activityKey } from "./watch-format";

/** As many log lines as the backend keeps. */
export const LOG_CAPACITY = 500;

/** Events remembered after they were applied, to re-apply those newer than an overview. */
const RECENT_CAPACITY = 2000;

/** An overview request: responses older than the newest one applied are dropped. */
export interface Ticket {
  readonly id: number;
  /** The sequence number of the last event received when the request was sent. */
  readonly mark: number;
}

export interface Flushed {
  /** Log lines appended, oldest first. */
  added: Activity[];
  /** Folders whose counts changed. */
  folders: Set<string>;
}

export class WatchModel {
  rules: RuleStatus_Serialize[] = [];
  /** Oldest first, at most LOG_CAPACITY. */
  log: Activity[] = [];
  /** Whether any overview was applied yet. */
  loaded = false;

  private readonly inLog = new Map<string, number>();
  private pending: { seq: number; activity: Activity }[] = [];
  private recent: { seq: number; activity: Activity }[] = [];
  private seq = 0;
  private flushedSeq = 0;
  private issued = 0;
  private applied = 0;

  /** Call before sending a request whose answer is an overview. */
  begin(): Ticket {
    return { id: ++this.issued, mark: this.seq };
  }

  /** Queues a live event; `flush` applies it. */
  receive(activity: Activity): void {
    this.pending.push({ seq: ++this.seq, activity });
  }

  get hasPending(): boolean {
    return this.pending.length > 0;
  }

  /** Applies the queued events: appends them to the log and counts them. */
  flush(): Flushed {
    const added: Activity[] = [];
    const folders = new Set<string>();
    for (const entry of this.pending) {
      if (this.append(entry.activity)) {
        added.push(entry.activity);
        folders.add(entry.activity.folder);
      }
      this.remember(entry);
    }
    if (this.pending.length) this.flushedSeq = this.pending[this.pending.length - 1].seq;
    this.pending = [];
    return { added, folders };
  }

  /**
   * Takes the rules, counts and log of `overview`, answered to `ticket`. Returns false (and
   * changes nothing) when a newer overview was already applied.
   */
  replace(ticket: Ticket, overview: WatchOverview_Serialize): boolean {
    if (ticket.id < this.applied) return false;
    this.applied = ticket.id;
    this.loaded = true;
    this.rules = overview.rules.map((r) => ({ ...r, rule: { ...r.rule, output: { ...r.rule.output } }, counts: { ...r.counts } }));
    this.log = overview.log.slice(-LOG_CAPACITY);
    this.inLog.clear();
    for (const a of this.log) this.addKey(activityKey(a));
    // Events applied after the request went out that the overview does not have are newer
    // than it: apply them again. Those still pending are checked when they are flushed.
    // (When the overview's log is full, an older event may have been dropped from it already.)
    const oldest = this.log.length >= LOG_CAPACITY ? this.log[0].at : -Infinity;
    for (const entry of this.recent) {
      if (entry.seq > ticket.mark && entry.seq <= this.flushedSeq && entry.activity.at > oldest) this.append(entry.activity);
    }
    return true;
  }

  rule(folder: string): RuleStatus_Serialize | undefined {
    return this.rules.find((r) => r.rule.folder === folder);
  }

  /** Appends `a` unless the log has it already; counts it. */
  private append(a: Activity): boolean {
    const key = activityKey(a);
    if (this.inLog.has(key)) return false;
    this.log.push(a);
    this.addKey(key);
    while (this.log.length > LOG_CAPACITY) {
      const dropped = this.log.shift()!;
      const k = activityKey(dropped);
      const n = (this.inLog.get(k) ?? 1) - 1;
      if (n <= 0) this.inLog.delete(k);
      else this.inLog.set(k, n);
    }
    const counts = this.rule(a.folder)?.counts;
    if (counts) {
      switch (a.kind) {
        case "compressed":
          counts.compressed += 1;
          counts.bytes_before += a.before;
          counts.bytes_after += a.after;
          break;
        case "skipped":
          counts.skipped += 1;
          break;
        case "failed":
          counts.failed += 1;
          break;
        case "notice":
          break;
      }
    }
    return true;
  }

  private addKey(key: string): void {
    this.inLog.set(key, (this.inLog.get(key) ?? 0) + 1);
  }

  private remember(entry: { seq: number; activity: Activity }): void {
    this.recent.push(entry);
    if (this.recent.length > RECENT_CAPACITY) this.recent.splice(0, this.recent.length - RECENT_CAPACITY);
  }
}
