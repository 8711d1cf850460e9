// Copy-to-clipboard buttons for hashes. One delegated click handler serves every button, so
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

/** Handles clicks on any `button.copy[data-copy]` inside `root`. */
export function handleCopyClicks(root: HTMLElement): void {
  root.addEventListener("click", async (event) => {
    const button = (event.target as Element).closest<HTMLButtonElement>("button.copy");
    if (!button || !root.contains(button)) return;
    event.stopPropagation();
    const text = button.dataset.copy;
    if (!text) return;
    const ok = await copyText(text);
    announce(ok ? "SHA-256 copied" : "Could not copy to the clipboard");
    if (ok) {
      button.classList.add("copied");
      button.replaceChildren(icon("check", 14));
      setTimeout(() => {
        button.classList.remove("copied");
        button.replaceChildren(icon("copy", 14));
      }, 1200);
    }
  });
}
