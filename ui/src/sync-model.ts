// Syncing a bucket from the Connectors screen, without the DOM: the request built from the sync
// form, and the texts of what a sync did (the summary line and one line per object).

import type { SyncOutcome_Serialize as SyncOutcome, SyncRequest_Serialize as SyncRequest } from "./bindings";
import { formatBytes, formatPercent, savedRatio } from "./format";

/** What was typed in a connector's sync panel. */
export interface SyncForm {
  /** The prefix whose objects are read ("uploads/"); empty: the whole bucket. */
  prefix: string;
  /** The prefix results go under ("optimized/"); empty: beside each object, with `suffix`. */
  destination: string;
  suffix: string;
  /** Another bucket than the connector's; empty: the connector's. */
  bucket: string;
}

export const DEFAULT_SUFFIX = "-min";

export const EMPTY_SYNC_FORM: Readonly<SyncForm> = { prefix: "", destination: "", suffix: DEFAULT_SUFFIX, bucket: "" };

export type SyncStatusName = SyncOutcome["status"];

export const SYNC_STATUSES: readonly SyncStatusName[] = ["compressed", "skipped", "unchanged", "failed"];

const blankToNull = (text: string): string | null => {
  const trimmed = text.trim();
  return trimmed === "" ? null : trimmed;
};

/** A prefix as the backend compares it: no leading slash, a trailing one when not empty. */
export function normalizePrefix(prefix: string): string {
  const trimmed = prefix.trim().replace(/^\/+/, "");
  return trimmed === "" || trimmed.endsWith("/") ? trimmed : `${trimmed}/`;
}

/**
 * Why the form cannot be sent, or null. Results under the prefix being read would be read
 * again as sources; a suffix must not be empty (nor a path) when results go beside objects.
 */
export function syncFormError(form: SyncForm): string | null {
  const destination = normalizePrefix(form.destination);
  if (destination !== "") {
    const prefix = normalizePrefix(form.prefix);
    if (destination === prefix) return "The results need another prefix than the one read.";
    return null;
  }
  const suffix = form.suffix.trim();
  if (suffix.includes("/")) return "The suffix cannot contain \u201c/\u201d.";
  return null;
}

/**
 * The request for sync_bucket: trimmed, blanks as null; the suffix only when results go beside
 * the objects (an empty one is the default, "-min").
 */
export function buildSyncRequest(connector: string, form: SyncForm, preset: string): SyncRequest {
  const destination = blankToNull(form.destination);
  return {
    connector,
    bucket: blankToNull(form.bucket),
    prefix: form.prefix.trim(),
    destination_prefix: destination,
    suffix: destination === null ? (blankToNull(form.suffix) ?? DEFAULT_SUFFIX) : null,
    preset,
  };
}

export interface SyncSummary {
  counts: Record<SyncStatusName, number>;
  /** The compressed objects' sizes before and after. */
  bytesBefore: number;
  bytesAfter: number;
}

export function summarize(outcomes: readonly SyncOutcome[]): SyncSummary {
  const counts: Record<SyncStatusName, number> = { compressed: 0, skipped: 0, unchanged: 0, failed: 0 };
  let bytesBefore = 0;
  let bytesAfter = 0;
  for (const outcome of outcomes) {
    counts[outcome.status] = (counts[outcome.status] ?? 0) + 1;
    if (outcome.status === "compressed" && outcome.size_after != null) {
      bytesBefore += outcome.size_before;
      bytesAfter += outcome.size_after;
    }
  }
  return { counts, bytesBefore, bytesAfter };
}

/**
 * "3 compressed · 0 skipped · 1 unchanged · 0 failed · saved 1.20 MB (64.0 %)"; the saving
 * only when something was compressed.
 */
export function summaryText(summary: SyncSummary): string {
  const parts = SYNC_STATUSES.map((status) => `${summary.counts[status]} ${status}`);
  if (summary.counts.compressed > 0 && summary.bytesBefore > 0) {
    const saved = summary.bytesBefore - summary.bytesAfter;
    parts.push(`saved ${formatBytes(Math.max(saved, 0))} (${formatPercent(savedRatio(summary.bytesBefore, summary.bytesAfter))})`);
  }
  return parts.join(" \u00b7 ");
}

/** The summary line of a sync's outcomes; a sentence when there was nothing to sync. */
export function describeSync(outcomes: readonly SyncOutcome[], prefix: string): string {
  if (outcomes.length === 0) {
    const where = prefix.trim() ? `under \u201c${prefix.trim()}\u201d` : "in the bucket";
    return `Nothing to sync: no images ${where}.`;
  }
  return summaryText(summarize(outcomes));
}

export const STATUS_LABELS: Record<SyncStatusName, string> = {
  compressed: "Compressed",
  skipped: "Skipped",
  unchanged: "Unchanged",
  failed: "Failed",
};

/** One object of a sync, as its line in the results list. */
export interface OutcomeLine {
  key: string;
  status: SyncStatusName;
  label: string;
  /** "2.41 MB → 812 kB (66.3 %)", "2.41 MB" when there is no result size. */
  sizes: string;
  url: string | null;
  /** Why it failed or was skipped; what an unchanged object means. */
  note: string | null;
}

export function outcomeLine(outcome: SyncOutcome): OutcomeLine {
  const before = formatBytes(outcome.size_before);
  let sizes = before;
  if (outcome.size_after != null) {
    const ratio = outcome.status === "compressed" ? ` (${formatPercent(savedRatio(outcome.size_before, outcome.size_after))})` : "";
    sizes = `${before} \u2192 ${formatBytes(outcome.size_after)}${ratio}`;
  }
  // A failure before the object was read has no size to show.
  if (outcome.status === "failed" && outcome.size_before === 0 && outcome.size_after == null) sizes = "";
  let note = outcome.message ?? null;
  if (note === null && outcome.status === "unchanged") note = "not changed since the last sync";
  return { key: outcome.key, status: outcome.status, label: STATUS_LABELS[outcome.status] ?? outcome.status, sizes, url: outcome.url ?? null, note };
}
