// The Connectors screen, the setup dialog, syncing a connector's bucket and the "Upload to a
// storage connector" sink, mounted with the whole app against a mocked backend that keeps
// connectors like the real one; and results uploaded through a connector in the files table.

import { emit } from "@tauri-apps/api/event";
import { clearMocks, mockIPC, mockWindows } from "@tauri-apps/api/mocks";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type App, mountApp } from "../src/app";
import type { ConnectionTest, Connector_Serialize, ConnectorFailure, ConnectorSpec_Serialize, Settings_Serialize, SyncOutcome_Serialize as SyncOutcome, WatchOverview_Serialize, WatchRuleSetting_Serialize } from "../src/bindings";
import { done, LOCAL, PRESETS, PROVIDERS, queued, settings, SPACES } from "./fixtures";

type Call = { cmd: string; args: Record<string, unknown> };

let calls: Call[];
let app: App;
/** The mocked backend's connectors. */
let connectors: Connector_Serialize[];
/** What the next connection test (of a spec or a saved connector) answers. */
let testAnswer: { ok: ConnectionTest } | { error: ConnectorFailure };
/** What the next add_connector answers when set; else it succeeds. */
let addFailure: ConnectorFailure | null;
/** Resolves a connection test that was held back, to see the dialog while it runs. */
let releaseTest: (() => void) | null;
let holdTests: boolean;
/** What the next sync_bucket answers. */
let syncAnswer: { ok: SyncOutcome[] } | { error: string };
/** Resolves a sync that was held back, to see the panel while it runs. */
let releaseSync: (() => void) | null;
let holdSync: boolean;

const called = (cmd: string) => calls.filter((c) => c.cmd === cmd);
const $ = <T extends Element = HTMLElement>(selector: string, root: ParentNode = document) => root.querySelector<T>(selector)!;
const $$ = <T extends Element = HTMLElement>(selector: string, root: ParentNode = document) => Array.from(root.querySelectorAll<T>(selector));
const nextFrame = () => new Promise<void>((resolve) => requestAnimationFrame(() => resolve()));
const change = (el: HTMLInputElement | HTMLSelectElement, value: string) => {
  el.value = value;
  el.dispatchEvent(new Event("input", { bubbles: true }));
  el.dispatchEvent(new Event("change", { bubbles: true }));
};
const row = (id: string) => document.querySelector<HTMLElement>(`[data-connector-id="${id}"]`);
const shown = (el: Element | null) => !!el && !el.closest("[hidden]");

function backend(): void {
  mockIPC(async (cmd, args) => {
    const a = (args ?? {}) as Record<string, unknown>;
    calls.push({ cmd, args: a });
    switch (cmd) {
      case "list_presets":
        return PRESETS;
      case "load_settings":
        return { ...settings(), connectors };
      case "save_settings":
        return null;
      case "list_providers":
        return PROVIDERS;
      case "list_connectors":
        return connectors;
      case "add_connector": {
        if (addFailure) throw addFailure;
        const spec = a.spec as ConnectorSpec_Serialize;
        const connector: Connector_Serialize = { id: `c-${connectors.length + 1}`, name: spec.name, provider: spec.provider!, access_key_id: spec.access_key_id };
        if (spec.endpoint) connector.endpoint = spec.endpoint;
        if (spec.region) connector.region = spec.region;
        if (spec.bucket) connector.bucket = spec.bucket;
        connectors = [...connectors, connector];
        return connector;
      }
      case "remove_connector": {
        if (a.id === "c-busy") throw "connector c-busy is used by the watched folder /photos/inbox; change that rule first";
        connectors = connectors.filter((c) => c.id !== a.id);
        return connectors;
      }
      case "test_connector":
      case "test_connector_spec": {
        if (holdTests) await new Promise<void>((resolve) => (releaseTest = resolve));
        if ("error" in testAnswer) throw testAnswer.error;
        return testAnswer.ok;
      }
      case "sync_bucket": {
        if (holdSync) await new Promise<void>((resolve) => (releaseSync = resolve));
        if ("error" in syncAnswer) throw syncAnswer.error;
        return syncAnswer.ok;
      }
      case "watch_overview":
        return { rules: [], log: [] } satisfies WatchOverview_Serialize;
      case "add_watch_rule": {
        const rule = a.rule as WatchRuleSetting_Serialize;
        return { rules: [{ rule, counts: { compressed: 0, skipped: 0, failed: 0, bytes_before: 0, bytes_after: 0 }, state: "watching" }], log: [] } satisfies WatchOverview_Serialize;
      }
      case "update_watch_rule": {
        const rule = a.rule as WatchRuleSetting_Serialize;
        return { rules: [{ rule, counts: { compressed: 0, skipped: 0, failed: 0, bytes_before: 0, bytes_after: 0 }, state: "watching" }], log: [] } satisfies WatchOverview_Serialize;
      }
      case "add_paths":
        return { items: [queued(0, 4_000_000, "beach.jpg")], errors: [] };
      default:
        return null;
    }
  }, { shouldMockEvents: true });
}

