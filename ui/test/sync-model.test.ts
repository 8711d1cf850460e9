// Syncing a bucket, without the DOM: the request built from the sync form, the form's checks,
// and the summary and per-object lines of what a sync did.

import { describe, expect, it } from "vitest";
import type { SyncOutcome_Serialize as SyncOutcome } from "../src/bindings";
import { buildSyncRequest, describeSync, EMPTY_SYNC_FORM, normalizePrefix, outcomeLine, summarize, summaryText, type SyncForm, syncFormError } from "../src/sync-model";

const form = (values: Partial<SyncForm>): SyncForm => ({ ...EMPTY_SYNC_FORM, ...values });

const compressed = (key: string, before: number, after: number): SyncOutcome => ({ key, status: "compressed", size_before: before, size_after: after, url: `https://b.example/${key}` });

describe("the sync request", () => {
  it("sends results under another prefix, without a suffix", () => {
    expect(buildSyncRequest("c-1", form({ prefix: " uploads/ ", destination: " optimized/ ", suffix: "-min" }), "balanced")).toEqual({
      connector: "c-1",
      bucket: null,
      prefix: "uploads/",
      destination_prefix: "optimized/",
      suffix: null,
      preset: "balanced",
    });
  });

  it("sends results beside the objects with the suffix, the default when it is blank", () => {
    expect(buildSyncRequest("c-1", form({ prefix: "in/", destination: "  ", suffix: "-web" }), "web")).toMatchObject({ destination_prefix: null, suffix: "-web" });
    expect(buildSyncRequest("c-1", form({ prefix: "in/", suffix: " " }), "web")).toMatchObject({ destination_prefix: null, suffix: "-min" });
  });

  it("sends another bucket only when one is typed", () => {
    expect(buildSyncRequest("c-1", form({ bucket: " other " }), "web").bucket).toBe("other");
    expect(buildSyncRequest("c-1", form({ bucket: "" }), "web").bucket).toBeNull();
    // An empty prefix reads the whole bucket.
    expect(buildSyncRequest("c-1", form({}), "web").prefix).toBe("");
  });
});

describe("the sync form's checks", () => {
  it("compares prefixes as folders", () => {
    expect(normalizePrefix(" /in ")).toBe("in/");
    expect(normalizePrefix("in/")).toBe("in/");
    expect(normalizePrefix("")).toBe("");
  });

  it("refuses results under the very prefix that is read", () => {
    expect(syncFormError(form({ prefix: "in/", destination: "in" }))).toBe("The results need another prefix than the one read.");
    expect(syncFormError(form({ prefix: "in/", destination: "out/" }))).toBeNull();
    expect(syncFormError(form({ prefix: "in/", destination: "in/out/" }))).toBeNull();
  });

  it("refuses a suffix with a slash when results go beside the objects", () => {
    expect(syncFormError(form({ suffix: "/min" }))).toContain("suffix");
    // Not used with a destination prefix: not checked.
    expect(syncFormError(form({ suffix: "/min", destination: "out/" }))).toBeNull();
    expect(syncFormError(form({}))).toBeNull();
  });
});

describe("the summary of a sync", () => {
  it("counts each status and what the compressed objects saved", () => {
    const outcomes: SyncOutcome[] = [
      compressed("in/a.jpg", 1_000_000, 400_000),
      compressed("in/b.jpg", 600_000, 200_000),
      compressed("in/c.png", 275_000, 75_000),
      { key: "in/d.jpg", status: "unchanged", size_before: 5_000_000 },
      // A skipped object's copy does not count as saved.
      { key: "in/e.png", status: "skipped", size_before: 10_000, size_after: 10_000, message: "already optimal" },
    ];
    const summary = summarize(outcomes);
    expect(summary.counts).toEqual({ compressed: 3, skipped: 1, unchanged: 1, failed: 0 });
    expect(summary.bytesBefore).toBe(1_875_000);
    expect(summary.bytesAfter).toBe(675_000);
    expect(summaryText(summary)).toBe("3 compressed · 1 skipped · 1 unchanged · 0 failed · saved 1.20 MB (64.0 %)");
  });

  it("says nothing about savings when nothing was compressed", () => {
    const outcomes: SyncOutcome[] = [
      { key: "in/a.jpg", status: "unchanged", size_before: 1_000 },
      { key: "in/b.jpg", status: "unchanged", size_before: 2_000 },
      { key: "in/c.heic", status: "failed", size_before: 3_000, message: "HEIC decoding is not available" },
    ];
    expect(describeSync(outcomes, "in/")).toBe("0 compressed · 0 skipped · 2 unchanged · 1 failed");
  });

  it("says when there was nothing to sync", () => {
    expect(describeSync([], "in/")).toBe("Nothing to sync: no images under “in/”.");
    expect(describeSync([], "")).toBe("Nothing to sync: no images in the bucket.");
  });
});

describe("one object's line", () => {
  it("a compressed object: both sizes, the saving and its URL", () => {
    expect(outcomeLine(compressed("in/a.jpg", 2_411_000, 812_000))).toEqual({
      key: "in/a.jpg",
      status: "compressed",
      label: "Compressed",
      sizes: "2.41 MB → 812 kB (66.3 %)",
      url: "https://b.example/in/a.jpg",
      note: null,
    });
  });

  it("a failed object: its message; no size when it was never read", () => {
    expect(outcomeLine({ key: "in/x.jpg", status: "failed", size_before: 2_000, message: "truncated JPEG" })).toMatchObject({ label: "Failed", sizes: "2.00 kB", url: null, note: "truncated JPEG" });
    expect(outcomeLine({ key: "in/gone.jpg", status: "failed", size_before: 0, message: "no such object" }).sizes).toBe("");
  });

  it("an unchanged object says why it was left alone; a skipped copy shows its size", () => {
    expect(outcomeLine({ key: "in/a.jpg", status: "unchanged", size_before: 950 })).toMatchObject({ label: "Unchanged", sizes: "950 B", note: "not changed since the last sync" });
    expect(outcomeLine({ key: "in/l.png", status: "skipped", size_before: 18_220, size_after: 18_220, url: "file:///b/out/l.png", message: "already optimal" })).toMatchObject({ sizes: "18.2 kB → 18.2 kB", url: "file:///b/out/l.png", note: "already optimal" });
  });
});
