// Modal dialogs: open with <dialog>.showModal() where it exists, trap Tab inside, close on
// Escape, and give focus back to where it was (or to a fallback) when closed.

const FOCUSABLE = [
  "a[href]",
  "button:not([disabled])",
  "input:not([disabled]):not([type=hidden])",
  "select:not([disabled])",
  "textarea:not([disabled])",
  "[tabindex]:not([tabindex='-1'])",
].join(",");

export function focusableIn(root: HTMLElement): HTMLElement[] {
  return Array.from(root.querySelectorAll<HTMLElement>(FOCUSABLE)).filter((el) => !el.closest("[hidden]") && !el.closest("[inert]"));
}

export interface ModalOptions {
  /** Called after the dialog closed (Escape, close button, or `close()`). */
  onClose?: () => void;
  /** Where focus goes when the element that opened the dialog is gone. */
  restoreFocus?: () => boolean;
}

export class Modal {
  private returnTo: HTMLElement | null = null;
  private isOpen = false;

  constructor(readonly el: HTMLDialogElement, private readonly opts: ModalOptions = {}) {
    el.setAttribute("aria-modal", "true");
    el.addEventListener("keydown", (e) => this.onKeyDown(e));
    // Native Escape handling: route it through close() so the cleanup always runs.
    el.addEventListener("cancel", (e) => {
      e.preventDefault();
      this.close();
    });
  }

  get open(): boolean {
    return this.isOpen;
  }

  show(initialFocus?: HTMLElement | null): void {
    if (this.isOpen) return;
    this.isOpen = true;
    const active = document.activeElement;
    this.returnTo = active instanceof HTMLElement && active !== document.body ? active : null;
    if (typeof this.el.showModal === "function") {
      try {
        this.el.showModal();
      } catch {
        this.el.setAttribute("open", "");
      }
    } else {
      this.el.setAttribute("open", "");
    }
    document.body.classList.add("modal-open");
    (initialFocus ?? focusableIn(this.el)[0] ?? this.el).focus();
  }

  close(): void {
    if (!this.isOpen) return;
    this.isOpen = false;
    if (typeof this.el.close === "function" && this.el.open) this.el.close();
    this.el.removeAttribute("open");
    document.body.classList.remove("modal-open");
    const target = this.returnTo;
    this.returnTo = null;
    if (target && target.isConnected) target.focus();
    else this.opts.restoreFocus?.();
    this.opts.onClose?.();
  }

  private onKeyDown(e: KeyboardEvent): void {
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      this.close();
      return;
    }
    if (e.key !== "Tab") return;
    const items = focusableIn(this.el);
    if (items.length === 0) {
      e.preventDefault();
      return;
    }
    const first = items[0];
    const last = items[items.length - 1];
    const active = document.activeElement;
    if (e.shiftKey && (active === first || !this.el.contains(active))) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && (active === last || !this.el.contains(active))) {
      e.preventDefault();
      first.focus();
    }
  }
}
