// Copy-to-clipboard buttons for hashes and URLs. One delegated click handler serves every button, so
// virtualised rows can be recycled without re-binding listeners.

import { h, icon } from "./dom";
import { announce } from "./notice";

/** A small button that copies `data-copy` to the clipboard. */
export function copyButton(label: string): HTMLButtonElement {
  const button = h("button", { type: "button", class: "icon-button copy", "aria-label": label, title: label });
  button.appendChild(icon("copy", 14));
  return button;
}

export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Handles clicks on any `button.copy[data-copy]` inside `root`; `data-copy-what` names what is
 * copied for the announcement (default "SHA-256").
 */
export function handleCopyClicks(root: HTMLElement): void {
  root.addEventListener("click", async (event) => {
    const button = (event.target as Element).closest<HTMLButtonElement>("button.copy");
    if (!button || !root.contains(button)) return;
    event.stopPropagation();
    const text = button.dataset.copy;
    if (!text) return;
    const ok = await copyText(text);
    announce(ok ? `${button.dataset.copyWhat ?? "SHA-256"} copied` : "Could not copy to the clipboard");
    if (ok && !button.classList.contains("copied")) {
      const content = Array.from(button.childNodes);
      button.classList.add("copied");
      // An icon button shows a check mark for a moment; a labelled one says so.
      button.replaceChildren(content.some((n) => n.nodeType === Node.TEXT_NODE) ? "Copied" : icon("check", 14));
      setTimeout(() => {
        button.classList.remove("copied");
        button.replaceChildren(...content);
      }, 1200);
    }
  });
}
