// Wiring: builds the views (Files, Watch folders, Connectors), loads presets, settings and
// connectors, listens to queue and watch events and drops, and turns clicks into commands.
// Event batches are applied once per animation frame.

import { type AddResult, commands, type Connector_Serialize as Connector, events, type ItemUpdate_Serialize, type PresetInfo_Serialize, type ProviderInfo_Serialize as ProviderInfo, type Settings_Serialize } from "./bindings";
import { CompareDialog } from "./compare";
import { ConnectorsView } from "./connectors-view";
import { h } from "./dom";
import { DropZone, listenForDrops } from "./dropzone";
import { Header, panelId, tabId, type View } from "./header";
import { announce, errorText, NoticeBar } from "./notice";
import type { RowAction } from "./row";
import { SettingsDialog } from "./settings-dialog";
import { Store } from "./store";
import { Table } from "./table";
import { Toolbar } from "./toolbar";
import { WatchView } from "./watch-view";

export interface App {
  readonly store: Store;
  readonly table: Table;
  readonly compare: CompareDialog;
  readonly settingsDialog: SettingsDialog;
  readonly watch: WatchView;
  readonly connectors: ConnectorsView;
  /** The view shown. */
  readonly view: View;
  /** Shows the Files, Watch folders or Connectors view. */
  showView(view: View): void;
  /** Resolves once presets and settings are loaded and the listeners are attached. */
  readonly ready: Promise<void>;
  /** Stops listening to events (tests). */
  destroy(): void;
}

type CommandResult<T> = { status: "ok"; data: T } | { status: "error"; error: string };

