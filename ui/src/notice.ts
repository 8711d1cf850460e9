// Messages for people: a polite live region for screen readers, and a dismissible banner for
// errors (paths that could not be read, commands that failed).

import { h } from "./dom";

let liveRegion: HTMLElement | null = null;

/** Tells screen-reader users something without moving focus. */
export function announce(message: string): void {
  if (!liveRegion || !liveRegion.isConnected) {
    liveRegion = h("div", { class: "sr-only", role: "status", "aria-live": "polite" });
    document.body.appendChild(liveRegion);
  }
  liveRegion.textContent = "";
  // A new text node after clearing makes repeated messages be read again.
  const region = liveRegion;
  setTimeout(() => (region.textContent = message), 30);
}

export class NoticeBar {
  readonly el: HTMLElement;
  private readonly title: HTMLElement;
  private readonly details: HTMLUListElement;

  constructor() {
    this.title = h("strong", { class: "notice-title" });
    this.details = h("ul", { class: "notice-details" });
    const dismiss = h("button", { type: "button", class: "ghost small", "data-testid": "dismiss-notice" }, "Dismiss");
    dismiss.addEventListener("click", () => this.hide());
    this.el = h("div", { class: "notice", role: "alert", "data-testid": "notice", hidden: true },
      h("div", { class: "notice-text" }, this.title, this.details),
      dismiss,
    );
  }

  /** Shows `title`, with up to five of `lines` (and how many more). */
  show(title: string, lines: readonly string[] = []): void {
    this.title.textContent = title;
    const shown = lines.slice(0, 5).map((line) => h("li", {}, line));
    if (lines.length > 5) shown.push(h("li", { class: "muted" }, `and ${lines.length - 5} more`));
    this.details.replaceChildren(...shown);
    this.el.hidden = false;
  }

  hide(): void {
    this.el.hidden = true;
  }
}

/** A readable message from whatever a rejected promise carried. */
export function errorText(err: unknown): string {
  if (typeof err === "string") return err;
  if (err instanceof Error) return err.message;
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}
