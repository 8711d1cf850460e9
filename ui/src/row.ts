// One results-table row: building its element once, and bringing it up to date with an item.

import type { ItemStatus_Serialize, Report_Serialize } from "./bindings";
import { copyButton } from "./copy";
import { h, setAttr, setText } from "./dom";
import { extensionOf, folderOf, formatBytes, formatDimensions, formatExactBytes, formatName, formatPercent, parentName, savedRatio, shortHash } from "./format";
import { type Item, type ItemState, type ResultPlace, reasonOf, reportOf, resultPlace } from "./store";

export const COLUMNS = [
  { field: "name", label: "Name" },
  { field: "type", label: "Type" },
  { field: "before", label: "Before", numeric: true },
  { field: "after", label: "After", numeric: true },
  { field: "saved", label: "Saved", numeric: true },
  { field: "sha-before", label: "SHA-256 before" },
  { field: "sha-after", label: "SHA-256 after" },
  { field: "status", label: "Status" },
  { field: "actions", label: "Actions", hidden: true },
] as const;

export type Field = (typeof COLUMNS)[number]["field"];

export type RowAction = "cancel" | "retry" | "compare";

/** The one action a file in `state` offers. */
export function actionFor(state: ItemState): RowAction {
  switch (state) {
    case "queued":
    case "running":
      return "cancel";
    case "failed":
    case "cancelled":
      return "retry";
    case "done":
    case "skipped":
      return "compare";
  }
}

/**
 * The action a file's row offers, or null: the compare view needs a picture and a local result,
 * so a PDF, a video, an archive or an uploaded result has none.
 */
export function actionOf(status: ItemStatus_Serialize): RowAction | null {
  const action = actionFor(status.state);
  if (action !== "compare") return action;
  const report = reportOf(status);
  if (report && report.input.type !== "image") return null;
  if (resultPlace(status)?.kind === "url") return null;
  return action;
}

/** The line a result's place adds to the status cell's tooltip. */
export function placeText(place: ResultPlace | null): string | null {
  if (!place) return null;
  return place.kind === "url" ? `Uploaded to ${place.url}` : `Saved as ${place.path}`;
}

const ACTION_LABELS: Record<RowAction, string> = { cancel: "Cancel", retry: "Retry", compare: "Compare" };

const STATE_LABELS: Record<ItemState, string> = {
  queued: "Queued",
  running: "Running",
  done: "Done",
  skipped: "Skipped",
  failed: "Failed",
  cancelled: "Cancelled",
};

type Cells = Record<Field, HTMLElement>;

const cellsOf = new WeakMap<HTMLElement, Cells>();

export function createRow(id: number): HTMLElement {
  const row = h("div", { class: "row", role: "row", tabindex: -1, "data-testid": "row", "data-id": id });
  const cells = {} as Cells;
  for (const col of COLUMNS) {
    const cell = h("div", {
      class: `cell cell-${col.field}${"numeric" in col ? " num" : ""}`,
      role: "cell",
      "data-field": col.field === "actions" ? null : col.field,
    });
    cells[col.field] = cell;
    row.appendChild(cell);
  }
  cellsOf.set(row, cells);
  return row;
}

