// The bar above the table: totals, a badge naming the server when files added are compressed on
// a Compressor API server, and the "Retry failed" / "Cancel all" buttons.

import type { Settings_Serialize } from "./bindings";
import { h, setAttr, setText } from "./dom";
import { engineBadge } from "./engine-model";
import { formatBytes, formatCount, formatExactBytes, formatPercent, savedRatio } from "./format";
import type { Totals } from "./store";

export interface ToolbarHandlers {
  onCancelAll(): void;
  onRetryFailed(): void;
}

export class Toolbar {
  readonly el: HTMLElement;
  private readonly totals: HTMLElement;
  /** "Remote: <host>" when compressing on a server; hidden otherwise. */
  readonly engineBadge: HTMLElement;
  private readonly cancelAll: HTMLButtonElement;
  private readonly retryFailed: HTMLButtonElement;

  constructor(handlers: ToolbarHandlers) {
    this.totals = h("div", { class: "totals", "data-testid": "totals", "aria-live": "off" });
    this.retryFailed = h("button", { type: "button", "data-testid": "retry-failed" }, "Retry failed");
    this.cancelAll = h("button", { type: "button", "data-testid": "cancel-all" }, "Cancel all");
    this.engineBadge = h("span", { class: "badge engine-badge", "data-testid": "engine-badge", hidden: true });
    this.retryFailed.addEventListener("click", () => handlers.onRetryFailed());
    this.cancelAll.addEventListener("click", () => handlers.onCancelAll());
    this.el = h("div", { class: "toolbar", role: "toolbar", "aria-label": "Queue" },
      this.totals,
      h("div", { class: "toolbar-actions" }, this.engineBadge, this.retryFailed, this.cancelAll),
    );
  }

  /** Shows where files added from now on are compressed: a badge when on a server. */
  setEngine(settings: Pick<Settings_Serialize, "engine" | "remote_url">): void {
    const badge = engineBadge(settings);
    this.engineBadge.hidden = badge === null;
    setText(this.engineBadge, badge ?? "");
    setAttr(this.engineBadge, "title", badge === null ? null : `Files added from now on are compressed on ${settings.remote_url ?? "an API server"}`);
  }

  update(t: Totals): void {
    const d = this.totals.dataset;
    d.files = String(t.files);
    d.done = String(t.done);
    d.skipped = String(t.skipped);
    d.failed = String(t.failed);
    d.bytesBefore = String(t.bytesBefore);
    d.bytesAfter = String(t.bytesAfter);

    this.cancelAll.disabled = t.queued + t.running === 0;
    this.retryFailed.disabled = t.failed === 0;
    if (t.files === 0) {
      this.totals.replaceChildren(h("span", { class: "stat" }, "No files yet"));
      return;
    }
    const parts: Node[] = [stat(t.files, t.files === 1 ? "file" : "files", "strong")];
    if (t.queued) parts.push(stat(t.queued, "queued"));
    if (t.running) parts.push(stat(t.running, "running", "running"));
    parts.push(stat(t.done, "done", t.done ? "ok" : ""));
    if (t.skipped) parts.push(stat(t.skipped, "skipped"));
    parts.push(stat(t.failed, "failed", t.failed ? "bad" : ""));
    if (t.cancelled) parts.push(stat(t.cancelled, "cancelled"));
    if (t.done + t.skipped > 0) {
      const ratio = savedRatio(t.bytesBefore, t.bytesAfter);
      parts.push(
        h("span", { class: "stat bytes", title: `${formatExactBytes(t.bytesBefore)} → ${formatExactBytes(t.bytesAfter)}` },
          formatBytes(t.bytesBefore), h("span", { class: "arrow", "aria-label": "to" }, " → "), formatBytes(t.bytesAfter)),
        h("span", { class: `stat saved${ratio !== null && ratio > 0 ? " gain" : ""}` }, `saved ${formatPercent(ratio)}`),
      );
    }
    this.totals.replaceChildren(...parts);
  }
}

function stat(n: number, label: string, cls = ""): HTMLElement {
  return h("span", { class: `stat ${cls}`.trim() }, h("span", { class: "n" }, formatCount(n)), ` ${label}`);
}
