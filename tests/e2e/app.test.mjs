// End-to-end test of the desktop app in a real window (Xvfb + WebKitWebDriver + tauri-driver).
// Real photos are dropped on the window through a native X11 drag-and-drop (xdotool driving a
// GTK drag source); the sizes and hashes the window shows must equal those of the files on disk.
//
// Needs: DISPLAY, tauri-driver and WebKitWebDriver on PATH, COMPRESSOR_APP (the built app),
// COMPRESSOR_MEDIA (tests/media/fetch.sh). scripts/test.sh provides all of it.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { remote } from "webdriverio";

const here = path.dirname(new URL(import.meta.url).pathname);
const repo = path.resolve(here, "../..");
const app = process.env.COMPRESSOR_APP;
const media = process.env.COMPRESSOR_MEDIA;
const shots = process.env.COMPRESSOR_SCREENSHOTS ?? path.join(repo, "target-e2e-screenshots");

assert.ok(process.env.DISPLAY, "DISPLAY is not set: run under Xvfb (scripts/test.sh does)");
assert.ok(app && fs.existsSync(app), `COMPRESSOR_APP must name the built app, got ${app}`);
assert.ok(media && fs.existsSync(path.join(media, ".complete")), "COMPRESSOR_MEDIA: run tests/media/fetch.sh");

const sha256 = (file) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");
const work = fs.mkdtempSync(path.join(os.tmpdir(), "compressor-e2e-"));
const photos = path.join(work, "photos");
let driver;
let browser;