export function updateRow(row: HTMLElement, item: Item, index: number): void {
  setAttr(row, "aria-rowindex", index + 2);
  const stamp = String(item.rev);
  if (row.dataset.rev === stamp && row.dataset.id === String(item.id)) return;
  row.dataset.rev = stamp;

  const cells = cellsOf.get(row)!;
  const { status } = item;
  const report = reportOf(status);
  // A salvaged damaged input says so where a failure would: the result is only what was readable.
  const reason = reasonOf(status) ?? (report?.damage ? `damaged input, salvaged: ${report.damage}` : null);
  const before = report?.input.size ?? item.size;
  const after = report?.output.size ?? null;
  const shaBefore = report?.input.hashes.sha256 ?? null;
  const shaAfter = report?.output.hashes.sha256 ?? null;

  setAttr(row, "data-state", status.state);
  setAttr(row, "data-bytes-before", before);
  setAttr(row, "data-bytes-after", after);
  setAttr(row, "data-sha-before", shaBefore);
  setAttr(row, "data-sha-after", shaAfter);
  setAttr(row, "aria-label", `${item.name}, ${STATE_LABELS[status.state]}`);

  // Name, with the folder muted underneath.
  cells.name.replaceChildren(
    h("span", { class: "file-name", title: item.path }, item.name),
    h("span", { class: "file-dir", title: folderOf(item.path) }, parentName(item.path)),
  );

  // Type: the detected format once known (and the output's when it changed), else the extension.
  if (report) {
    const from = formatName(report.input.format);
    const to = formatName(report.output.format);
    setText(cells.type, from === to ? from : `${from} → ${to}`);
    cells.type.classList.remove("muted");
  } else {
    setText(cells.type, extensionOf(item.name));
    cells.type.classList.add("muted");
  }

  setText(cells.before, formatBytes(before));
  setAttr(cells.before, "title", formatExactBytes(before));
  setText(cells.after, after === null ? "—" : formatBytes(after));
  cells.after.classList.toggle("empty", after === null);
  setAttr(cells.after, "title", after === null ? null : formatExactBytes(after));

  const ratio = after === null ? null : savedRatio(before, after);
  setText(cells.saved, formatPercent(ratio));
  cells.saved.classList.toggle("gain", ratio !== null && ratio >= 0.0005);
  cells.saved.classList.toggle("loss", ratio !== null && ratio <= -0.0005);
  cells.saved.classList.toggle("empty", ratio === null);

  fillHash(cells["sha-before"], shaBefore, `Copy SHA-256 of the original ${item.name}`);
  fillHash(cells["sha-after"], shaAfter, `Copy SHA-256 of the result for ${item.name}`);

  const place = resultPlace(status);
  const url = place?.kind === "url" ? place.url : null;
  setAttr(row, "data-url", url);
  const badge = h("span", { class: `badge badge-${status.state}` }, STATE_LABELS[status.state]);
  const parts: Node[] = [badge];
  if (status.state === "running") parts.push(progressBar(item.name, status.progress ?? null));
  const reasonEl = reason ? h("span", { class: "reason", title: reason }, reason) : null;
  if (url) {
    // An uploaded result: its object's URL is where it is.
    const urlEl = h("span", { class: "result-url", "data-testid": "result-url", title: url }, url);
    parts.push(reasonEl ? h("span", { class: "status-lines" }, reasonEl, urlEl) : urlEl);
  } else if (reasonEl) {
    parts.push(document.createTextNode(" "), reasonEl);
  }
  cells.status.replaceChildren(...parts);
  // What was done, the facts of the kind (pages, duration, members) and where the result is,
  // on hover: the compare view only exists for pictures kept here.
  const tooltip = [report ? describeReport(report) : null, placeText(place)].filter((t): t is string => t !== null);
  setAttr(cells.status, "title", tooltip.length ? tooltip.join("\n") : null);

  const action = actionOf(status);
  if (action === null) {
    cells.actions.replaceChildren(...(url ? [copyUrlButton(url, item.name)] : []));
    return;
  }
  cells.actions.replaceChildren(
    h("button", {
      type: "button",
      class: `small action-${action}`,
      "data-action": action,
      "aria-label": `${ACTION_LABELS[action]} ${item.name}`,
    }, ACTION_LABELS[action]),
  );
}

/** "Copy URL": served by the table's delegated copy handler. */
function copyUrlButton(url: string, name: string): HTMLButtonElement {
  return h("button", { type: "button", class: "small copy copy-url", "data-testid": "copy-url", "data-copy": url, "data-copy-what": "URL", "aria-label": `Copy the URL of ${name}`, title: url }, "Copy URL");
}

function fillHash(cell: HTMLElement, hash: string | null, copyLabel: string): void {
  if (!hash) {
    cell.replaceChildren(h("span", { class: "muted" }, "—"));
    return;
  }
  const button = copyButton(copyLabel);
  button.dataset.copy = hash;
  cell.replaceChildren(h("code", { class: "hash", title: hash }, shortHash(hash)), button);
}

/** "42 pages · 6.6 MB → 4.0 MB" and the actions, one per line. */
export function describeReport(report: Report_Serialize): string {
  const facts: string[] = [];
  const { input, output } = report;
  if (output.pages != null) facts.push(`${output.pages} ${output.pages === 1 ? "page" : "pages"}`);
  if (output.members != null) facts.push(`${output.members} ${output.members === 1 ? "member" : "members"}`);
  if (output.duration != null) facts.push(`${output.duration.toFixed(1)} s`);
  const codecs = [output.video_codec, output.audio_codec].filter(Boolean).join(" + ");
  if (codecs) facts.push(codecs);
  if (output.width != null && output.height != null) facts.push(formatDimensions(output.width, output.height));
  facts.push(`${formatBytes(input.size)} → ${formatBytes(output.size)}`);
  return [facts.join(" · "), ...report.actions, ...(report.warnings ?? []).map((w) => `warning: ${w}`)].join("\n");
}

/**
 * A running file's bar: how far it is when the engine says (a video reports its frames done),
 * else an indeterminate bar.
 */
export function progressBar(name: string, fraction: number | null): HTMLElement {
  if (fraction === null) {
    return h("div", { class: "progress", role: "progressbar", "aria-label": `Compressing ${name}` }, h("div", { class: "progress-bar" }));
  }
  const percent = Math.round(Math.min(1, Math.max(0, fraction)) * 100);
  const bar = h("div", { class: "progress-bar determinate" });
  bar.style.width = `${percent}%`;
  return h(
    "div",
    {
      class: "progress",
      role: "progressbar",
      "aria-label": `Compressing ${name}`,
      "aria-valuemin": 0,
      "aria-valuemax": 100,
      "aria-valuenow": percent,
      "data-progress": percent,
      title: `${percent} %`,
    },
    bar,
  );
}