async function mount(): Promise<void> {
  document.body.innerHTML = '<div id="app"></div>';
  app = mountApp(document.getElementById("app")!);
  await vi.waitFor(() => expect(document.body.dataset.ready).toBe("true"));
}

beforeEach(async () => {
  calls = [];
  connectors = [SPACES];
  testAnswer = { ok: { bucket: "my-bucket", probe_url: "https://my-bucket.ams3.digitaloceanspaces.com/.compressor-connection-test-1", warnings: [] } };
  addFailure = null;
  releaseTest = null;
  holdTests = false;
  syncAnswer = { ok: [] };
  releaseSync = null;
  holdSync = false;
  mockWindows("main");
  backend();
  await mount();
});

afterEach(() => {
  app.destroy();
  clearMocks();
  document.body.replaceChildren();
});

async function openConnectors(): Promise<void> {
  $<HTMLButtonElement>("#connectors-tab").click();
  await vi.waitFor(() => expect(called("list_connectors").length).toBeGreaterThan(1));
  // The list the backend answered is drawn.
  await vi.waitFor(() => expect($$("[data-connector-id]").map((el) => el.dataset.connectorId)).toEqual(connectors.map((c) => c.id)));
}

function openDialog(provider: string): HTMLDialogElement {
  $<HTMLButtonElement>("#add-connector").click();
  const dialog = $<HTMLDialogElement>("[data-testid=connector-dialog]");
  expect(dialog.hasAttribute("open")).toBe(true);
  change($<HTMLSelectElement>("#connector-provider"), provider);
  return dialog;
}

