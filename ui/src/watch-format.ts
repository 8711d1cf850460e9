// Pure text for the Watch folders screen: log lines, per-rule counts, output sinks, states.
// No DOM.

import type { Activity, OutputMode, RuleCounts, RuleStatus_Serialize } from "./bindings";
import { formatBytes, formatCount, formatPercent, savedRatio } from "./format";

export type ActivityKindName = Activity["kind"];

/** Labels of the output modes, as the mode selects show them. */
export const OUTPUT_MODE_LABELS: Record<OutputMode, string> = {
  suffix: "Beside the original, with a suffix",
  folder: "In an output folder",
  in_place: "Replace the original (original to trash)",
  store: "Upload to a storage connector",
};

export const KIND_LABELS: Record<ActivityKindName, string> = {
  compressed: "Compressed",
  skipped: "Skipped",
  failed: "Failed",
  notice: "Notice",
};

/** "14:03:09", local time, independent of the machine's locale. */
export function formatClock(at: number): string {
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return "--:--:--";
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** The last part of a path, either separator ("IMG_1.jpg" for "/a/b/IMG_1.jpg"). */
export function baseName(path: string): string {
  const trimmed = path.replace(/[\\/]+$/, "");
  const cut = Math.max(trimmed.lastIndexOf("/"), trimmed.lastIndexOf("\\"));
  return cut >= 0 ? trimmed.slice(cut + 1) || trimmed : trimmed;
}

/** "−46.7 %" for a smaller result, "+4.1 %" for a larger one, "0 %" when equal. */
export function formatChange(before: number, after: number): string {
  const ratio = savedRatio(before, after);
  if (ratio === null) return "—";
  const text = formatPercent(Math.abs(ratio));
  if (text === "0 %") return text;
  return `${ratio > 0 ? "\u2212" : "+"}${text}`;
}

/** The file a log line is about (full path), or null for notices. */
export function activityFile(a: Activity): string | null {
  return a.kind === "notice" ? null : a.file;
}

/** What a log line says after the file name. */
export function activityDetail(a: Activity): string {
  switch (a.kind) {
    case "compressed":
      return `${formatBytes(a.before)} \u2192 ${formatBytes(a.after)} (${formatChange(a.before, a.after)})`;
    case "skipped":
      return a.reason;
    case "failed":
      return a.message;
    case "notice":
      return a.message;
  }
}

/** Where a compressed file's result went, for the log line's tooltip: a file, or an uploaded object. */
export function outputText(output: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(output) ? `Uploaded to ${output}` : `Saved as ${output}`;
}

/** A stable identity for a log line, to recognise one that came both as an event and in an overview. */
export function activityKey(a: Activity): string {
  const file = activityFile(a) ?? "";
  const rest = a.kind === "compressed" ? `${a.output}|${a.before}|${a.after}` : a.kind === "skipped" ? a.reason : a.message;
  return `${a.folder}\u0000${a.at}\u0000${a.kind}\u0000${file}\u0000${rest}`;
}

/** "3 compressed · 1 skipped · 0 failed · saved 1.20 MB (41.0 %)". */
export function formatCounts(c: RuleCounts): string {
  const parts = [`${formatCount(c.compressed)} compressed`, `${formatCount(c.skipped)} skipped`, `${formatCount(c.failed)} failed`];
  if (c.compressed > 0) {
    const saved = Math.max(0, c.bytes_before - c.bytes_after);
    parts.push(`saved ${formatBytes(saved)} (${formatPercent(savedRatio(c.bytes_before, c.bytes_after))})`);
  }
  return parts.join(" \u00b7 ");
}

/** "Watching", "Paused", or "Error: the folder does not exist". */
export function stateLabel(status: RuleStatus_Serialize): string {
  switch (status.state) {
    case "watching":
      return "Watching";
    case "paused":
      return "Paused";
    case "error":
      return `Error: ${status.message}`;
  }
}

/** A pasted path without surrounding whitespace or quotes ("Copy as path" on Windows adds them). */
export function cleanPath(text: string): string {
  let path = text.trim();
  if (path.length >= 2 && ((path.startsWith('"') && path.endsWith('"')) || (path.startsWith("'") && path.endsWith("'")))) {
    path = path.slice(1, -1).trim();
  }
  return path;
}
