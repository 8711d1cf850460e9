import { afterEach, describe, expect, it } from "vitest";
import { Store } from "../src/store";
import { ROW_HEIGHT, Table } from "../src/table";
import { scrollToReveal, visibleRange } from "../src/virtual-list";
import { queued } from "./fixtures";

describe("visibleRange", () => {
  it("covers the viewport plus overscan", () => {
    expect(visibleRange(0, 440, 44, 10_000, 8)).toEqual({ start: 0, end: 18 });
    expect(visibleRange(44 * 5000, 440, 44, 10_000, 8)).toEqual({ start: 4992, end: 5018 });
  });

  it("includes a partly visible row", () => {
    // 20 px into row 1, 100 px tall: rows 1, 2, 3 are (partly) visible.
    expect(visibleRange(64, 100, 44, 100, 0)).toEqual({ start: 1, end: 4 });
  });

  it("clamps at both ends", () => {
    expect(visibleRange(-50, 440, 44, 10_000, 8)).toEqual({ start: 0, end: 18 });
    expect(visibleRange(44 * 20_000, 440, 44, 10_000, 8)).toEqual({ start: 9991, end: 10_000 });
    expect(visibleRange(0, 440, 44, 3, 8)).toEqual({ start: 0, end: 3 });
  });

  it("is empty without rows", () => {
    expect(visibleRange(0, 440, 44, 0, 8)).toEqual({ start: 0, end: 0 });
    expect(visibleRange(0, 0, 44, 10, 0)).toEqual({ start: 0, end: 1 });
  });
});

describe("scrollToReveal", () => {
  it("scrolls only when needed", () => {
    expect(scrollToReveal(5, 0, 440, 44)).toBeNull();
    expect(scrollToReveal(10, 0, 440, 44)).toBe(44);
    expect(scrollToReveal(2, 440, 440, 44)).toBe(88);
  });
});

describe("Table with 10,000 files", () => {
  afterEach(() => document.body.replaceChildren());

  function mount() {
    const store = new Store();
    store.add(Array.from({ length: 10_000 }, (_, i) => queued(i, 1000 + i)));
    const table = new Table(store, { onAction: () => {} });
    document.body.appendChild(table.el);
    let scrollTop = 0;
    Object.defineProperty(table.el, "scrollTop", { get: () => scrollTop, set: (v: number) => (scrollTop = v), configurable: true });
    Object.defineProperty(table.el, "clientHeight", { value: 600, configurable: true });
    table.refresh();
    return { store, table, scrollTo: (v: number) => (scrollTop = v) };
  }

  it("renders fewer than 100 row elements", () => {
    const { table } = mount();
    const rows = document.querySelectorAll("[data-testid=row]");
    expect(rows.length).toBeGreaterThan(10);
    expect(rows.length).toBeLessThan(100);
    expect(table.renderedRows).toBe(rows.length);
    // The body is as tall as all rows, so the scrollbar is right.
    expect((table.el.querySelector(".tbody") as HTMLElement).style.height).toBe(`${10_000 * ROW_HEIGHT}px`);
  });

  it("renders the rows at the scroll position, and drops the others", () => {
    const { table, scrollTo } = mount();
    scrollTo(ROW_HEIGHT * 7000);
    table.refresh();
    const ids = Array.from(document.querySelectorAll<HTMLElement>("[data-testid=row]"), (r) => Number(r.dataset.id));
    expect(ids).toContain(7000);
    expect(ids).toContain(7005);
    expect(ids).not.toContain(0);
    expect(ids.length).toBeLessThan(100);
    const row = document.querySelector<HTMLElement>('[data-testid=row][data-id="7000"]')!;
    expect(row.style.transform).toBe(`translateY(${7000 * ROW_HEIGHT}px)`);
    expect(row.getAttribute("data-bytes-before")).toBe("8000");
  });

  it("moves focus with the arrow keys, scrolling as needed", () => {
    const { table } = mount();
    table.focusRow(0);
    let active = document.activeElement as HTMLElement;
    expect(active.dataset.id).toBe("0");
    for (let i = 0; i < 30; i++) {
      active.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowDown", bubbles: true }));
      active = document.activeElement as HTMLElement;
    }
    expect(active.dataset.id).toBe("30");
    expect(table.el.scrollTop).toBeGreaterThan(0);
    active.dispatchEvent(new KeyboardEvent("keydown", { key: "End", bubbles: true }));
    expect((document.activeElement as HTMLElement).dataset.id).toBe("9999");
    expect(document.querySelectorAll("[data-testid=row]").length).toBeLessThan(100);
    // Exactly one row is in the Tab order.
    expect(document.querySelectorAll('[data-testid=row][tabindex="0"]').length).toBe(1);
  });
});