describe("the Connectors screen", () => {
  it("is a third tab, and lists connectors with where they store", async () => {
    await openConnectors();
    expect($("#connectors-tab").getAttribute("aria-selected")).toBe("true");
    expect($("[data-testid=connectors-view-panel]").hidden).toBe(false);
    expect($("[data-testid=files-view-panel]").hidden).toBe(true);
    const r = row("c-spaces")!;
    expect(r.textContent).toContain("photos");
    expect(r.textContent).toContain("DigitalOcean Spaces");
    expect($("dl", r).textContent).toBe("Regionams3Spacemy-bucketSpaces access keyDO00EXAMPLE");
    expect(shown($("[data-testid=connectors-empty]"))).toBe(false);
  });

  it("explains connectors when there are none", async () => {
    connectors = [];
    await openConnectors();
    const empty = $("[data-testid=connectors-empty]");
    expect(shown(empty)).toBe(true);
    expect(empty.textContent).toContain("A connector is a storage account");
    expect(empty.textContent).toContain("system keychain");
    expect(shown($("#connector-list"))).toBe(false);
  });

  it("tests a saved connector and says what it wrote and deleted", async () => {
    await openConnectors();
    holdTests = true;
    const button = $<HTMLButtonElement>(".connector-test", row("c-spaces")!);
    button.click();
    await vi.waitFor(() => expect(releaseTest).not.toBeNull());
    expect(button.disabled).toBe(true);
    expect($(".connector-result", row("c-spaces")!).textContent).toBe("Testing…");
    releaseTest!();
    await vi.waitFor(() => expect(button.disabled).toBe(false));
    expect(called("test_connector")[0].args).toEqual({ id: "c-spaces", bucket: null });
    const result = $(".connector-result", row("c-spaces")!);
    expect(result.dataset.state).toBe("ok");
    expect(result.textContent).toBe("Connection works: wrote and deleted https://my-bucket.ams3.digitaloceanspaces.com/.compressor-connection-test-1");
  });

  it("shows why a test failed, with its warnings or fields", async () => {
    await openConnectors();
    testAnswer = { error: { message: "access denied setting the ACL \"public-read\" on my-bucket: allow s3:PutObjectAcl", fields: [] } };
    $<HTMLButtonElement>(".connector-test", row("c-spaces")!).click();
    const result = () => $(".connector-result", row("c-spaces")!);
    await vi.waitFor(() => expect(result().dataset.state).toBe("error"));
    expect(result().textContent).toContain("allow s3:PutObjectAcl");

    testAnswer = { ok: { bucket: "my-bucket", probe_url: "https://x/.probe", warnings: ["the probe object .probe could not be deleted"] } };
    $<HTMLButtonElement>(".connector-test", row("c-spaces")!).click();
    await vi.waitFor(() => expect(result().dataset.state).toBe("ok"));
    expect($$("p", result()).map((p) => p.textContent)).toEqual(["Connection works: wrote https://x/.probe", "Warning: the probe object .probe could not be deleted"]);
  });

  it("asks before removing, and removes", async () => {
    await openConnectors();
    const r = row("c-spaces")!;
    $<HTMLButtonElement>(".connector-remove", r).click();
    expect(called("remove_connector")).toHaveLength(0);
    expect(shown($("[data-testid=connector-remove-confirm]", r))).toBe(true);
    // "Keep" leaves it.
    $<HTMLButtonElement>("[data-testid=connector-remove-cancel]", r).click();
    expect(shown($("[data-testid=connector-remove-confirm]", r))).toBe(false);
    $<HTMLButtonElement>(".connector-remove", r).click();
    $<HTMLButtonElement>("[data-testid=connector-remove-confirm]", r).click();
    await vi.waitFor(() => expect(row("c-spaces")).toBeNull());
    expect(called("remove_connector")[0].args).toEqual({ id: "c-spaces" });
    expect(shown($("[data-testid=connectors-empty]"))).toBe(true);
  });

  it("shows why a connector could not be removed", async () => {
    connectors = [{ ...SPACES, id: "c-busy" }];
    await openConnectors();
    const r = row("c-busy")!;
    $<HTMLButtonElement>(".connector-remove", r).click();
    $<HTMLButtonElement>("[data-testid=connector-remove-confirm]", r).click();
    await vi.waitFor(() => expect($(".connector-result", r).dataset.state).toBe("error"));
    expect($(".connector-result", r).textContent).toContain("used by the watched folder /photos/inbox");
    expect(row("c-busy")).not.toBeNull();
  });
});