export function mountApp(root: HTMLElement): App {
  const store = new Store();
  let settings: Settings_Serialize | null = null;
  let presets: PresetInfo_Serialize[] = [];
  let providers: ProviderInfo[] = [];
  const unlisteners: (() => void)[] = [];

  const notice = new NoticeBar();

  // ---- rendering, at most once a frame ----
  const pending: ItemUpdate_Serialize[] = [];
  let frame = 0;
  let renderedVersion = -1;
  const scheduleRender = () => {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      if (pending.length) store.apply(pending.splice(0, pending.length));
      if (store.version === renderedVersion) return;
      renderedVersion = store.version;
      dropzone.setEmpty(store.size === 0);
      table.el.hidden = store.size === 0;
      table.refresh();
      toolbar.update(store.totals());
    });
  };

  // ---- commands ----
  const run = async (what: string, call: () => Promise<unknown>) => {
    try {
      await call();
    } catch (err) {
      notice.show(`${what} failed`, [errorText(err)]);
    }
  };

  const added = async (what: string, call: () => Promise<CommandResult<AddResult>>) => {
    let result: CommandResult<AddResult>;
    try {
      result = await call();
    } catch (err) {
      result = { status: "error", error: errorText(err) };
    }
    if (result.status === "error") {
      notice.show(`${what} failed`, [result.error]);
      return;
    }
    const { items, errors } = result.data;
    if (items.length) {
      store.add(items);
      scheduleRender();
      announce(`${items.length} ${items.length === 1 ? "file" : "files"} added`);
    }
    if (errors.length) {
      notice.show(`${errors.length} ${errors.length === 1 ? "path" : "paths"} could not be added`, errors);
    } else if (items.length === 0 && what === "Adding dropped files") {
      notice.show("Nothing to add", ["No supported images were found in what was dropped."]);
    }
  };

  const addFiles = () => added("Adding files", () => commands.pickFiles());
  const addFolder = () => added("Adding a folder", () => commands.pickFolder());

  const onAction = (action: RowAction, id: number) => {
    switch (action) {
      case "cancel":
        void run("Cancelling", () => commands.cancel([id]));
        break;
      case "retry":
        void run("Retrying", () => commands.retry([id]));
        break;
      case "compare":
        void compare.open(id);
        break;
    }
  };

  // ---- views ----
  const header = new Header({
    onAddFiles: () => void addFiles(),
    onAddFolder: () => void addFolder(),
    onPreset: (name) => void choosePreset(name),
    onSettings: () => settings && settingsDialog.open(settings, presets),
    onView: (next) => showView(next),
  });
  const toolbar = new Toolbar({
    onCancelAll: () => void run("Cancelling", () => commands.cancelAll()),
    onRetryFailed: () => {
      const ids = store.idsIn("failed");
      if (ids.length) void run("Retrying", () => commands.retry(ids));
    },
  });
  const dropzone = new DropZone({ onAddFiles: () => void addFiles(), onAddFolder: () => void addFolder() });
  const table = new Table(store, { onAction });
  const compare = new CompareDialog(store, (id) => table.focusRow(id));
  const watch = new WatchView({ notify: (title, lines) => notice.show(title, lines) });
  // The sink pick lists (settings, watch form and rules) follow the connectors.
  const setConnectors = (next: Connector[]) => {
    settingsDialog.setConnectors(next, providers);
    watch.setConnectors(next, providers);
  };
  const connectors = new ConnectorsView({
    onChange: (next) => setConnectors(next),
    notify: (title, lines) => notice.show(title, lines),
  });
  const settingsDialog = new SettingsDialog({
    onSaved: (saved) => {
      settings = saved;
      header.selectPreset(saved.preset);
      toolbar.setEngine(saved);
      watch.setCurrentPreset(saved.preset);
      connectors.setCurrentPreset(saved.preset);
      announce("Settings saved");
      // Rules follow the settings' metadata choices and presets: their state may have changed.
      if (view === "watch") void watch.refresh();
    },
    onPresetsSaved: async (saved) => {
      settings = saved;
      try {
        presets = await commands.listPresets();
      } catch (err) {
        notice.show("The preset list could not be refreshed", [errorText(err)]);
      }
      header.setPresets(presets, saved.preset);
      watch.setPresets(presets, saved.preset);
      connectors.setCurrentPreset(saved.preset);
      if (view === "watch") void watch.refresh();
    },
    restoreFocus: () => {
      header.settingsButton.focus();
      return true;
    },
  });

  // ---- the views, as tab panels ----
  let view: View = "files";
  const panel = (which: View, ...children: Node[]) =>
    h("div", { class: `view view-${which}`, id: panelId(which), role: "tabpanel", "aria-labelledby": tabId(which), "data-testid": `${which}-view-panel` }, ...children);
  const panels: Record<View, HTMLElement> = {
    files: panel("files", toolbar.el, dropzone.el, table.el),
    watch: panel("watch", watch.el),
    connectors: panel("connectors", connectors.el),
  };
  panels.watch.hidden = true;
  panels.connectors.hidden = true;
  const showView = (next: View) => {
    if (next === view) return;
    view = next;
    header.setView(next);
    for (const [which, el] of Object.entries(panels)) el.hidden = which !== next;
    dropzone.setOverlayText(next === "watch" ? "Drop a folder to watch it" : "Drop to add");
    if (next === "watch") void watch.show();
    else watch.hide();
    if (next === "connectors") void connectors.show();
    if (next === "files") {
      // The table was not measured while hidden: draw it again.
      renderedVersion = -1;
      scheduleRender();
    }
  };

  table.el.hidden = true;
  root.replaceChildren(
    header.el,
    notice.el,
    h("main", { class: "content" }, panels.files, panels.watch, panels.connectors),
    dropzone.overlay,
    compare.el,
    settingsDialog.el,
    connectors.dialog.el,
  );
  toolbar.update(store.totals());

  const choosePreset = async (name: string) => {
    if (!settings) return;
    const previous = settings.preset;
    const next = { ...settings, preset: name };
    let result: CommandResult<null>;
    try {
      result = await commands.saveSettings(next);
    } catch (err) {
      result = { status: "error", error: errorText(err) };
    }
    if (result.status === "error") {
      header.selectPreset(previous);
      notice.show("The preset could not be saved", [result.error]);
      return;
    }
    settings = next;
    header.selectPreset(name);
    watch.setCurrentPreset(name);
    connectors.setCurrentPreset(name);
    announce(`Preset ${name} selected for new files`);
  };

  // ---- start ----
  const ready = (async () => {
    const unlistenUpdates = await events.filesUpdated.listen((event) => {
      pending.push(...event.payload.updates);
      scheduleRender();
    });
    unlisteners.push(unlistenUpdates);
    unlisteners.push(await events.watchActivity.listen((event) => watch.receive(event.payload.activity)));
    unlisteners.push(await listenForDrops(dropzone, (paths) => {
      // On the Watch folders screen a dropped folder goes into the form, to be watched;
      // elsewhere the files are added, and shown.
      if (view === "watch") {
        watch.fillFolder(paths[0]);
        return;
      }
      showView("files");
      void added("Adding dropped files", () => commands.addPaths(paths));
    }));
    // Without connectors the rest still works: their failure is only reported.
    const connectorsLoaded = Promise.all([commands.listProviders(), commands.listConnectors()]).catch((err) => {
      notice.show("The storage connectors could not be loaded", [errorText(err)]);
      return [[], []] as [ProviderInfo[], Connector[]];
    });
    try {
      let loadedConnectors: Connector[];
      [presets, settings, [providers, loadedConnectors]] = await Promise.all([commands.listPresets(), commands.loadSettings(), connectorsLoaded]);
      providers ??= [];
      connectors.setProviders(providers);
      connectors.setConnectors(loadedConnectors ?? []);
      setConnectors(loadedConnectors ?? []);
      header.setPresets(presets, settings.preset);
      toolbar.setEngine(settings);
      watch.setPresets(presets, settings.preset);
      watch.setOutputDefaults(settings.output);
      connectors.setCurrentPreset(settings.preset);
    } catch (err) {
      notice.show("Presets and settings could not be loaded", [errorText(err)]);
      document.body.dataset.ready = "error";
      return;
    }
    document.body.dataset.ready = "true";
    void commands.uiReady().catch(() => {});
  })();

  return {
    store,
    table,
    compare,
    settingsDialog,
    watch,
    connectors,
    get view() {
      return view;
    },
    showView,
    ready,
    destroy() {
      for (const unlisten of unlisteners) unlisten();
      if (frame) cancelAnimationFrame(frame);
      watch.destroy();
      delete document.body.dataset.ready;
    },
  };
}
