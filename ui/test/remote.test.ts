// "Compress on" in the settings dialog, against a mocked backend with a mocked keychain: a
// Compressor API server chosen with its key (the key to the keychain first, then the settings,
// which never hold it), the errors shown by the fields, a key already saved, and back to this
// computer. The header's badge follows.

import { clearMocks, mockIPC, mockWindows } from "@tauri-apps/api/mocks";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type App, mountApp } from "../src/app";
import type { Settings_Serialize } from "../src/bindings";
import { PRESETS, settings } from "./fixtures";

type Call = { cmd: string; args: Record<string, unknown> };

const SERVER = "http://127.0.0.1:8080";
const KEY = "test-api-key-0123456789";

let calls: Call[];
let app: App | null;
let stored: Settings_Serialize;
/** Servers the mocked keychain holds a key for. */
let keychain: Set<string>;
let keychainError: string | null;

const called = (cmd: string) => calls.filter((c) => c.cmd === cmd);
const saved = (i = 0) => called("save_settings")[i].args.settings as Settings_Serialize;
const $ = <T extends Element = HTMLElement>(selector: string) => document.querySelector<T>(selector)!;
const dialog = () => $<HTMLDialogElement>("[data-testid=settings-dialog]");
const isOpen = () => dialog().hasAttribute("open");
const badge = () => $("[data-testid=engine-badge]");
const keySavedNote = () => $("[data-testid=remote-key-saved]");
const urlError = () => $("[data-testid=remote-url-error]");
const keyError = () => $("[data-testid=remote-key-error]");
const keyInput = () => $<HTMLInputElement>("#remote-key");
const urlInput = () => $<HTMLInputElement>("#remote-url");

function type(input: HTMLInputElement, value: string) {
  input.value = value;
  input.dispatchEvent(new Event("input", { bubbles: true }));
}

const save = () => $<HTMLButtonElement>("[data-testid=save-settings]").click();

async function mount(initial: Settings_Serialize) {
  stored = initial;
  app = mountApp(document.getElementById("app")!);
  await vi.waitFor(() => expect(document.body.dataset.ready).toBe("true"));
}

async function openSettings() {
  $<HTMLButtonElement>("[data-testid=open-settings]").click();
  expect(isOpen()).toBe(true);
}

beforeEach(() => {
  calls = [];
  app = null;
  keychain = new Set();
  keychainError = null;
  mockWindows("main");
  mockIPC(async (cmd, args) => {
    const a = (args ?? {}) as Record<string, unknown>;
    calls.push({ cmd, args: a });
    switch (cmd) {
      case "list_presets":
        return PRESETS;
      case "load_settings":
        return stored;
      case "save_settings":
        stored = a.settings as Settings_Serialize;
        return null;
      case "set_remote_key":
        if (keychainError) throw keychainError;
        keychain.add(a.url as string);
        return null;
      case "has_remote_key":
        return keychain.has(a.url as string);
      default:
        return null;
    }
  }, { shouldMockEvents: true });
  document.body.innerHTML = '<div id="app"></div>';
});

afterEach(() => {
  app?.destroy();
  clearMocks();
  document.body.replaceChildren();
});

