// The Watch folders screen's data and text, without the DOM: overviews and live events that
// cross each other, and the log line, count and path texts.

import { describe, expect, it } from "vitest";
import type { Activity, RuleCounts, WatchOverview_Serialize } from "../src/bindings";
import { activityDetail, baseName, cleanPath, formatChange, formatClock, formatCounts, stateLabel } from "../src/watch-format";
import { LOG_CAPACITY, WatchModel } from "../src/watch-model";

const F = "/photos/inbox";
const zero = (): RuleCounts => ({ compressed: 0, skipped: 0, failed: 0, bytes_before: 0, bytes_after: 0 });
const line = (n: number): Activity => ({ folder: F, at: 1_000 + n, kind: "compressed", file: `${F}/${n}.jpg`, output: `${F}/${n}-min.jpg`, before: 100, after: 40 });
const overview = (log: Activity[], compressed = log.filter((a) => a.kind === "compressed").length): WatchOverview_Serialize => ({
  rules: [{
    rule: { folder: F, preset: "balanced", output: { mode: "suffix", suffix: "-min", folder: null }, depth: 8, include: [], exclude: [], paused: false },
    counts: { ...zero(), compressed, bytes_before: compressed * 100, bytes_after: compressed * 40 },
    state: "watching",
  }],
  log,
});
const compressedCount = (m: WatchModel) => m.rule(F)!.counts.compressed;

describe("WatchModel", () => {
  it("counts live events the way the backend does", () => {
    const m = new WatchModel();
    m.replace(m.begin(), overview([]));
    m.receive(line(1));
    m.receive({ folder: F, at: 2, kind: "skipped", file: `${F}/a.png`, reason: "already optimal" });
    m.receive({ folder: F, at: 3, kind: "failed", file: `${F}/b.jpg`, message: "truncated" });
    m.receive({ folder: F, at: 4, kind: "notice", message: "hello" });
    m.receive({ folder: "/elsewhere", at: 5, kind: "failed", file: "/elsewhere/c.jpg", message: "gone" });
    const { added, folders } = m.flush();
    expect(added).toHaveLength(5);
    expect([...folders].sort()).toEqual(["/elsewhere", F]);
    expect(m.rule(F)!.counts).toEqual({ compressed: 1, skipped: 1, failed: 1, bytes_before: 100, bytes_after: 40 });
    expect(m.log).toHaveLength(5);
  });

  it("does not count an event twice when the overview already has it", () => {
    const m = new WatchModel();
    m.receive(line(1)); // before the request: the backend had recorded it
    const ticket = m.begin();
    m.replace(ticket, overview([line(1)]));
    expect(m.flush().added).toEqual([]);
    expect(compressedCount(m)).toBe(1);
    expect(m.log).toHaveLength(1);
  });

  it("keeps an event that is newer than the overview that arrived after it", () => {
    const m = new WatchModel();
    m.replace(m.begin(), overview([line(1)]));
    const ticket = m.begin();
    m.receive(line(2)); // recorded after the snapshot was taken, drawn before the answer came
    m.flush();
    m.replace(ticket, overview([line(1)]));
    expect(compressedCount(m)).toBe(2);
    expect(m.log.map((a) => a.at)).toEqual([1001, 1002]);
  });

  it("does not count an event sent after the request but already in the overview", () => {
    const m = new WatchModel();
    const ticket = m.begin();
    m.receive(line(1));
    m.flush();
    m.replace(ticket, overview([line(1)]));
    expect(compressedCount(m)).toBe(1);
    expect(m.log).toHaveLength(1);
  });

  it("drops an overview older than one already shown", () => {
    const m = new WatchModel();
    const older = m.begin();
    const newer = m.begin();
    expect(m.replace(newer, overview([line(1), line(2)]))).toBe(true);
    expect(m.replace(older, overview([line(1)]))).toBe(false);
    expect(m.log).toHaveLength(2);
  });

  it("keeps as many log lines as the backend", () => {
    const m = new WatchModel();
    m.replace(m.begin(), overview([]));
    for (let i = 0; i < LOG_CAPACITY + 20; i++) m.receive(line(i));
    m.flush();
    expect(m.log).toHaveLength(LOG_CAPACITY);
    expect(m.log[0].at).toBe(1_020);
    expect(compressedCount(m)).toBe(LOG_CAPACITY + 20);
  });

  it("copies the overview, so counting does not change the caller's objects", () => {
    const m = new WatchModel();
    const o = overview([]);
    m.replace(m.begin(), o);
    m.receive(line(1));
    m.flush();
    expect(o.rules[0].counts.compressed).toBe(0);
  });
});

describe("watch texts", () => {
  it("formats times as HH:MM:SS local time", () => {
    expect(formatClock(new Date(2024, 0, 2, 3, 4, 5).getTime())).toBe("03:04:05");
    expect(formatClock(new Date(2024, 0, 2, 23, 59, 59).getTime())).toBe("23:59:59");
  });

  it("takes the name from either kind of path", () => {
    expect(baseName("/a/b/c.jpg")).toBe("c.jpg");
    expect(baseName("C:\\Users\\me\\Pictures\\x.png")).toBe("x.png");
    expect(baseName("/a/folder/")).toBe("folder");
    expect(baseName("plain.jpg")).toBe("plain.jpg");
  });

  it("cleans a pasted path", () => {
    expect(cleanPath('  "C:\\My Photos"  ')).toBe("C:\\My Photos");
    expect(cleanPath(" /photos/inbox\n")).toBe("/photos/inbox");
    expect(cleanPath("'/a b'")).toBe("/a b");
  });

  it("says how much a file changed", () => {
    expect(formatChange(1_200_000, 640_000)).toBe("\u221246.7 %");
    expect(formatChange(1000, 1041)).toBe("+4.1 %");
    expect(formatChange(1000, 1000)).toBe("0 %");
    expect(activityDetail({ folder: F, at: 0, kind: "compressed", file: "x", output: "y", before: 1_200_000, after: 640_000 })).toBe("1.20 MB \u2192 640 kB (\u221246.7 %)");
  });

  it("sums up a rule's counts", () => {
    expect(formatCounts(zero())).toBe("0 compressed · 0 skipped · 0 failed");
    expect(formatCounts({ compressed: 3, skipped: 1, failed: 0, bytes_before: 2_926_829, bytes_after: 1_726_829 })).toBe("3 compressed · 1 skipped · 0 failed · saved 1.20 MB (41.0 %)");
    expect(formatCounts({ compressed: 1234, skipped: 0, failed: 2, bytes_before: 1000, bytes_after: 1000 })).toBe("1,234 compressed · 0 skipped · 2 failed · saved 0 B (0 %)");
  });

  it("names the states", () => {
    const rule = overview([]).rules[0];
    expect(stateLabel({ ...rule, state: "watching" })).toBe("Watching");
    expect(stateLabel({ ...rule, state: "paused" })).toBe("Paused");
    expect(stateLabel({ ...rule, state: "error", message: "the folder does not exist" })).toBe("Error: the folder does not exist");
  });
});