describe("syncing a connector's bucket", () => {
  beforeEach(openConnectors);

  const FIRST_RUN: SyncOutcome[] = [
    { key: "uploads/a.jpg", status: "compressed", size_before: 1_000_000, size_after: 400_000, url: "https://my-bucket.ams3.digitaloceanspaces.com/optimized/a.jpg" },
    { key: "uploads/b.jpg", status: "compressed", size_before: 600_000, size_after: 200_000, url: "https://my-bucket.ams3.digitaloceanspaces.com/optimized/b.jpg" },
    { key: "uploads/c.png", status: "compressed", size_before: 275_000, size_after: 75_000, url: "https://my-bucket.ams3.digitaloceanspaces.com/optimized/c.png" },
    { key: "uploads/d.jpg", status: "unchanged", size_before: 5_000_000 },
    { key: "uploads/e.heic", status: "failed", size_before: 2_000_000, message: "HEIC decoding is not available in this build" },
  ];

  const openSync = () => {
    const button = $<HTMLButtonElement>(".connector-sync", row("c-spaces")!);
    button.click();
    return { button, panel: $("[data-testid=sync-panel]") };
  };

  it("opens a panel in the row, with the connector's bucket and the chosen preset", () => {
    const { button, panel } = openSync();
    expect(button.textContent).toBe("Sync…");
    expect(row("c-spaces")!.contains(panel)).toBe(true);
    expect(shown(panel)).toBe(true);
    expect(button.getAttribute("aria-expanded")).toBe("true");
    expect(document.activeElement).toBe($("#sync-prefix"));
    expect($<HTMLInputElement>("#sync-bucket").placeholder).toBe("my-bucket");
    expect($("label[for=sync-bucket]").textContent).toBe("Space (optional)");
    expect($<HTMLInputElement>("#sync-suffix").value).toBe("-min");
    expect($("[data-testid=sync-preset]").textContent).toBe("balanced");
    expect(panel.textContent).toContain("Only new or changed objects are compressed");
    expect(panel.textContent).toContain("compressor sync --every 24h");
    // The suffix only applies when results go beside the objects.
    expect($<HTMLInputElement>("#sync-suffix").disabled).toBe(false);
    change($<HTMLInputElement>("#sync-destination"), "optimized/");
    expect($<HTMLInputElement>("#sync-suffix").disabled).toBe(true);
    // Sync… again closes it.
    button.click();
    expect(shown(panel)).toBe(false);
    expect(button.getAttribute("aria-expanded")).toBe("false");
  });

  it("runs a sync, the button disabled meanwhile, and shows what it did to each object", async () => {
    openSync();
    change($<HTMLInputElement>("#sync-prefix"), " uploads/ ");
    change($<HTMLInputElement>("#sync-destination"), "optimized/");
    holdSync = true;
    syncAnswer = { ok: FIRST_RUN };
    const run = $<HTMLButtonElement>("#sync-run");
    run.click();
    await vi.waitFor(() => expect(releaseSync).not.toBeNull());
    expect(run.disabled).toBe(true);
    expect(run.textContent).toBe("Syncing…");
    releaseSync!();
    await vi.waitFor(() => expect(run.disabled).toBe(false));
    expect(run.textContent).toBe("Sync now");
    expect(called("sync_bucket")[0].args).toEqual({
      request: { connector: "c-spaces", bucket: null, prefix: "uploads/", destination_prefix: "optimized/", suffix: null, preset: "balanced" },
    });
    expect($(".sync-summary").textContent).toBe("3 compressed · 0 skipped · 1 unchanged · 1 failed · saved 1.20 MB (64.0 %)");
    expect(shown($(".sync-summary"))).toBe(true);
    expect(shown($("[data-testid=sync-error]"))).toBe(false);
    const items = $$("[data-testid=sync-result]", $(".sync-results"));
    expect(items.map((li) => [li.dataset.key, li.dataset.status])).toEqual(FIRST_RUN.map((o) => [o.key, o.status]));
    expect(items[0].textContent).toContain("1.00 MB → 400 kB (60.0 %)");
    expect($("[data-testid=sync-url]", items[0]).textContent).toBe("https://my-bucket.ams3.digitaloceanspaces.com/optimized/a.jpg");
    expect(items[3].textContent).toContain("Unchanged");
    expect(items[4].textContent).toContain("Failed");
    expect(items[4].textContent).toContain("HEIC decoding is not available in this build");
    expect(items[4].querySelector("[data-testid=sync-url]")).toBeNull();

    // Run again: the backend says what did not change.
    holdSync = false;
    syncAnswer = { ok: FIRST_RUN.map((o) => (o.status === "failed" ? o : { key: o.key, status: "unchanged" as const, size_before: o.size_before })) };
    run.click();
    await vi.waitFor(() => expect($(".sync-summary").textContent).toBe("0 compressed · 0 skipped · 4 unchanged · 1 failed"));
    expect(called("sync_bucket")[1].args).toEqual(called("sync_bucket")[0].args);
  });

  it("puts results beside the objects with the suffix, in another bucket when one is typed", async () => {
    openSync();
    change($<HTMLInputElement>("#sync-prefix"), "in/");
    change($<HTMLInputElement>("#sync-suffix"), "-web");
    change($<HTMLInputElement>("#sync-bucket"), "other-space");
    $<HTMLButtonElement>("#sync-run").click();
    await vi.waitFor(() => expect(called("sync_bucket")).toHaveLength(1));
    expect(called("sync_bucket")[0].args.request).toEqual({ connector: "c-spaces", bucket: "other-space", prefix: "in/", destination_prefix: null, suffix: "-web", preset: "balanced" });
    await vi.waitFor(() => expect($(".sync-summary").textContent).toBe("Nothing to sync: no images under “in/”."));
  });

  it("uses the preset chosen in the app bar", async () => {
    change($<HTMLSelectElement>("#preset"), "web");
    await vi.waitFor(() => expect(called("save_settings")).toHaveLength(1));
    openSync();
    await vi.waitFor(() => expect($("[data-testid=sync-preset]").textContent).toBe("web"));
    $<HTMLButtonElement>("#sync-run").click();
    await vi.waitFor(() => expect(called("sync_bucket")).toHaveLength(1));
    expect((called("sync_bucket")[0].args.request as { preset: string }).preset).toBe("web");
  });

  it("shows the error the sync returned, and is ready to run again", async () => {
    openSync();
    change($<HTMLInputElement>("#sync-prefix"), "uploads/");
    syncAnswer = { error: "listing my-bucket/uploads/: access denied (403): the key needs s3:ListBucket" };
    const run = $<HTMLButtonElement>("#sync-run");
    run.click();
    const error = $("[data-testid=sync-error]");
    await vi.waitFor(() => expect(shown(error)).toBe(true));
    expect(error.textContent).toBe("listing my-bucket/uploads/: access denied (403): the key needs s3:ListBucket");
    expect(shown($(".sync-summary"))).toBe(false);
    expect(shown($(".sync-results"))).toBe(false);
    expect(run.disabled).toBe(false);

    // A successful run clears it.
    syncAnswer = { ok: FIRST_RUN.slice(0, 1) };
    run.click();
    await vi.waitFor(() => expect($(".sync-summary").textContent).toMatch(/^1 compressed/));
    expect(shown(error)).toBe(false);
  });

  it("refuses results under the prefix it reads, before asking the backend", () => {
    openSync();
    change($<HTMLInputElement>("#sync-prefix"), "uploads/");
    change($<HTMLInputElement>("#sync-destination"), "uploads");
    $<HTMLButtonElement>("#sync-run").click();
    expect($("[data-testid=sync-error]").textContent).toBe("The results need another prefix than the one read.");
    expect(called("sync_bucket")).toHaveLength(0);
  });

  it("is one panel, moved to the row whose Sync… was clicked, starting empty there", async () => {
    connectors = [SPACES, LOCAL];
    await app.connectors.refresh();
    await vi.waitFor(() => expect(row("c-local")).not.toBeNull());
    openSync();
    change($<HTMLInputElement>("#sync-prefix"), "uploads/");
    $<HTMLButtonElement>(".connector-sync", row("c-local")!).click();
    expect($$("[data-testid=sync-panel]")).toHaveLength(1);
    expect(row("c-local")!.contains($("[data-testid=sync-panel]"))).toBe(true);
    expect($(".connector-sync", row("c-spaces")!).getAttribute("aria-expanded")).toBe("false");
    expect($<HTMLInputElement>("#sync-prefix").value).toBe("");
    expect($("label[for=sync-bucket]").textContent).toBe("Sub-folder (optional)");
    expect($<HTMLInputElement>("#sync-bucket").placeholder).toBe("");
  });
});