describe("compressing on a Compressor API server", () => {
  it("offers this computer and a server, this computer chosen, without a badge", async () => {
    await mount(settings());
    expect(badge().hidden).toBe(true);
    await openSettings();
    expect($<HTMLInputElement>("#engine-local").checked).toBe(true);
    expect($<HTMLInputElement>("#engine-remote").checked).toBe(false);
    expect($("[data-testid=engine-choice]").textContent).toContain("This computer");
    expect($("[data-testid=engine-choice]").textContent).toContain("A Compressor API server");
    // The server's fields only show once it is chosen.
    expect($("[data-testid=remote-detail]").hidden).toBe(true);
    $<HTMLInputElement>("#engine-remote").click();
    expect($("[data-testid=remote-detail]").hidden).toBe(false);
    expect(urlInput().placeholder).toBe(SERVER);
    expect(keyInput().type).toBe("password");
    expect($("#remote-key-hint").textContent).toMatch(/system keychain/);
    expect(keyInput().getAttribute("aria-describedby")).toContain("remote-key-hint");
    expect(keySavedNote().hidden).toBe(true);
  });

  it("stores the typed key in the keychain, then saves the settings without it", async () => {
    await mount(settings());
    await openSettings();
    $<HTMLInputElement>("#engine-remote").click();
    type(urlInput(), ` ${SERVER}/ `);
    type(keyInput(), KEY);
    save();
    await vi.waitFor(() => expect(isOpen()).toBe(false));

    // The key first, under the URL as stored...
    const order = calls.map((c) => c.cmd).filter((c) => c === "set_remote_key" || c === "save_settings");
    expect(order).toEqual(["set_remote_key", "save_settings"]);
    expect(called("set_remote_key")[0].args).toEqual({ url: SERVER, key: KEY });
    // ...then the settings: remote, the URL without its trailing slash, and no key anywhere.
    expect(saved()).toMatchObject({ engine: "remote", remote_url: SERVER, preset: "balanced", output: { mode: "suffix", suffix: "-min" } });
    expect(JSON.stringify(saved())).not.toContain(KEY);

    // The header says where files go now.
    expect(badge().hidden).toBe(false);
    expect(badge().textContent).toBe("Remote: 127.0.0.1:8080");
    // The key is not kept in the form.
    expect(keyInput().value).toBe("");
  });

  it("asks for a key when none is typed or saved, and saves nothing", async () => {
    await mount(settings());
    await openSettings();
    $<HTMLInputElement>("#engine-remote").click();
    type(urlInput(), SERVER);
    save();
    await vi.waitFor(() => expect(keyError().hidden).toBe(false));
    expect(keyError().textContent).toBe("Enter the server's API key.");
    expect(keyInput().getAttribute("aria-invalid")).toBe("true");
    expect(document.activeElement).toBe(keyInput());
    expect(urlError().hidden).toBe(true);
    expect(isOpen()).toBe(true);
    expect(called("set_remote_key")).toHaveLength(0);
    expect(called("save_settings")).toHaveLength(0);
    // Typing a key clears the error.
    type(keyInput(), KEY);
    expect(keyError().hidden).toBe(true);
    expect(keyInput().hasAttribute("aria-invalid")).toBe(false);
  });

  it("asks for a URL that starts with http:// or https://", async () => {
    await mount(settings());
    await openSettings();
    $<HTMLInputElement>("#engine-remote").click();
    type(urlInput(), "127.0.0.1:8080");
    type(keyInput(), KEY);
    save();
    await vi.waitFor(() => expect(urlError().hidden).toBe(false));
    expect(urlError().textContent).toBe("The URL must start with http:// or https://.");
    expect(document.activeElement).toBe(urlInput());
    expect(keyError().hidden).toBe(true);
    expect(called("set_remote_key")).toHaveLength(0);
    expect(called("save_settings")).toHaveLength(0);

    type(urlInput(), "");
    save();
    await vi.waitFor(() => expect(urlError().textContent).toMatch(/Enter the server's URL/));
    expect(called("save_settings")).toHaveLength(0);
  });

  it("shows the keychain's error by the key and stays open", async () => {
    await mount(settings());
    await openSettings();
    $<HTMLInputElement>("#engine-remote").click();
    type(urlInput(), SERVER);
    type(keyInput(), KEY);
    keychainError = "the system keychain is not available (no Secret Service)";
    save();
    await vi.waitFor(() => expect(keyError().textContent).toBe("the system keychain is not available (no Secret Service)"));
    expect(isOpen()).toBe(true);
    expect(called("save_settings")).toHaveLength(0);
    expect(badge().hidden).toBe(true);
    // Fixed: saved on the next try.
    keychainError = null;
    save();
    await vi.waitFor(() => expect(isOpen()).toBe(false));
    expect(saved()).toMatchObject({ engine: "remote", remote_url: SERVER });
  });

  it("says when a key is saved for the server, and then needs none", async () => {
    keychain.add(SERVER);
    await mount({ ...settings(), engine: "remote", remote_url: SERVER });
    expect(badge().textContent).toBe("Remote: 127.0.0.1:8080");
    await openSettings();
    expect($<HTMLInputElement>("#engine-remote").checked).toBe(true);
    expect(urlInput().value).toBe(SERVER);
    await vi.waitFor(() => expect(keySavedNote().hidden).toBe(false));
    expect(called("has_remote_key")[0].args).toEqual({ url: SERVER });
    expect(keySavedNote().textContent).toBe("A key is saved for this server");

    save();
    await vi.waitFor(() => expect(isOpen()).toBe(false));
    expect(called("set_remote_key")).toHaveLength(0);
    expect(saved()).toMatchObject({ engine: "remote", remote_url: SERVER });
  });

  it("checks the keychain again once the URL stops changing", async () => {
    keychain.add("https://api.example.com");
    await mount(settings());
    await openSettings();
    $<HTMLInputElement>("#engine-remote").click();
    const before = called("has_remote_key").length;
    for (const partial of ["https://", "https://api", "https://api.example", "https://api.example.com/"]) type(urlInput(), partial);
    expect(called("has_remote_key")).toHaveLength(before); // not at every keystroke
    await vi.waitFor(() => expect(keySavedNote().hidden).toBe(false), { timeout: 3000 });
    expect(called("has_remote_key").slice(before).map((c) => c.args)).toEqual([{ url: "https://api.example.com" }]);

    // Another server: the note goes at once, and does not come back.
    type(urlInput(), "https://other.example.com");
    expect(keySavedNote().hidden).toBe(true);
    await vi.waitFor(() => expect(called("has_remote_key").length).toBe(before + 2), { timeout: 3000 });
    expect(keySavedNote().hidden).toBe(true);
  });

  it("asks the keychain again on Save when the URL was only just typed", async () => {
    keychain.add(SERVER);
    await mount(settings());
    await openSettings();
    $<HTMLInputElement>("#engine-remote").click();
    type(urlInput(), SERVER);
    save(); // before the debounced check
    await vi.waitFor(() => expect(isOpen()).toBe(false));
    expect(called("set_remote_key")).toHaveLength(0);
    expect(saved()).toMatchObject({ engine: "remote", remote_url: SERVER });
  });

  it("goes back to this computer", async () => {
    keychain.add(SERVER);
    await mount({ ...settings(), engine: "remote", remote_url: SERVER });
    expect(badge().hidden).toBe(false);
    await openSettings();
    $<HTMLInputElement>("#engine-local").click();
    expect($("[data-testid=remote-detail]").hidden).toBe(true);
    save();
    await vi.waitFor(() => expect(isOpen()).toBe(false));
    expect(called("set_remote_key")).toHaveLength(0);
    expect(saved().engine).toBe("local");
    expect(badge().hidden).toBe(true);
    // The server is remembered for next time.
    await openSettings();
    expect($<HTMLInputElement>("#engine-local").checked).toBe(true);
    $<HTMLInputElement>("#engine-remote").click();
    expect(urlInput().value).toBe(SERVER);
  });

  it("forgets a typed key when the dialog closes", async () => {
    await mount(settings());
    await openSettings();
    $<HTMLInputElement>("#engine-remote").click();
    type(urlInput(), SERVER);
    type(keyInput(), KEY);
    $<HTMLButtonElement>("[data-testid=cancel-settings]").click();
    expect(isOpen()).toBe(false);
    expect(keyInput().value).toBe("");
    expect(called("set_remote_key")).toHaveLength(0);
    expect(called("save_settings")).toHaveLength(0);
    // Reopened: as saved (this computer), errors cleared.
    await openSettings();
    expect($<HTMLInputElement>("#engine-local").checked).toBe(true);
    expect(keyError().hidden).toBe(true);
  });
});
