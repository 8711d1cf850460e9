// The empty-state drop zone, the whole-window highlight while dragging, and the native
// (Tauri webview) drag-and-drop events that feed them.

import type { UnlistenFn } from "@tauri-apps/api/event";
import { getCurrentWebview } from "@tauri-apps/api/webview";
import { h, icon } from "./dom";

export interface DropZoneHandlers {
  onAddFiles(): void;
  onAddFolder(): void;
}

export class DropZone {
  /** The large empty-state area, shown while the list is empty. */
  readonly el: HTMLElement;
  /** Covers the whole window while files are dragged over it. */
  readonly overlay: HTMLElement;
  private readonly overlayText: HTMLElement;

  constructor(handlers: DropZoneHandlers) {
    const files = h("button", { type: "button", class: "primary" }, icon("file"), "Choose files…");
    const folder = h("button", { type: "button" }, icon("folder"), "Choose a folder…");
    files.addEventListener("click", () => handlers.onAddFiles());
    folder.addEventListener("click", () => handlers.onAddFolder());
    this.el = h("section", { class: "dropzone", "data-testid": "dropzone", "aria-label": "Drop zone" },
      h("div", { class: "dropzone-icon" }, icon("upload", 40)),
      h("p", { class: "dropzone-title" }, "Drop images or folders here"),
      h("p", { class: "dropzone-hint" }, "JPEG, PNG, GIF, WebP, TIFF and BMP. Folders are searched recursively."),
      h("div", { class: "dropzone-actions" }, files, folder),
    );
    this.overlayText = h("p", {}, "Drop to add");
    this.overlay = h("div", { class: "drop-overlay", "data-testid": "drop-overlay", "aria-hidden": "true" },
      h("div", { class: "drop-overlay-inner" }, icon("upload", 48), this.overlayText),
    );
  }

  /** What the highlight says ("Drop to add", or what a drop does on another screen). */
  setOverlayText(text: string): void {
    this.overlayText.textContent = text;
  }

  setEmpty(empty: boolean): void {
    this.el.hidden = !empty;
  }

  setDragging(dragging: boolean): void {
    document.body.classList.toggle("dragging", dragging);
    this.el.classList.toggle("active", dragging);
  }
}

/**
 * Listens to the webview's native drag-and-drop; `onDrop` gets absolute paths.
 * Resolves to an unlisten function (a no-op outside Tauri).
 */
export async function listenForDrops(zone: DropZone, onDrop: (paths: string[]) => void): Promise<UnlistenFn> {
  try {
    return await getCurrentWebview().onDragDropEvent((event) => {
      const p = event.payload;
      switch (p.type) {
        case "enter":
        case "over":
          zone.setDragging(true);
          break;
        case "drop":
          zone.setDragging(false);
          if (p.paths.length > 0) onDrop(p.paths);
          break;
        case "leave":
          zone.setDragging(false);
          break;
      }
    });
  } catch (err) {
    console.warn("compressor: no native drag-and-drop here", err);
    return () => {};
  }
}
