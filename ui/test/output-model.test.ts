// Where results go, without the DOM: the OutputSetting built for each mode (a storage connector
// with a path in its bucket especially), what is missing before saving, the connector choices,
// and where a finished file's result is shown to be.

import { describe, expect, it } from "vitest";
import type { ItemStatus_Serialize } from "../src/bindings";
import { buildOutput, connectorChoices, defaultConnector, outputProblem, type SinkValues, storeFields, storePath } from "../src/output-model";
import { actionOf, placeText } from "../src/row";
import { resultPlace } from "../src/store";
import { outputText } from "../src/watch-format";
import { done, LOCAL, PROVIDERS, skipped, SPACES } from "./fixtures";

const values = (v: Partial<SinkValues>): SinkValues => ({ mode: "suffix", suffix: "-min", folder: "", connectorId: "", storePath: "", ...v });

describe("the output setting", () => {
  it("uploads through a connector, to a path in its bucket", () => {
    expect(buildOutput(values({ mode: "store", connectorId: "c-local", storePath: "up/" })))
      .toEqual({ mode: "store", suffix: "-min", folder: null, store: { id: "c-local", path: "up/" } });
  });

  it("leaves the path out when blank: the file's name at the bucket's root", () => {
    const output = buildOutput(values({ mode: "store", connectorId: "c-local", storePath: "   " }));
    expect(output.store).toEqual({ id: "c-local" });
    expect("path" in output.store!).toBe(false);
  });

  it("cleans the path: no spaces around, no leading slash", () => {
    expect(storePath("  /assets/2024/ ")).toBe("assets/2024/");
    expect(storePath("\\\\shots")).toBe("shots");
    expect(storePath("")).toBeNull();
    expect(storePath(" / ")).toBeNull();
  });

  it("keeps the store options it does not show while the connector stays", () => {
    const previous = { id: "c-spaces", path: "old/", acl: "private", headers: { "Cache-Control": "max-age=60" } };
    expect(buildOutput(values({ mode: "store", connectorId: "c-spaces", storePath: "new/" }), previous).store)
      .toEqual({ id: "c-spaces", path: "new/", acl: "private", headers: { "Cache-Control": "max-age=60" } });
    // Another connector: another bucket, other ACLs; nothing is carried over.
    expect(buildOutput(values({ mode: "store", connectorId: "c-local" }), previous).store).toEqual({ id: "c-local" });
    // The previous path is not kept when the field was emptied.
    expect(buildOutput(values({ mode: "store", connectorId: "c-spaces" }), previous).store).not.toHaveProperty("path");
  });

  it("has no store options when results are written locally", () => {
    expect(buildOutput(values({ mode: "folder", folder: "/out", connectorId: "c-local", storePath: "up/" })))
      .toEqual({ mode: "folder", suffix: "-min", folder: "/out" });
    expect(buildOutput(values({ mode: "suffix", suffix: "-small" }))).toEqual({ mode: "suffix", suffix: "-small", folder: null });
  });

  it("reads the connector and path back from a setting", () => {
    expect(storeFields({ mode: "store", suffix: "-min", folder: null, store: { id: "c-local", path: "up/" } })).toEqual({ connectorId: "c-local", storePath: "up/" });
    expect(storeFields({ mode: "suffix", suffix: "-min", folder: null })).toEqual({ connectorId: "", storePath: "" });
  });

  it("says what is missing before saving", () => {
    const store = (id?: string) => ({ mode: "store" as const, suffix: "-min", folder: null, store: id === undefined ? undefined : { id } });
    expect(outputProblem(store(), [])).toBe("Add a storage connector on the Connectors screen first.");
    expect(outputProblem(store(""), [LOCAL])).toBe("Choose a storage connector.");
    expect(outputProblem(store("gone"), [LOCAL])).toBe("The chosen storage connector no longer exists: choose another.");
    expect(outputProblem(store("c-local"), [LOCAL])).toBeNull();
    expect(outputProblem({ mode: "folder", suffix: "-min", folder: null }, [])).toBe("Choose an output folder.");
    expect(outputProblem({ mode: "in_place", suffix: "", folder: null }, [])).toBeNull();
  });

  it("offers every connector, and a removed one a setting still names", () => {
    expect(connectorChoices([SPACES, LOCAL], PROVIDERS, "c-local")).toEqual([
      { value: "c-spaces", label: "photos (DigitalOcean Spaces)", missing: false },
      { value: "c-local", label: "backup (Local folder)", missing: false },
    ]);
    expect(connectorChoices([SPACES], PROVIDERS, "gone")).toEqual([
      { value: "c-spaces", label: "photos (DigitalOcean Spaces)", missing: false },
      { value: "gone", label: "Removed connector", missing: true },
    ]);
    expect(defaultConnector([SPACES, LOCAL], "")).toBe("c-spaces");
    expect(defaultConnector([SPACES, LOCAL], "c-local")).toBe("c-local");
    expect(defaultConnector([], "")).toBe("");
  });
});

describe("where a result is", () => {
  const uploaded = (status: ItemStatus_Serialize, url: string): ItemStatus_Serialize =>
    status.state === "done" || status.state === "skipped" ? { ...status, destination: null, url } : status;

  it("is the object's URL when it was uploaded, else the local file", () => {
    const local = done(1000, 400);
    expect(resultPlace(local)).toEqual({ kind: "file", path: "/out/1000.jpg" });
    expect(resultPlace(uploaded(local, "https://b.s3.amazonaws.com/a.jpg"))).toEqual({ kind: "url", url: "https://b.s3.amazonaws.com/a.jpg" });
    expect(resultPlace(uploaded(skipped(10, "already optimal"), "file:///srv/up/a.png"))).toEqual({ kind: "url", url: "file:///srv/up/a.png" });
    expect(resultPlace(skipped(10, "already optimal"))).toBeNull();
    expect(resultPlace({ state: "failed", reason: "x" })).toBeNull();
  });

  it("is named in the status tooltip", () => {
    expect(placeText({ kind: "url", url: "https://x/a.jpg" })).toBe("Uploaded to https://x/a.jpg");
    expect(placeText({ kind: "file", path: "/out/a.jpg" })).toBe("Saved as /out/a.jpg");
    expect(placeText(null)).toBeNull();
    expect(outputText("https://x/a.jpg")).toBe("Uploaded to https://x/a.jpg");
    expect(outputText("file:///srv/up/a.jpg")).toBe("Uploaded to file:///srv/up/a.jpg");
    expect(outputText("C:\\photos\\a-min.jpg")).toBe("Saved as C:\\photos\\a-min.jpg");
  });

  it("offers no compare view without a local result", () => {
    expect(actionOf(done(1000, 400))).toBe("compare");
    expect(actionOf(uploaded(done(1000, 400), "https://x/a.jpg"))).toBeNull();
    expect(actionOf({ state: "running" })).toBe("cancel");
    expect(actionOf({ state: "failed", reason: "x" })).toBe("retry");
  });
});
