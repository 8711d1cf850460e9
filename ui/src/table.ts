// The results table: a sticky header over a virtualised body, row actions, and keyboard
// navigation (arrows/Home/End/PageUp/PageDown move between rows, Enter compares, Delete cancels).

import { handleCopyClicks } from "./copy";
import { h } from "./dom";
import { COLUMNS, type RowAction, actionOf, createRow, updateRow } from "./row";
import type { Store } from "./store";
import { VirtualList } from "./virtual-list";

export const ROW_HEIGHT = 44;

export interface TableHandlers {
  onAction(action: RowAction, id: number): void;
}

export class Table {
  readonly el: HTMLElement;
  private readonly head: HTMLElement;
  private readonly body: HTMLElement;
  private readonly list: VirtualList<number>;
  /** The row that takes Tab focus (roving tabindex). */
  private activeId: number | null = null;

  constructor(private readonly store: Store, private readonly handlers: TableHandlers) {
    this.head = h("div", { class: "thead", role: "rowgroup" },
      h("div", { class: "row header-row", role: "row", "aria-rowindex": 1 },
        ...COLUMNS.map((col) =>
          h("div", { class: `cell cell-${col.field}${"numeric" in col ? " num" : ""}`, role: "columnheader" },
            "hidden" in col ? h("span", { class: "sr-only" }, col.label) : col.label),
        ),
      ),
    );
    this.body = h("div", { class: "tbody", role: "rowgroup" });
    this.el = h("div", { class: "table", role: "table", "aria-label": "Files", "data-testid": "table", "aria-rowcount": 1 }, this.head, this.body);

    this.list = new VirtualList<number>({
      viewport: this.el,
      body: this.body,
      rowHeight: ROW_HEIGHT,
      overscan: 8,
      headerHeight: () => this.head.offsetHeight,
      count: () => store.size,
      keyAt: (i) => store.at(i)!.id,
      indexOf: (id) => store.indexOf(id),
      create: (id) => createRow(id),
      update: (el, index, id) => {
        updateRow(el, store.get(id)!, index);
        el.tabIndex = id === this.activeId ? 0 : -1;
      },
    });

    handleCopyClicks(this.body);
    this.body.addEventListener("click", (e) => this.onClick(e));
    this.body.addEventListener("dblclick", (e) => this.onDoubleClick(e));
    this.body.addEventListener("keydown", (e) => this.onKeyDown(e));
    this.body.addEventListener("focusin", (e) => {
      const id = rowIdOf(e.target);
      if (id !== null && id !== this.activeId) this.setActive(id);
    });
  }

  /** Number of row elements in the DOM (for tests and diagnostics). */
  get renderedRows(): number {
    return this.list.rendered;
  }

  /** Redraws the rows in view (call after the store changed). */
  refresh(): void {
    this.el.setAttribute("aria-rowcount", String(this.store.size + 1));
    this.list.render();
    this.ensureTabStop();
  }

  /** Focuses a file's row, scrolling it into view. Returns whether it could. */
  focusRow(id: number): boolean {
    const index = this.store.indexOf(id);
    if (index < 0) return false;
    this.setActive(id);
    this.list.reveal(index);
    const el = this.list.elementFor(id);
    if (!el) return false;
    el.focus({ preventScroll: true });
    return true;
  }

  private setActive(id: number): void {
    const previous = this.activeId === null ? undefined : this.list.elementFor(this.activeId);
    if (previous) previous.tabIndex = -1;
    this.activeId = id;
    const el = this.list.elementFor(id);
    if (el) el.tabIndex = 0;
  }

  /** Keeps exactly one row reachable with Tab, even when the active one scrolled away. */
  private ensureTabStop(): void {
    if (this.activeId !== null && this.list.elementFor(this.activeId)) return;
    const { start } = this.list.currentRange;
    const first = this.store.at(start);
    if (!first) return;
    const el = this.list.elementFor(first.id);
    if (el) el.tabIndex = 0;
  }

  private onClick(e: MouseEvent): void {
    const button = (e.target as Element).closest<HTMLButtonElement>("button[data-action]");
    const id = rowIdOf(e.target);
    if (!button || id === null) return;
    this.handlers.onAction(button.dataset.action as RowAction, id);
  }

  private onDoubleClick(e: MouseEvent): void {
    if ((e.target as Element).closest("button")) return;
    const id = rowIdOf(e.target);
    const item = id === null ? undefined : this.store.get(id);
    if (item && actionOf(item.status) === "compare") this.handlers.onAction("compare", item.id);
  }

  private onKeyDown(e: KeyboardEvent): void {
    const id = rowIdOf(e.target);
    if (id === null) return;
    const index = this.store.indexOf(id);
    const onRow = (e.target as Element).matches("[data-testid=row]");
    const page = Math.max(1, Math.floor(this.list.viewportHeight() / ROW_HEIGHT) - 1);
    let next: number | null = null;
    switch (e.key) {
      case "ArrowDown": next = index + 1; break;
      case "ArrowUp": next = index - 1; break;
      case "PageDown": next = index + page; break;
      case "PageUp": next = index - page; break;
      case "Home": if (onRow) next = 0; break;
      case "End": if (onRow) next = this.store.size - 1; break;
      case "Enter":
      case "Delete": {
        if (!onRow) return;
        const item = this.store.get(id);
        if (!item) return;
        const action = actionOf(item.status);
        if ((e.key === "Enter" && action === "compare") || (e.key === "Delete" && action === "cancel")) {
          e.preventDefault();
          this.handlers.onAction(action, id);
        }
        return;
      }
      default:
        return;
    }
    if (next === null) return;
    e.preventDefault();
    const target = this.store.at(Math.max(0, Math.min(this.store.size - 1, next)));
    if (target) this.focusRow(target.id);
  }
}

function rowIdOf(target: EventTarget | null): number | null {
  const row = (target as Element | null)?.closest?.<HTMLElement>("[data-testid=row]");
  return row ? Number(row.dataset.id) : null;
}