describe("the setup dialog", () => {
  beforeEach(openConnectors);

  it("shows only the chosen provider's fields, in its words", () => {
    $<HTMLButtonElement>("#add-connector").click();
    // Nothing but the provider until one is chosen.
    expect(shown($("#connector-name"))).toBe(false);

    change($<HTMLSelectElement>("#connector-provider"), "spaces");
    const region = $<HTMLSelectElement>("#connector-region");
    expect(region.tagName).toBe("SELECT");
    expect(Array.from(region.options, (o) => o.value)).toEqual(["", "nyc3", "ams3", "sfo3"]);
    expect(region.value).toBe("");
    expect($("label[for=connector-bucket]").textContent).toBe("Space");
    expect($("label[for=connector-access-key]").textContent).toBe("Spaces access key");
    expect($("label[for=connector-secret]").textContent).toBe("Spaces secret");
    expect($<HTMLInputElement>("#connector-secret").type).toBe("password");
    expect($("[data-testid=connector-permissions]").textContent).toContain("write access to this Space");

    change($<HTMLSelectElement>("#connector-provider"), "local");
    expect($("label[for=connector-endpoint]").textContent).toBe("Folder");
    expect(shown($("#connector-endpoint"))).toBe(true);
    expect(shown($("#connector-region"))).toBe(false);
    expect(shown($("#connector-access-key"))).toBe(false);
    expect(shown($("#connector-secret"))).toBe(false);
    expect($("label[for=connector-bucket]").textContent).toBe("Sub-folder (optional)");

    change($<HTMLSelectElement>("#connector-provider"), "r2");
    expect($<HTMLSelectElement>("#connector-region").value).toBe("auto");
  });

  it("turns S3's region list into a text field for an S3-compatible endpoint", () => {
    openDialog("s3");
    expect($("#connector-region").tagName).toBe("SELECT");
    change($<HTMLInputElement>("#connector-endpoint"), "http://localhost:9000");
    expect($("#connector-region").tagName).toBe("INPUT");
    expect($("label[for=connector-region]").textContent).toBe("Region");
    change($<HTMLInputElement>("#connector-endpoint"), "");
    expect($("#connector-region").tagName).toBe("SELECT");
  });

  it("tests what was typed, before saving, the button disabled meanwhile", async () => {
    openDialog("spaces");
    change($<HTMLInputElement>("#connector-name"), " photos2 ");
    change($<HTMLSelectElement>("#connector-region"), "ams3");
    change($<HTMLInputElement>("#connector-bucket"), "my-bucket");
    change($<HTMLInputElement>("#connector-access-key"), "DO00KEY");
    change($<HTMLInputElement>("#connector-secret"), "s3cret");
    holdTests = true;
    const test = $<HTMLButtonElement>("#connector-test");
    test.click();
    await vi.waitFor(() => expect(releaseTest).not.toBeNull());
    expect(test.disabled).toBe(true);
    releaseTest!();
    await vi.waitFor(() => expect(test.disabled).toBe(false));
    expect(called("test_connector_spec")[0].args).toEqual({
      spec: { name: "photos2", provider: "spaces", endpoint: null, region: "ams3", bucket: "my-bucket", access_key_id: "DO00KEY" },
      secret: "s3cret",
    });
    expect($("#connector-test-result").textContent).toBe("Connection works: wrote and deleted https://my-bucket.ams3.digitaloceanspaces.com/.compressor-connection-test-1");
    expect(called("add_connector")).toHaveLength(0);
  });

  it("asks for the secret before sending anything", async () => {
    openDialog("spaces");
    change($<HTMLInputElement>("#connector-name"), "x");
    $<HTMLButtonElement>("#connector-test").click();
    expect($("#connector-secret-error").textContent).toBe("is required");
    expect($("#connector-secret").getAttribute("aria-invalid")).toBe("true");
    expect(document.activeElement).toBe($("#connector-secret"));
    expect(called("test_connector_spec")).toHaveLength(0);
  });

  it("puts refused fields next to their fields, the rest at the top", async () => {
    const dialog = openDialog("spaces");
    change($<HTMLInputElement>("#connector-name"), "photos2");
    change($<HTMLSelectElement>("#connector-region"), "nyc3");
    change($<HTMLInputElement>("#connector-secret"), "s3cret");
    addFailure = {
      message: "invalid connector:\n  region: …\n  access_key_id: …",
      fields: [
        { field: "region", message: "DigitalOcean Spaces has no region \"nyc3\" here" },
        { field: "access_key_id", message: "is required: the access key id" },
      ],
    };
    $<HTMLButtonElement>("#connector-save").click();
    await vi.waitFor(() => expect(called("add_connector")).toHaveLength(1));
    await vi.waitFor(() => expect($("#connector-region-error").textContent).toBe("DigitalOcean Spaces has no region \"nyc3\" here"));
    expect(shown($("#connector-region-error"))).toBe(true);
    expect($("#connector-access-key-error").textContent).toBe("is required: the access key id");
    expect($("#connector-form-error").textContent).toBe("Check the marked fields.");
    expect(dialog.hasAttribute("open")).toBe(true);
    // Typing in a field clears its message.
    change($<HTMLInputElement>("#connector-access-key"), "DO00KEY");
    expect(shown($("#connector-access-key-error"))).toBe(false);

    addFailure = { message: "the system keychain is not available (no Secret Service)", fields: [] };
    $<HTMLButtonElement>("#connector-save").click();
    await vi.waitFor(() => expect($("#connector-form-error").textContent).toBe("the system keychain is not available (no Secret Service)"));
    expect(shown($("#connector-region-error"))).toBe(false);
  });

  it("saves, lists the new connector, and forgets the secret", async () => {
    const dialog = openDialog("local");
    change($<HTMLInputElement>("#connector-name"), "uploads");
    change($<HTMLInputElement>("#connector-endpoint"), "/tmp/uploads");
    $<HTMLButtonElement>("#connector-save").click();
    await vi.waitFor(() => expect(row("c-2")).not.toBeNull());
    expect(called("add_connector")[0].args).toEqual({
      spec: { name: "uploads", provider: "local", endpoint: "/tmp/uploads", region: null, bucket: null, access_key_id: "" },
      secret: "",
    });
    expect(dialog.hasAttribute("open")).toBe(false);
    expect(row("c-2")!.textContent).toContain("Local folder");
    expect(row("c-2")!.textContent).toContain("/tmp/uploads");
  });

  it("empties the secret when closed", () => {
    openDialog("spaces");
    change($<HTMLInputElement>("#connector-secret"), "s3cret");
    $<HTMLButtonElement>("#connector-cancel").click();
    expect($<HTMLInputElement>("#connector-secret").value).toBe("");
    $<HTMLButtonElement>("#add-connector").click();
    expect($<HTMLSelectElement>("#connector-provider").value).toBe("");
    expect($<HTMLInputElement>("#connector-secret").value).toBe("");
  });
});

