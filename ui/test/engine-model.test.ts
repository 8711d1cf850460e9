// Where compression runs, without the DOM: what the "Compress on" fields need before saving,
// the engine fields of Settings they give, and the header's badge.

import { describe, expect, it } from "vitest";
import { engineBadge, engineFields, engineProblems, type EngineValues, isServerUrl, noProblems, serverHost, serverUrl } from "../src/engine-model";

const remote = (v: Partial<EngineValues>): EngineValues => ({ engine: "remote", url: "http://127.0.0.1:8080", key: "", keySaved: false, ...v });

describe("the server's URL", () => {
  it("is trimmed, without trailing slashes", () => {
    expect(serverUrl("  https://api.example.com/ ")).toBe("https://api.example.com");
    expect(serverUrl("http://127.0.0.1:8080///")).toBe("http://127.0.0.1:8080");
    expect(serverUrl("https://example.com/compressor/")).toBe("https://example.com/compressor");
    expect(serverUrl("   ")).toBe("");
  });

  it("must start with http:// or https:// and name a host", () => {
    expect(isServerUrl("http://127.0.0.1:8080")).toBe(true);
    expect(isServerUrl("https://api.example.com")).toBe(true);
    expect(isServerUrl("ftp://example.com")).toBe(false);
    expect(isServerUrl("example.com")).toBe(false);
    expect(isServerUrl("http://")).toBe(false);
    // The backend compares as typed.
    expect(isServerUrl("HTTP://example.com")).toBe(false);
  });
});

describe("what must be filled in", () => {
  it("asks nothing on this computer", () => {
    expect(engineProblems({ engine: "local", url: "", key: "", keySaved: false })).toEqual({});
    expect(engineProblems({ engine: "local", url: "nonsense", key: "", keySaved: false })).toEqual({});
  });

  it("needs a URL for a server", () => {
    expect(engineProblems(remote({ url: " ", key: "k" })).url).toMatch(/Enter the server's URL/);
    expect(engineProblems(remote({ url: "127.0.0.1:8080", key: "k" }))).toEqual({ url: "The URL must start with http:// or https://." });
  });

  it("needs a typed key unless one is saved for the server", () => {
    expect(engineProblems(remote({}))).toEqual({ key: "Enter the server's API key." });
    expect(engineProblems(remote({ key: "   " })).key).toBeDefined();
    expect(engineProblems(remote({ key: "secret" }))).toEqual({});
    expect(engineProblems(remote({ keySaved: true }))).toEqual({});
  });

  it("reports both fields at once", () => {
    const problems = engineProblems(remote({ url: "" }));
    expect(Object.keys(problems).sort()).toEqual(["key", "url"]);
    expect(noProblems(problems)).toBe(false);
    expect(noProblems({})).toBe(true);
  });
});

describe("the engine fields of the settings", () => {
  it("name the server, without a trailing slash", () => {
    expect(engineFields(remote({ url: " http://127.0.0.1:8080/ ", key: "k" }), {})).toEqual({ engine: "remote", remote_url: "http://127.0.0.1:8080" });
  });

  it("never hold the key", () => {
    expect(JSON.stringify(engineFields(remote({ key: "the-secret-key" }), {}))).not.toContain("the-secret-key");
  });

  it("keep the server saved before when back on this computer", () => {
    expect(engineFields({ engine: "local", url: "http://other:1", key: "", keySaved: false }, { remote_url: "https://api.example.com" }))
      .toEqual({ engine: "local", remote_url: "https://api.example.com" });
    const local = engineFields({ engine: "local", url: "", key: "", keySaved: false }, {});
    expect(local).toEqual({ engine: "local" });
    expect("remote_url" in local).toBe(false);
  });
});

describe("the header's badge", () => {
  it("names the server's host and port in remote mode", () => {
    expect(engineBadge({ engine: "remote", remote_url: "http://127.0.0.1:8080" })).toBe("Remote: 127.0.0.1:8080");
    expect(engineBadge({ engine: "remote", remote_url: "https://api.example.com/v1" })).toBe("Remote: api.example.com");
    expect(engineBadge({ engine: "remote" })).toBe("Remote");
  });

  it("is absent on this computer", () => {
    expect(engineBadge({ engine: "local", remote_url: "http://127.0.0.1:8080" })).toBeNull();
  });

  it("falls back to the URL when it cannot be parsed", () => {
    expect(serverHost("not a url")).toBe("not a url");
  });
});
