// Fixed-row-height virtualisation: only the rows in view (plus some overscan) exist in the DOM.
// Rows are keyed, so a row that stays in view keeps its element (and its focus).

export interface Range {
  /** First rendered index. */
  start: number;
  /** One past the last rendered index. */
  end: number;
}

/**
 * The rows to render for a viewport of `viewportHeight` pixels scrolled to `scrollTop`
 * (both relative to the first row), with `overscan` extra rows above and below.
 */
export function visibleRange(scrollTop: number, viewportHeight: number, rowHeight: number, count: number, overscan: number): Range {
  if (count <= 0 || rowHeight <= 0) return { start: 0, end: 0 };
  const top = Math.max(0, scrollTop);
  const first = Math.min(count - 1, Math.floor(top / rowHeight));
  const last = Math.min(count - 1, Math.floor((top + Math.max(0, viewportHeight) - 1) / rowHeight));
  return { start: Math.max(0, first - overscan), end: Math.min(count, Math.max(first, last) + 1 + overscan) };
}

/** The scrollTop that brings row `index` fully into view, or null when it already is. */
export function scrollToReveal(index: number, scrollTop: number, viewportHeight: number, rowHeight: number): number | null {
  const top = index * rowHeight;
  if (top < scrollTop) return top;
  if (top + rowHeight > scrollTop + viewportHeight) return Math.max(0, top + rowHeight - viewportHeight);
  return null;
}

export interface VirtualListOptions<K> {
  /** The scrolling element. */
  viewport: HTMLElement;
  /** The element rows are positioned in (inside the viewport). Its height is set here. */
  body: HTMLElement;
  rowHeight: number;
  overscan?: number;
  /** Pixels at the top of the viewport covered by a sticky header. */
  headerHeight?: () => number;
  count: () => number;
  keyAt: (index: number) => K;
  /** Where a key is; lets a focused row that scrolled out of view keep its element. */
  indexOf?: (key: K) => number;
  create: (key: K) => HTMLElement;
  /** Brings an element up to date with the item at `index`. Called on every render. */
  update: (el: HTMLElement, index: number, key: K) => void;
}

/** Used when the viewport has no layout yet (jsdom, hidden): enough rows to fill a screen. */
const FALLBACK_VIEWPORT = 720;

export class VirtualList<K> {
  private readonly rows = new Map<K, HTMLElement>();
  private readonly overscan: number;
  private frame = 0;
  private range: Range = { start: 0, end: 0 };

  constructor(private readonly opts: VirtualListOptions<K>) {
    this.overscan = opts.overscan ?? 8;
    opts.viewport.addEventListener("scroll", () => this.schedule(), { passive: true });
    if (typeof ResizeObserver !== "undefined") {
      new ResizeObserver(() => this.schedule()).observe(opts.viewport);
    } else {
      window.addEventListener("resize", () => this.schedule());
    }
  }

  get rendered(): number {
    return this.rows.size;
  }

  get currentRange(): Range {
    return this.range;
  }

  /** The element of a rendered row. */
  elementFor(key: K): HTMLElement | undefined {
    return this.rows.get(key);
  }

  viewportHeight(): number {
    const h = this.opts.viewport.clientHeight || FALLBACK_VIEWPORT;
    return Math.max(0, h - (this.opts.headerHeight?.() ?? 0));
  }

  /** Renders on the next animation frame (coalesces scroll and resize). */
  schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  /** Renders now. */
  render(): void {
    const { body, rowHeight, count, keyAt, create, update } = this.opts;
    const n = count();
    body.style.height = `${n * rowHeight}px`;
    const range = visibleRange(this.opts.viewport.scrollTop, this.viewportHeight(), rowHeight, n, this.overscan);
    this.range = range;

    const wanted = new Map<K, number>();
    for (let i = range.start; i < range.end; i++) wanted.set(keyAt(i), i);

    for (const [key, el] of this.rows) {
      if (wanted.has(key)) continue;
      // The focused row stays (out of view) so that keyboard focus is not lost while scrolling.
      const focused = el.contains(document.activeElement);
      const index = focused && this.opts.indexOf ? this.opts.indexOf(key) : -1;
      if (index >= 0 && index < n) {
        wanted.set(key, index);
      } else {
        el.remove();
        this.rows.delete(key);
      }
    }
    for (const [key, index] of wanted) {
      let el = this.rows.get(key);
      if (!el) {
        el = create(key);
        this.rows.set(key, el);
        body.appendChild(el);
      }
      el.style.transform = `translateY(${index * rowHeight}px)`;
      update(el, index, key);
    }
  }

  /** Scrolls so that row `index` is fully visible, and renders it. */
  reveal(index: number): void {
    const next = scrollToReveal(index, this.opts.viewport.scrollTop, this.viewportHeight(), this.opts.rowHeight);
    if (next !== null) this.opts.viewport.scrollTop = next;
    this.render();
  }
}
