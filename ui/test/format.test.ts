import { describe, expect, it } from "vitest";
import { extensionOf, folderOf, formatBytes, formatCount, formatDimensions, formatExactBytes, formatName, formatPercent, parentName, savedRatio, shortHash } from "../src/format";

describe("formatBytes", () => {
  it.each([
    [0, "0 B"],
    [1, "1 B"],
    [999, "999 B"],
    [1000, "1.00 kB"],
    [1234, "1.23 kB"],
    [12_345, "12.3 kB"],
    [123_456, "123 kB"],
    [999_499, "999 kB"],
    [999_999, "1.00 MB"],
    [1_234_567, "1.23 MB"],
    [12_345_678, "12.3 MB"],
    [123_456_789, "123 MB"],
    [4_500_000_000, "4.50 GB"],
  ])("%d bytes → %s", (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it("rejects nonsense", () => {
    expect(formatBytes(-1)).toBe("—");
    expect(formatBytes(Number.NaN)).toBe("—");
  });

  it("gives exact counts with separators", () => {
    expect(formatExactBytes(1_234_567)).toBe("1,234,567 bytes");
    expect(formatExactBytes(1)).toBe("1 byte");
    expect(formatCount(10_000)).toBe("10,000");
    expect(formatCount(999)).toBe("999");
  });
});

describe("percentages", () => {
  it("computes the saved fraction", () => {
    expect(savedRatio(1000, 400)).toBeCloseTo(0.6);
    expect(savedRatio(1000, 1000)).toBe(0);
    expect(savedRatio(1000, 1100)).toBeCloseTo(-0.1);
    expect(savedRatio(0, 0)).toBeNull();
  });

  it("formats with one decimal and a real minus sign", () => {
    expect(formatPercent(0.5931)).toBe("59.3 %");
    expect(formatPercent(0.6)).toBe("60.0 %");
    expect(formatPercent(1)).toBe("100 %");
    expect(formatPercent(0)).toBe("0 %");
    expect(formatPercent(0.00004)).toBe("0 %");
    expect(formatPercent(-0.041)).toBe("\u22124.1 %");
    expect(formatPercent(null)).toBe("—");
  });
});

describe("hashes and names", () => {
  const sha = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08";

  it("shortens hashes to 12 lower-case hex characters", () => {
    expect(shortHash(sha)).toBe("9f86d081884c");
    expect(shortHash(sha, 8)).toBe("9f86d081");
    expect(shortHash(null)).toBe("");
  });

  it("names formats and extensions", () => {
    expect(formatName("webp")).toBe("WebP");
    expect(formatName("jpeg")).toBe("JPEG");
    expect(extensionOf("photo.final.jpg")).toBe("JPG");
    expect(extensionOf("README")).toBe("");
    expect(extensionOf(".hidden")).toBe("");
  });

  it("splits paths with either separator", () => {
    expect(folderOf("/home/a/Trip 2024/x.jpg")).toBe("/home/a/Trip 2024");
    expect(parentName("/home/a/Trip 2024/x.jpg")).toBe("Trip 2024");
    expect(parentName("C:\\Users\\a\\Pics\\x.jpg")).toBe("Pics");
    expect(folderOf("x.jpg")).toBe("");
  });

  it("formats dimensions", () => {
    expect(formatDimensions(1920, 1080)).toBe("1920 × 1080");
    expect(formatDimensions(undefined, 1080)).toBe("—");
  });
});