describe("uploading results through a connector", () => {
  const openSettings = () => {
    $<HTMLButtonElement>("[data-testid=open-settings]").click();
    return $<HTMLDialogElement>("[data-testid=settings-dialog]");
  };

  it("is a choice in the settings: a connector and a path in its bucket", async () => {
    connectors = [SPACES, LOCAL];
    app.destroy();
    await mount();
    const dialog = openSettings();
    const store = $<HTMLInputElement>("#output-store");
    expect(store.disabled).toBe(false);
    const select = $<HTMLSelectElement>("#output-connector");
    expect(Array.from(select.options, (o) => [o.value, o.textContent])).toEqual([["c-spaces", "photos (DigitalOcean Spaces)"], ["c-local", "backup (Local folder)"]]);
    store.click();
    change(select, "c-local");
    change($<HTMLInputElement>("#output-store-path"), "up/");
    $<HTMLButtonElement>("[data-testid=save-settings]").click();
    await vi.waitFor(() => expect(dialog.hasAttribute("open")).toBe(false));
    const saved = called("save_settings")[0].args.settings as Settings_Serialize;
    expect(saved.output).toEqual({ mode: "store", suffix: "-min", folder: null, store: { id: "c-local", path: "up/" } });

    // Opened again, it shows the choice as saved.
    openSettings();
    expect($<HTMLInputElement>("#output-store").checked).toBe(true);
    expect($<HTMLSelectElement>("#output-connector").value).toBe("c-local");
    expect($<HTMLInputElement>("#output-store-path").value).toBe("up/");
  });

  it("cannot be chosen in the settings without connectors", async () => {
    connectors = [];
    app.destroy();
    await mount();
    openSettings();
    expect($<HTMLInputElement>("#output-store").disabled).toBe(true);
    expect(shown($("[data-testid=output-store-hint]"))).toBe(true);
    expect($("[data-testid=output-store-hint]").textContent).toContain("Connectors screen");
  });

  it("follows connectors added on the Connectors screen", async () => {
    connectors = [];
    app.destroy();
    await mount();
    await openConnectors();
    openDialog("local");
    change($<HTMLInputElement>("#connector-name"), "uploads");
    change($<HTMLInputElement>("#connector-endpoint"), "/tmp/uploads");
    $<HTMLButtonElement>("#connector-save").click();
    await vi.waitFor(() => expect(row("c-1")).not.toBeNull());
    openSettings();
    expect($<HTMLInputElement>("#output-store").disabled).toBe(false);
    expect($<HTMLSelectElement>("#output-connector").value).toBe("c-1");
    // The watch form offers it too.
    expect($<HTMLOptionElement>("[data-testid=watch-output-mode] option[value=store]").disabled).toBe(false);
  });

  it("is a choice for a watched folder", async () => {
    $<HTMLButtonElement>("[data-testid=view-watch]").click();
    await vi.waitFor(() => expect(called("watch_overview").length).toBeGreaterThan(0));
    change($<HTMLInputElement>("[data-testid=watch-folder-input]"), "/photos/inbox");
    change($<HTMLSelectElement>("[data-testid=watch-output-mode]"), "store");
    expect(shown($("[data-testid=watch-connector]"))).toBe(true);
    expect(shown($("[data-testid=watch-suffix]"))).toBe(false);
    expect($<HTMLSelectElement>("[data-testid=watch-connector]").value).toBe("c-spaces");
    change($<HTMLInputElement>("[data-testid=watch-store-path]"), " /shots/ ");
    $<HTMLButtonElement>("[data-testid=watch-add]").click();
    await vi.waitFor(() => expect(called("add_watch_rule")).toHaveLength(1));
    const rule = called("add_watch_rule")[0].args.rule as WatchRuleSetting_Serialize;
    expect(rule.output).toEqual({ mode: "store", suffix: "-min", folder: null, store: { id: "c-spaces", path: "shots/" } });
  });

  it("is a choice for a rule already watched", async () => {
    $<HTMLButtonElement>("[data-testid=view-watch]").click();
    await vi.waitFor(() => expect(called("watch_overview").length).toBeGreaterThan(0));
    change($<HTMLInputElement>("[data-testid=watch-folder-input]"), "/photos/inbox");
    $<HTMLButtonElement>("[data-testid=watch-add]").click();
    await vi.waitFor(() => expect($$("[data-testid=watch-rule]")).toHaveLength(1));
    const rule = $("[data-testid=watch-rule]");
    change($<HTMLSelectElement>("[data-testid=watch-rule-output-mode]", rule), "store");
    await vi.waitFor(() => expect(called("update_watch_rule")).toHaveLength(1));
    expect((called("update_watch_rule")[0].args.rule as WatchRuleSetting_Serialize).output).toEqual({ mode: "store", suffix: "-min", folder: null, store: { id: "c-spaces" } });
    change($<HTMLInputElement>("[data-testid=watch-rule-store-path]", rule), "inbox/");
    await vi.waitFor(() => expect(called("update_watch_rule")).toHaveLength(2));
    expect((called("update_watch_rule")[1].args.rule as WatchRuleSetting_Serialize).output.store).toEqual({ id: "c-spaces", path: "inbox/" });
  });

  it("shows the object's URL in the row, with Copy URL instead of Compare", async () => {
    const writeText = vi.fn(async () => {});
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    await emit("tauri://drag-drop", { paths: ["/photos"], position: { x: 10, y: 10 } });
    await vi.waitFor(() => expect(called("add_paths")).toHaveLength(1));
    await nextFrame();
    const status = done(4_000_000, 1_000_000);
    if (status.state !== "done") throw new Error("fixture");
    const url = "https://my-bucket.ams3.digitaloceanspaces.com/assets/beach.jpg";
    await emit("files-updated", { updates: [{ id: 0, status: { ...status, destination: null, url } }] });
    await nextFrame();
    const r = $('[data-testid=row][data-id="0"]');
    expect(r.dataset.url).toBe(url);
    expect($("[data-testid=result-url]", r).textContent).toBe(url);
    expect($("[data-field=status]", r).getAttribute("title")).toContain(`Uploaded to ${url}`);
    expect(r.querySelector("[data-action=compare]")).toBeNull();
    // Enter does not open a compare view with nothing to compare.
    r.focus();
    r.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true, cancelable: true }));
    expect($<HTMLDialogElement>("[data-testid=compare]").hasAttribute("open")).toBe(false);
    $<HTMLButtonElement>("[data-testid=copy-url]", r).click();
    await vi.waitFor(() => expect(writeText).toHaveBeenCalledWith(url));
  });
});