async function waitForPort(port, deadlineMs) {
  const net = await import("node:net");
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    const ok = await new Promise((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => { socket.end(); resolve(true); });
      socket.on("error", () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`nothing listening on ${port}`);
}

function appWindowId() {
  return execFileSync("xdotool", ["search", "--name", "^Compressor$"]).toString().trim().split("\n")[0];
}

/** Captures the app's window from the X server: what a person sees. (WebKitWebDriver's own
 * screenshots leave out decoded images, so they would not show the compare view.) */
async function screenshot(name) {
  fs.mkdirSync(shots, { recursive: true });
  await sleep(800); // let the last frame paint
  execFileSync("import", ["-window", appWindowId(), path.join(shots, name)]);
}

/** The rendered text of an element. WebKitWebDriver's getText() drops the text of some
 * visible grid cells, so read innerText (which follows CSS visibility) in the page. */
async function text(element) {
  return browser.execute((e) => e.innerText, element);
}

/** Drops `files` on the app window with a real X11 drag from a GTK drag source. */
async function nativeDrop(files) {
  const source = spawn("/usr/bin/python3", [path.join(here, "drag_source.py"), ...files], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const [sx, sy] = await new Promise((resolve, reject) => {
    source.stdout.on("data", (chunk) => {
      const match = /ready (\d+) (\d+)/.exec(String(chunk));
      if (match) resolve([Number(match[1]), Number(match[2])]);
    });
    source.on("exit", (code) => reject(new Error(`drag source exited ${code}`)));
  });
  const windowId = appWindowId();
  const geometry = execFileSync("xdotool", ["getwindowgeometry", "--shell", windowId]).toString();
  const value = (key) => Number(new RegExp(`${key}=(\\d+)`).exec(geometry)[1]);
  const [tx, ty] = [value("X") + Math.floor(value("WIDTH") / 2), value("Y") + Math.floor(value("HEIGHT") / 2)];
  const xdo = (...args) => execFileSync("xdotool", args.map(String));
  xdo("mousemove", sx, sy);
  await sleep(200);
  xdo("mousedown", 1);
  // GTK starts a drag after the pointer moves past a threshold; move in steps so every
  // window along the way sees motion events.
  for (let step = 1; step <= 20; step++) {
    xdo("mousemove", Math.round(sx + ((tx - sx) * step) / 20), Math.round(sy + ((ty - sy) * step) / 20));
    await sleep(40);
  }
  await sleep(300);
  xdo("mouseup", 1);
  await new Promise((resolve) => source.on("exit", resolve));
}

async function rows() {
  return browser.$$('[data-testid="row"]');
}

/** Drops `files` on the window and waits until every row has finished. An X11 drag can be
 * lost if the pointer outruns the drag source's grab on a loaded machine; then nothing at all
 * was added, and the same drag is tried once more. */
async function dropAndWait(files, timeoutMs = 120_000) {
  const listed = (await rows()).length;
  await nativeDrop(files);
  const added = await browser
    .waitUntil(async () => (await rows()).length > listed, { timeout: 15_000, interval: 250 })
    .catch(() => false);
  if (!added) await nativeDrop(files);
  await waitUntilFinished(listed + files.length, timeoutMs);
}

/** The row listing the file named `name`, or undefined. */
async function rowNamed(name) {
  for (const row of await rows()) {
    if ((await text(await row.$('[data-field="name"] .file-name'))).trim() === name) return row;
  }
  return undefined;
}

async function waitUntilFinished(count, timeoutMs) {
  await browser.waitUntil(
    async () => {
      const all = await rows();
      if (all.length < count) return false;
      for (const row of all) {
        const state = await row.getAttribute("data-state");
        if (!["done", "skipped", "failed", "cancelled"].includes(state)) return false;
      }
      return true;
    },
    { timeout: timeoutMs, interval: 250, timeoutMsg: `${count} files did not finish` },
  );
}

before(async () => {
  // The keychain first: a Secret Service started on demand by D-Bus, before this one,
  // would have no unlocked keyring.
  startSecretService();
  fs.mkdirSync(photos, { recursive: true });
  for (const name of ["EveningGlow.jpg", "Kite.jpg", "FallenLeaf.jpg"]) {
    fs.copyFileSync(path.join(media, "jpeg", name), path.join(photos, name));
  }
  fs.copyFileSync(path.join(media, "png", "chelsea.png"), path.join(photos, "chelsea.png"));
  fs.copyFileSync(path.join(repo, "tests/fixtures/truncated.jpg"), path.join(photos, "broken.jpg"));

  process.env.COMPRESSOR_CONFIG_DIR = path.join(work, "config");
  // The media worker's test-only fault switch: it crashes (SIGSEGV) on a file named crash-me.
  process.env.COMPRESSOR_WORKER_FAULT = "crash:crash-me";
  // The watch index (what a watched folder has had done) goes here, not in the user's home.
  process.env.XDG_STATE_HOME = path.join(work, "state");
  driver = spawn("tauri-driver", ["--port", "4444", "--native-port", "4445"], { stdio: ["ignore", "inherit", "inherit"] });
  await waitForPort(4444, 20_000);
  browser = await remote({
    hostname: "127.0.0.1",
    port: 4444,
    logLevel: "error",
    capabilities: { "wdio:enforceWebDriverClassic": true, "tauri:options": { application: app } },
  });
  await browser.$('body[data-ready="true"]').waitForExist({ timeout: 30_000 });
});

after(async () => {
  await browser?.deleteSession().catch(() => {});
  driver?.kill();
  fs.rmSync(work, { recursive: true, force: true });
});

test("the empty window invites a drop", async () => {
  const zone = await browser.$('[data-testid="dropzone"]');
  assert.ok(await zone.isDisplayed());
  assert.match(await text(zone), /drop/i);
  await screenshot("01-empty.png");
});

test("a native drop of real photos shows true sizes and hashes", async () => {
  const files = fs.readdirSync(photos).sort().map((name) => path.join(photos, name));
  const originals = Object.fromEntries(files.map((f) => [path.basename(f), { size: fs.statSync(f).size, sha: sha256(f) }]));
  await dropAndWait(files);
  assert.equal((await rows()).length, files.length, "each dropped file listed once");

  const seen = {};
  for (const row of await rows()) {
    const name = (await text(await row.$('[data-field="name"] .file-name'))).trim();
    seen[name] = row;
    const state = await row.getAttribute("data-state");
    const original = originals[name];
    assert.ok(original, `unexpected row ${name}`);
    if (name === "broken.jpg") {
      assert.equal(state, "failed");
      assert.match(await text(await row.$('[data-field="status"]')), /damaged/);
      continue;
    }
    assert.equal(state, "done", `${name} should be compressed`);
    // What the window says about the original is true of the file on disk...
    assert.equal(Number(await row.getAttribute("data-bytes-before")), original.size, name);
    assert.equal(await row.getAttribute("data-sha-before"), original.sha, name);
    // ...and about the output, which is beside it with the default "-min" suffix.
    const ext = path.extname(name);
    const output = path.join(photos, `${path.basename(name, ext)}-min${ext}`);
    assert.ok(fs.existsSync(output), `${output} written`);
    assert.equal(Number(await row.getAttribute("data-bytes-after")), fs.statSync(output).size, name);
    assert.equal(await row.getAttribute("data-sha-after"), sha256(output), name);
    assert.ok(fs.statSync(output).size < original.size, `${name} is smaller`);
    // The visible short hashes are prefixes of the true ones.
    const shownBefore = (await text(await row.$('[data-field="sha-before"]'))).trim();
    const shownAfter = (await text(await row.$('[data-field="sha-after"]'))).trim();
    assert.ok(shownBefore.length >= 8 && original.sha.startsWith(shownBefore.replace(/[^0-9a-f]/g, "")), shownBefore);
    assert.ok(sha256(output).startsWith(shownAfter.replace(/[^0-9a-f]/g, "")), shownAfter);
  }
  assert.deepEqual(Object.keys(seen).sort(), Object.keys(originals).sort());
  assert.match(await text(await browser.$('[data-testid="totals"]')), /5 files/);
  await screenshot("02-results.png");
});

test("the compare view shows both images at their real size", async () => {
  let target;
  for (const candidate of await rows()) {
    if ((await candidate.getAttribute("data-state")) === "done") { target = candidate; break; }
  }
  assert.ok(target, "a finished row");
  await target.$('[data-action="compare"]').click();
  const dialog = await browser.$('[data-testid="compare"]');
  await dialog.waitForDisplayed({ timeout: 10_000 });
  for (const side of ["before", "after"]) {
    await browser.waitUntil(
      async () => browser.execute((s) => document.querySelector(`[data-testid=compare] img[data-side=${s}]`)?.naturalWidth ?? 0, side),
      { timeout: 10_000, timeoutMsg: `${side} image did not load` },
    );
  }
  const widths = await browser.execute(() =>
    [...document.querySelectorAll("[data-testid=compare] img")].map((img) => img.naturalWidth));
  assert.deepEqual(widths, [2560, 2560]);
  await screenshot("03-compare.png");
  await browser.$('[data-testid="close-compare"]').click();
  await dialog.waitForDisplayed({ reverse: true, timeout: 5_000 });
});

test("settings open and show the output policy", async () => {
  await browser.$('[data-testid="open-settings"]').click();
  const dialog = await browser.$('[data-testid="settings-dialog"]');
  await dialog.waitForDisplayed({ timeout: 5_000 });
  assert.match(await text(dialog), /suffix/i);
  await screenshot("04-settings.png");
});

test("a user preset made in settings is saved and offered in the preset menu", async () => {
  await browser.$('[data-testid="new-preset-name"]').setValue("Newsletter");
  await browser.$('[data-testid="new-preset-format"]').selectByAttribute("value", "webp");
  await browser.$('[data-testid="new-preset-max-width"]').setValue("1200");
  await browser.$('[data-testid="create-preset"]').click();
  await browser.$('[data-testid="user-preset"][data-name="Newsletter"]').waitForExist({ timeout: 5_000 });
  const offered = await browser.execute(() =>
    [...document.querySelectorAll('select[data-testid="preset"] option')].map((o) => o.value));
  assert.ok(offered.includes("Newsletter"), offered.join(", "));
  // Saved to the settings file by the app itself.
  const saved = JSON.parse(fs.readFileSync(path.join(work, "config", "settings.json"), "utf8"));
  const preset = saved.user_presets.find((p) => p.name === "Newsletter");
  assert.deepEqual(preset.options.image.format, "webp");
  assert.deepEqual(preset.options.image.resize, { width: 1200, mode: "auto" });
});

test("a watched folder compresses what lands in it; pause, resume and remove", async () => {
  // Leave the settings dialog the previous test opened.
  const settingsDialog = await browser.$('[data-testid="settings-dialog"]');
  if (await settingsDialog.isDisplayed()) await browser.$('[data-testid="cancel-settings"]').click();
  const inbox = path.join(work, "inbox");
  const results = path.join(work, "watched-results");
  fs.mkdirSync(inbox, { recursive: true });
  fs.mkdirSync(results, { recursive: true });

  await browser.$('[data-testid="view-watch"]').click();
  await browser.$('[data-testid="watch-view"]').waitForDisplayed({ timeout: 5_000 });
  await browser.$('[data-testid="watch-folder-input"]').setValue(inbox);
  await browser.$('[data-testid="watch-output-mode"]').selectByAttribute("value", "folder");
  await browser.$('[data-testid="watch-output-folder"]').setValue(results);
  await browser.$('[data-testid="watch-add"]').click();
  const rule = await browser.$(`[data-testid="watch-rule"][data-folder="${inbox}"]`);
  await rule.waitForExist({ timeout: 10_000 });
  await browser.waitUntil(async () => /watching/i.test(await text(await rule.$('[data-testid="watch-state"]'))),
    { timeout: 10_000, timeoutMsg: "the rule is not watching" });

  // A photo copied in is compressed once, into the output folder, and the log says so.
  fs.copyFileSync(path.join(media, "jpeg", "Kite.jpg"), path.join(inbox, "Kite.jpg"));
  const compressedLine = async (name) => {
    for (const line of await browser.$$('[data-testid="watch-log-entry"][data-kind="compressed"]')) {
      if ((await text(line)).includes(name)) return true;
    }
    return false;
  };
  await browser.waitUntil(() => compressedLine("Kite.jpg"), { timeout: 60_000, timeoutMsg: "Kite.jpg not logged" });
  const output = path.join(results, "Kite.jpg");
  assert.ok(fs.existsSync(output), "the output is in the chosen folder");
  assert.ok(fs.statSync(output).size < fs.statSync(path.join(inbox, "Kite.jpg")).size);
  assert.match(await text(await rule.$('[data-testid="watch-counts"]')), /1 compressed/);
  await screenshot("05-watch.png");

  // Paused: nothing happens; resumed: it catches up.
  await rule.$('[data-testid="watch-toggle"]').click();
  await browser.waitUntil(async () => /paused/i.test(await text(await rule.$('[data-testid="watch-state"]'))),
    { timeout: 10_000, timeoutMsg: "not paused" });
  fs.copyFileSync(path.join(media, "jpeg", "FallenLeaf.jpg"), path.join(inbox, "FallenLeaf.jpg"));
  await sleep(2_000);
  assert.ok(!fs.existsSync(path.join(results, "FallenLeaf.jpg")), "nothing is done while paused");
  await rule.$('[data-testid="watch-toggle"]').click();
  await browser.waitUntil(() => compressedLine("FallenLeaf.jpg"), { timeout: 60_000, timeoutMsg: "no catch-up" });
  assert.match(await text(await rule.$('[data-testid="watch-counts"]')), /2 compressed/);
  assert.deepEqual(fs.readdirSync(results).sort(), ["FallenLeaf.jpg", "Kite.jpg"], "one output per input");

  // The rule is in the settings file the CLI's `watch --rules` reads; removing it stops it.
  const saved = () => JSON.parse(fs.readFileSync(path.join(work, "config", "settings.json"), "utf8"));
  assert.equal(saved().watch_rules[0].folder, inbox);
  await rule.$('[data-testid="watch-remove"]').click();
  await browser.$('[data-testid="watch-empty"]').waitForDisplayed({ timeout: 10_000 });
  assert.deepEqual(saved().watch_rules, []);
  await browser.$('[data-testid="view-files"]').click();
});

test("a local folder connector: added, tested, and results uploaded into it", async () => {
  const settingsDialog = await browser.$('[data-testid="settings-dialog"]');
  if (await settingsDialog.isDisplayed()) await browser.$('[data-testid="cancel-settings"]').click();
  const bucket = fs.mkdtempSync(path.join(work, "bucket-"));
  const source = path.join(work, "to-bucket");
  fs.mkdirSync(source, { recursive: true });
  const photo = path.join(source, "ToBucket.jpg");
  fs.copyFileSync(path.join(media, "jpeg", "Kite.jpg"), photo);
  const saved = () => JSON.parse(fs.readFileSync(path.join(work, "config", "settings.json"), "utf8"));

  // The Connectors screen, empty at first.
  await browser.$("#connectors-tab").click();
  await browser.$('[data-testid="connectors-view"]').waitForDisplayed({ timeout: 5_000 });
  await browser.$('[data-testid="connectors-empty"]').waitForDisplayed({ timeout: 5_000 });

  // A local folder needs its path and a name: no region, no key, no secret.
  await browser.$("#add-connector").click();
  const dialog = await browser.$('[data-testid="connector-dialog"]');
  await dialog.waitForDisplayed({ timeout: 5_000 });
  await browser.$("#connector-provider").selectByAttribute("value", "local");
  await browser.$("#connector-name").waitForDisplayed({ timeout: 5_000 });
  assert.equal(await browser.$("#connector-secret").isDisplayed(), false, "a local folder has no secret");
  assert.equal(await browser.$("#connector-region").isDisplayed(), false, "nor a region");
  await browser.$("#connector-name").setValue("e2e-local");
  await browser.$("#connector-endpoint").setValue(bucket);
  // Tested before it is saved.
  await browser.$("#connector-test").click();
  await browser.waitUntil(async () => /Connection works/.test(await text(await browser.$("#connector-test-result"))),
    { timeout: 15_000, timeoutMsg: "the setup dialog's test did not succeed" });
  await screenshot("06-connector-setup.png");
  await browser.$("#connector-save").click();
  await dialog.waitForDisplayed({ reverse: true, timeout: 10_000 });

  // Listed, and in the settings file with its folder (and nothing secret).
  const connector = saved().connectors.find((c) => c.name === "e2e-local");
  assert.ok(connector, "the connector is saved");
  assert.equal(connector.provider, "local");
  assert.equal(connector.endpoint, bucket);
  const row = await browser.$(`[data-connector-id="${connector.id}"]`);
  await row.waitForDisplayed({ timeout: 10_000 });
  assert.match(await text(row), /e2e-local/);
  assert.match(await text(row), /Local folder/);
  assert.match(await text(row), new RegExp(bucket.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));

  // Its Test button writes and deletes a probe object there.
  await row.$(".connector-test").click();
  await browser.waitUntil(async () => /Connection works: wrote and deleted file:\/\//.test(await text(await row.$(".connector-result"))),
    { timeout: 15_000, timeoutMsg: "the saved connector's test did not succeed" });
  assert.deepEqual(fs.readdirSync(bucket).filter((n) => n.includes("connection-test")), [], "the probe is deleted");
  await screenshot("07-connectors.png");

  // Results go to it: settings → "Upload to a storage connector", path "up/".
  await browser.$('[data-testid="open-settings"]').click();
  await settingsDialog.waitForDisplayed({ timeout: 5_000 });
  await browser.$("#output-store").click();
  await browser.$("#output-connector").selectByAttribute("value", connector.id);
  await browser.$("#output-store-path").setValue("up/");
  await browser.$('[data-testid="save-settings"]').click();
  await settingsDialog.waitForDisplayed({ reverse: true, timeout: 10_000 });
  assert.deepEqual(saved().output.store, { id: connector.id, path: "up/" });
  assert.equal(saved().output.mode, "store");

  // A photo dropped on the Files view is uploaded: the row names its URL, the file is there.
  await browser.$('[data-testid="view-files"]').click();
  await dropAndWait([photo]);
  const uploaded = await rowNamed("ToBucket.jpg");
  assert.ok(uploaded, "the dropped photo is listed");
  assert.equal(await uploaded.getAttribute("data-state"), "done");
  const url = await uploaded.getAttribute("data-url");
  assert.ok(url && url.startsWith("file://"), `the row names the object's URL, got ${url}`);
  assert.ok((await text(await uploaded.$('[data-testid="result-url"]'))).trim().startsWith("file://"), "the URL is shown");
  // One object, under the path asked for, named by the URL.
  const objects = fs.readdirSync(path.join(bucket, "up"));
  assert.equal(objects.length, 1, `one object in up/: ${objects.join(", ")}`);
  assert.ok(objects[0].startsWith("ToBucket"), objects[0]);
  assert.ok(url.endsWith(`/up/${encodeURIComponent(objects[0])}`), url);
  const object = path.join(bucket, "up", objects[0]);
  assert.equal(Number(await uploaded.getAttribute("data-bytes-after")), fs.statSync(object).size);
  assert.equal(await uploaded.getAttribute("data-sha-after"), sha256(object));
  assert.ok(fs.statSync(object).size < fs.statSync(photo).size, "the upload is the smaller result");
  assert.deepEqual(fs.readdirSync(source), ["ToBucket.jpg"], "nothing is written beside the original");
  assert.equal(await uploaded.$('[data-action="compare"]').isExisting(), false, "no local result to compare");
  await screenshot("08-uploaded.png");
});

test("a connector's bucket synced: new objects compressed under another prefix, then unchanged", async () => {
  const settingsDialog = await browser.$('[data-testid="settings-dialog"]');
  if (await settingsDialog.isDisplayed()) await browser.$('[data-testid="cancel-settings"]').click();
  const saved = () => JSON.parse(fs.readFileSync(path.join(work, "config", "settings.json"), "utf8"));

  await browser.$("#connectors-tab").click();
  await browser.$('[data-testid="connectors-view"]').waitForDisplayed({ timeout: 5_000 });

  // The local folder connector of the previous test; made here the same way if it is missing.
  let connector = saved().connectors?.find((c) => c.name === "e2e-local");
  if (!connector) {
    const bucket = fs.mkdtempSync(path.join(work, "bucket-"));
    await browser.$("#add-connector").click();
    const dialog = await browser.$('[data-testid="connector-dialog"]');
    await dialog.waitForDisplayed({ timeout: 5_000 });
    await browser.$("#connector-provider").selectByAttribute("value", "local");
    await browser.$("#connector-name").waitForDisplayed({ timeout: 5_000 });
    await browser.$("#connector-name").setValue("e2e-local");
    await browser.$("#connector-endpoint").setValue(bucket);
    await browser.$("#connector-save").click();
    await dialog.waitForDisplayed({ reverse: true, timeout: 10_000 });
    connector = saved().connectors.find((c) => c.name === "e2e-local");
    assert.ok(connector, "the connector is saved");
  }
  const folder = connector.bucket ? path.join(connector.endpoint, connector.bucket) : connector.endpoint;

  // Two real photos in the bucket, under in/.
  const inbox = path.join(folder, "in");
  fs.mkdirSync(inbox, { recursive: true });
  const originals = { "FallenLeaf.jpg": path.join(media, "jpeg", "FallenLeaf.jpg"), "chelsea.png": path.join(media, "png", "chelsea.png") };
  for (const [name, from] of Object.entries(originals)) fs.copyFileSync(from, path.join(inbox, name));

  const row = await browser.$(`[data-connector-id="${connector.id}"]`);
  await row.waitForDisplayed({ timeout: 10_000 });
  await row.$(".connector-sync").click();
  const panel = await browser.$('[data-testid="sync-panel"]');
  await panel.waitForDisplayed({ timeout: 5_000 });
  await browser.$("#sync-prefix").setValue("in/");
  await browser.$("#sync-destination").setValue("out/");

  /** Waits for the sync to finish with a summary matching `pattern`; fails at once on an error. */
  const syncFinished = async (pattern, timeoutMs) => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const state = await browser.execute(() => {
        const error = document.querySelector('[data-testid="sync-error"]');
        return {
          running: document.querySelector("#sync-run")?.disabled ?? false,
          summary: document.querySelector(".sync-summary")?.innerText ?? "",
          error: error && !error.hidden ? error.innerText : "",
        };
      });
      if (state.error) assert.fail(`the sync failed: ${state.error}`);
      if (!state.running && pattern.test(state.summary)) return state.summary;
      if (Date.now() > end) assert.fail(`the sync did not end with ${pattern}: ${JSON.stringify(state)}`);
      await sleep(250);
    }
  };

  // The first run compresses both into out/.
  await browser.$("#sync-run").click();
  const first = await syncFinished(/\b2 compressed\b/, 120_000);
  assert.match(first, /0 failed/);
  assert.match(first, /saved /);
  const out = path.join(folder, "out");
  const results = fs.readdirSync(out).sort();
  assert.equal(results.length, 2, `two results in out/: ${results.join(", ")}`);
  const resultOf = (name) => {
    const stem = path.basename(name, path.extname(name));
    const found = results.find((r) => path.basename(r, path.extname(r)) === stem);
    assert.ok(found, `a result for ${name} in out/: ${results.join(", ")}`);
    return path.join(out, found);
  };
  for (const name of Object.keys(originals)) {
    const result = resultOf(name);
    assert.ok(fs.statSync(result).size < fs.statSync(path.join(inbox, name)).size, `${name}: the result is smaller`);
  }
  // The panel lists each object with its true sizes and the result's URL.
  const listed = await browser.execute(() =>
    [...document.querySelectorAll('[data-testid="sync-result"]')].map((li) => ({
      key: li.dataset.key, status: li.dataset.status, before: Number(li.dataset.bytesBefore), after: Number(li.dataset.bytesAfter), url: li.dataset.url,
    })));
  assert.deepEqual(listed.map((o) => o.key).sort(), ["in/FallenLeaf.jpg", "in/chelsea.png"]);
  for (const object of listed) {
    const name = path.basename(object.key);
    assert.equal(object.status, "compressed", name);
    assert.equal(object.before, fs.statSync(path.join(inbox, name)).size, `${name}: size before`);
    assert.equal(object.after, fs.statSync(resultOf(name)).size, `${name}: size after`);
    assert.ok(object.url?.startsWith("file://") && object.url.includes("/out/"), `${name}: URL ${object.url}`);
  }
  const written = Object.fromEntries(results.map((r) => [r, sha256(path.join(out, r))]));

  // The second, identical run finds nothing new: both unchanged, nothing rewritten.
  await browser.$("#sync-run").click();
  const second = await syncFinished(/\b2 unchanged\b/, 60_000);
  assert.match(second, /^0 compressed/);
  assert.deepEqual(fs.readdirSync(out).sort(), results, "no new results");
  for (const r of results) assert.equal(sha256(path.join(out, r)), written[r], `${r} is not rewritten`);
  await screenshot("09-sync.png");
});

/** A free loopback port (free when asked: the caller binds it next). */
async function freePort() {
  const net = await import("node:net");
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/**
 * An unlocked GNOME Keyring serving the Secret Service on the session bus the app uses
 * (dbus-run-session gives each run a private one), as the Rust tests start one on theirs: the
 * app keeps API keys in the system keychain and nowhere else.
 */
function startSecretService() {
  const home = fs.mkdtempSync(path.join(work, "keyring-"));
  const runtime = path.join(home, "run");
  fs.mkdirSync(runtime, { recursive: true, mode: 0o700 });
  try {
    execFileSync("gnome-keyring-daemon", ["--unlock", "--components=secrets"], {
      input: "e2e-keyring-password",
      env: { ...process.env, XDG_RUNTIME_DIR: runtime, XDG_DATA_HOME: path.join(home, "data") },
      stdio: ["pipe", "ignore", "ignore"],
      timeout: 15_000,
    });
  } catch (err) {
    // Perhaps one already serves this bus; if not, saving the key says so in the dialog.
    console.warn(`gnome-keyring-daemon could not start (scripts/setup.sh installs it): ${err.message}`);
  }
}

test("compressing on a Compressor API server (compressor serve), the key in the keychain only", async () => {
  const settingsDialog = await browser.$('[data-testid="settings-dialog"]');
  if (await settingsDialog.isDisplayed()) await browser.$('[data-testid="cancel-settings"]').click();
  const configDir = process.env.COMPRESSOR_CONFIG_DIR; // set in before(): the app's settings
  const settingsFile = path.join(configDir, "settings.json");
  const saved = () => JSON.parse(fs.readFileSync(settingsFile, "utf8"));

  // The server: `compressor serve` beside the app, on a free port, with a key of its own.
  const binary = path.join(path.dirname(app), "compressor");
  assert.ok(fs.existsSync(binary), `the CLI is built beside the app: ${binary}`);
  const serverHome = fs.mkdtempSync(path.join(work, "serve-"));
  const key = `e2e-remote-key-${createHash("sha256").update(String(Date.now() + Math.random())).digest("hex").slice(0, 24)}`;
  const keyFile = path.join(serverHome, "api-keys");
  fs.writeFileSync(keyFile, `# e2e\n${key}\n`, { mode: 0o600 });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let serverLog = "";
  const server = spawn(binary, ["serve", "--listen", `127.0.0.1:${port}`, "--api-key-file", keyFile, "--data-dir", path.join(serverHome, "results")], {
    env: { ...process.env, COMPRESSOR_CONFIG_DIR: configDir },
    stdio: ["ignore", "ignore", "pipe"],
  });
  server.stderr.on("data", (chunk) => (serverLog += chunk));
  const exited = new Promise((resolve) => {
    server.on("exit", (code, signal) => resolve(`exited (${code ?? signal})`));
    server.on("error", (err) => resolve(`could not start (${err.message})`));
  });

  try {
    const early = await Promise.race([waitForPort(port, 30_000).then(() => null), exited]);
    if (early) assert.fail(`compressor serve ${early} before listening: ${serverLog}`);

    // Settings: "A Compressor API server", its URL and key; results beside the original with
    // the "-min" suffix again (an earlier test chose the storage connector).
    await browser.$('[data-testid="open-settings"]').click();
    await settingsDialog.waitForDisplayed({ timeout: 5_000 });
    await browser.$('[data-testid="settings-dialog"] input[name="output"][value="suffix"]').click();
    await browser.$('[data-testid="output-suffix"]').setValue("-min");
    await browser.$("#engine-remote").click();
    await browser.$("#remote-url").waitForDisplayed({ timeout: 5_000 });
    await browser.$("#remote-url").setValue(url);
    await browser.$("#remote-key").setValue(key);
    await screenshot("10-remote-settings.png");
    await browser.$('[data-testid="save-settings"]').click();
    await settingsDialog.waitForDisplayed({ reverse: true, timeout: 15_000 }).catch(async () => {
      const errors = await browser.execute(() =>
        ["settings-error", "remote-url-error", "remote-key-error"]
          .map((id) => document.querySelector(`[data-testid="${id}"]`))
          .filter((e) => e && !e.hidden)
          .map((e) => e.innerText));
      assert.fail(`the settings were not saved: ${errors.join(" / ") || "the dialog stayed open"}`);
    });

    // Saved: remote, the server's URL, results beside the original; the key in none of the
    // app's files, but in the keychain.
    assert.equal(saved().engine, "remote");
    assert.equal(saved().remote_url, url);
    assert.equal(saved().output.mode, "suffix");
    assert.equal(saved().output.suffix, "-min");
    const configFiles = fs.readdirSync(configDir, { recursive: true }).map((name) => path.join(configDir, name)).filter((f) => fs.statSync(f).isFile());
    for (const file of configFiles) assert.ok(!fs.readFileSync(file, "utf8").includes(key), `the API key is not in ${file}`);
    const stored = execFileSync("secret-tool", ["lookup", "service", "compressor", "username", `api-key:${url}`]).toString().trim();
    assert.equal(stored, key, "the API key is in the keychain");
    // The window says where files go now.
    await browser.$('[data-testid="view-files"]').click();
    const badge = await browser.$('[data-testid="engine-badge"]');
    await badge.waitForDisplayed({ timeout: 5_000 });
    assert.equal((await text(badge)).trim(), `Remote: 127.0.0.1:${port}`);

    // A real photo dropped is compressed by the server; the result is written beside it.
    const folder = path.join(work, "remote-photos");
    fs.mkdirSync(folder, { recursive: true });
    const photo = path.join(folder, "Remote.jpg");
    fs.copyFileSync(path.join(media, "jpeg", "Path.jpg"), photo);
    const original = { size: fs.statSync(photo).size, sha: sha256(photo) };
    await dropAndWait([photo]);
    const row = await rowNamed("Remote.jpg");
    assert.ok(row, "the dropped photo is listed");
    const state = await row.getAttribute("data-state");
    if (state !== "done") assert.fail(`Remote.jpg is ${state}: ${await text(await row.$('[data-field="status"]'))}; server: ${serverLog}`);
    assert.equal(Number(await row.getAttribute("data-bytes-before")), original.size);
    assert.equal(await row.getAttribute("data-sha-before"), original.sha);
    const after = Number(await row.getAttribute("data-bytes-after"));
    assert.ok(after > 0 && after < original.size, `smaller: ${after} < ${original.size}`);
    const outputs = fs.readdirSync(folder).filter((name) => name !== "Remote.jpg");
    assert.equal(outputs.length, 1, `one result beside the original: ${outputs.join(", ")}`);
    assert.ok(outputs[0].startsWith("Remote-min."), outputs[0]);
    const output = path.join(folder, outputs[0]);
    assert.equal(fs.statSync(output).size, after, "the result on disk is the size the row shows");
    assert.equal(await row.getAttribute("data-sha-after"), sha256(output), "and has the hash the row shows");
    assert.equal(sha256(photo), original.sha, "the original is untouched");
    await screenshot("10-remote.png");

    // Back to this computer; the key stays saved for the server.
    await browser.$('[data-testid="open-settings"]').click();
    await settingsDialog.waitForDisplayed({ timeout: 5_000 });
    assert.equal(await browser.$("#engine-remote").isSelected(), true);
    await browser.$('[data-testid="remote-key-saved"]').waitForDisplayed({ timeout: 10_000 });
    assert.equal(await browser.$("#remote-key").getValue(), "", "the key is never shown again");
    await browser.$("#engine-local").click();
    await browser.$('[data-testid="save-settings"]').click();
    await settingsDialog.waitForDisplayed({ reverse: true, timeout: 10_000 });
    assert.equal(saved().engine, "local");
    await badge.waitForDisplayed({ reverse: true, timeout: 5_000 });
  } finally {
    // Whatever happened, leave the app compressing locally for the tests after this one.
    await (async () => {
      if (saved().engine !== "remote") return;
      if (!(await settingsDialog.isDisplayed())) await browser.$('[data-testid="open-settings"]').click();
      await settingsDialog.waitForDisplayed({ timeout: 5_000 });
      await browser.$("#engine-local").click();
      await browser.$('[data-testid="save-settings"]').click();
      await settingsDialog.waitForDisplayed({ reverse: true, timeout: 10_000 });
    })().catch(() => {});
    server.kill();
    await Promise.race([exited, sleep(5_000)]);
  }
});

/** What the row of the file named `name` shows, read in the page after scrolling to the end
 * of the list (where new rows are): its state, its progress bar's value and its status text. */
async function lastRowsState(name) {
  return browser.execute((wanted) => {
    const table = document.querySelector("[data-testid=table]");
    table.scrollTop = table.scrollHeight;
    for (const row of document.querySelectorAll("[data-testid=row]")) {
      if (row.querySelector(".file-name")?.textContent !== wanted) continue;
      const bar = row.querySelector("[role=progressbar]");
      return {
        state: row.dataset.state,
        progress: bar?.getAttribute("aria-valuenow") ?? null,
        status: row.querySelector('[data-field="status"]').innerText,
      };
    }
    return null;
  }, name);
}

/** Processes now running the media worker. */
function mediaWorkers() {
  try {
    return execFileSync("pgrep", ["-f", "compressor-media-worker"]).toString().trim().split("\n").filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when there is none
  }
}

test("a long video shows how far it is and cancels at once; a crashing decoder fails only its file", async () => {
  const folder = path.join(work, "media");
  fs.mkdirSync(folder, { recursive: true });
  // 45 s of 720p: long enough to watch its bar move, made small (fast, high quality) so the
  // engine has work to do.
  const video = path.join(folder, "long.mp4");
  execFileSync("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-t", "45",
    "-c:v", "libx264", "-preset", "ultrafast", "-crf", "14", "-pix_fmt", "yuv420p", video]);
  const crashing = path.join(folder, "crash-me.wav");
  const fine = path.join(folder, "fine.wav");
  fs.copyFileSync(path.join(media, "audio", "Noise.wav"), crashing);
  fs.copyFileSync(path.join(media, "audio", "Noise.wav"), fine);

  const listed = (await rows()).length;
  await nativeDrop([video, crashing, fine]);
  const added = await browser.waitUntil(async () => (await lastRowsState("fine.wav")) !== null, { timeout: 15_000, interval: 250 }).catch(() => false);
  if (!added) await nativeDrop([video, crashing, fine]);

  // The video's bar says how far it is, from the worker's frames across the process boundary.
  let seen;
  await browser.waitUntil(async () => {
    seen = await lastRowsState("long.mp4");
    return seen?.state === "running" && Number(seen.progress) > 0;
  }, { timeout: 60_000, interval: 100, timeoutMsg: `no progress shown for long.mp4: ${JSON.stringify(seen)}` });
  await screenshot("11-video-progress.png");
  await browser.waitUntil(async () => Number((await lastRowsState("long.mp4")).progress) > Number(seen.progress), {
    timeout: 30_000, interval: 100, timeoutMsg: "the bar did not move",
  });

  // The crashing file failed with the reason; the other sound was compressed beside it.
  await browser.waitUntil(async () => ["failed", "done"].includes((await lastRowsState("crash-me.wav"))?.state)
    && (await lastRowsState("fine.wav"))?.state === "done", { timeout: 60_000, interval: 250, timeoutMsg: "the sounds did not finish" });
  const crashed = await lastRowsState("crash-me.wav");
  assert.equal(crashed.state, "failed");
  assert.match(crashed.status, /the audio decoder crashed on this file/);
  assert.ok(fs.existsSync(path.join(folder, "fine-min.ogg")) || fs.readdirSync(folder).some((n) => n.startsWith("fine-min.")), "fine.wav's result is beside it");
  assert.ok(!fs.readdirSync(folder).some((n) => n.startsWith("crash-me-min")), "nothing written for the crashed file");

  // Cancel the video from its row: it stops within a second, leaving no temporary file.
  assert.equal((await lastRowsState("long.mp4")).state, "running", "the video is still running");
  // Idle workers (kept for the next file) stay; the video's is stopped.
  const workers = mediaWorkers().length;
  const cancelled = Date.now();
  await browser.execute(() => {
    for (const row of document.querySelectorAll("[data-testid=row]")) {
      if (row.querySelector(".file-name")?.textContent === "long.mp4") row.querySelector("[data-action=cancel]").click();
    }
  });
  await browser.waitUntil(async () => (await lastRowsState("long.mp4")).state === "cancelled", { timeout: 5_000, interval: 50 });
  const took = Date.now() - cancelled;
  assert.ok(took < 1_500, `cancelled in ${took} ms`); // the row's update is batched every 100 ms
  await browser.waitUntil(async () => mediaWorkers().length === workers - 1, { timeout: 5_000, interval: 100, timeoutMsg: `workers: ${mediaWorkers()}, ${workers} before` });
  const left = fs.readdirSync(folder).filter((n) => n.startsWith(".compressor-") || n.startsWith("long-min"));
  assert.deepEqual(left, [], "no temporary or partial output of the video");
  assert.ok((await rows()).length > listed);
});
