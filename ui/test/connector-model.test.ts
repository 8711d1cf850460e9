// The Connectors screen's logic without the DOM: which fields each provider's form shows, the
// spec sent to the backend, refusals mapped to fields, and the texts of the list and of tests.

import { describe, expect, it } from "vitest";
import type { ProviderInfo_Serialize } from "../src/bindings";
import { buildSpec, type ConnectorForm, connectorDetails, connectorOptionLabel, describeTest, EMPTY_FORM, failureLines, fieldsFor, formErrors, formFieldOf, plainLabel, regionToShow } from "../src/connector-model";
import { LOCAL, PROVIDERS, SPACES } from "./fixtures";

const info = (provider: string): ProviderInfo_Serialize => PROVIDERS.find((p) => p.provider === provider)!;
const form = (values: Partial<ConnectorForm>): ConnectorForm => ({ ...EMPTY_FORM, ...values });

describe("the fields a provider shows", () => {
  it("a local folder: the folder (required), a sub-folder, and no region, key or secret", () => {
    const plan = fieldsFor(info("local"));
    expect(plan.endpoint).toEqual({ label: "Folder", required: true, placeholder: "/home/me/Uploads" });
    expect(plan.region).toBeNull();
    expect(plan.bucket).toEqual({ label: "Sub-folder (optional)" });
    expect(plan.accessKey).toBeNull();
    expect(plan.secret).toBeNull();
    expect(plan.permissions).toBe("the folder must be writable by you");
  });

  it("Amazon S3: an optional endpoint, AWS's regions with none preselected, a key and a secret", () => {
    const plan = fieldsFor(info("s3"));
    expect(plan.endpoint).toMatchObject({ label: "Endpoint for S3-compatible services (optional)", required: false });
    expect(plan.region).toEqual({ kind: "select", options: ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-central-1"], selected: "", required: true });
    expect(plan.accessKey).toEqual({ label: "Access key ID" });
    expect(plan.secret).toEqual({ label: "Secret access key" });
  });

  it("an S3-compatible service (S3 with an endpoint) takes any region name", () => {
    expect(fieldsFor(info("s3"), "http://localhost:9000").region).toEqual({ kind: "text", required: false });
    // Blanks do not count as an endpoint.
    expect(fieldsFor(info("s3"), "   ").region?.kind).toBe("select");
    // Spaces keep their list whatever the endpoint.
    expect(fieldsFor(info("spaces"), "https://example.com").region?.kind).toBe("select");
  });

  it("R2: the account endpoint is required and the region preselected", () => {
    const plan = fieldsFor(info("r2"));
    expect(plan.endpoint).toMatchObject({ label: "Account endpoint", required: true });
    expect(plan.region).toEqual({ kind: "select", options: ["auto"], selected: "auto", required: true });
  });

  it("Azure: its own words, an optional endpoint, no region", () => {
    const plan = fieldsFor(info("azure"));
    expect(plan.endpoint).toMatchObject({ label: "Blob endpoint (optional)", required: false });
    expect(plan.region).toBeNull();
    expect(plan.bucket).toEqual({ label: "Container" });
    expect(plan.accessKey).toEqual({ label: "Storage account name" });
    expect(plan.secret).toEqual({ label: "Account key" });
  });

  it("a provider without a region list that needs one gets a text field", () => {
    const plan = fieldsFor({ ...info("s3"), regions: [] });
    expect(plan.region).toEqual({ kind: "text", required: false });
  });

  it("keeps a region from the list, else shows the default", () => {
    const field = { kind: "select" as const, options: ["auto", "eu"], selected: "auto", required: true };
    expect(regionToShow(field, "eu")).toBe("eu");
    expect(regionToShow(field, "mars-1")).toBe("auto");
    expect(regionToShow(field, "")).toBe("auto");
  });

  it("drops the (optional) note from labels", () => {
    expect(plainLabel("Custom endpoint (optional)")).toBe("Custom endpoint");
    expect(plainLabel("Sub-folder (optional)")).toBe("Sub-folder");
    expect(plainLabel("Folder")).toBe("Folder");
  });
});

describe("the spec sent to test or save", () => {
  it("trims, and sends blanks as null", () => {
    const spec = buildSpec(form({ provider: "spaces", name: "  photos ", endpoint: "  ", region: "ams3", bucket: " my-bucket ", accessKeyId: " DO00EXAMPLE " }), PROVIDERS);
    expect(spec).toEqual({ name: "photos", provider: "spaces", endpoint: null, region: "ams3", bucket: "my-bucket", access_key_id: "DO00EXAMPLE" });
  });

  it("sends only the provider's fields", () => {
    // A region and an access key left in the form from another provider are not sent.
    const spec = buildSpec(form({ provider: "local", name: "backup", endpoint: "/srv/backup", region: "ams3", bucket: "", accessKeyId: "AKIA" }), PROVIDERS);
    expect(spec).toEqual({ name: "backup", provider: "local", endpoint: "/srv/backup", region: null, bucket: null, access_key_id: "" });
    expect(buildSpec(form({ provider: "azure", region: "eu-west-1", accessKeyId: "acct" }), PROVIDERS)).toMatchObject({ region: null, access_key_id: "acct" });
  });

  it("sends no provider when none (or an unknown one) is chosen", () => {
    expect(buildSpec(form({ name: "x" }), PROVIDERS)).toEqual({ name: "x", provider: null, endpoint: null, region: null, bucket: null, access_key_id: "" });
    expect(buildSpec(form({ provider: "ftp", name: "x" }), PROVIDERS).provider).toBeNull();
  });
});

describe("refusals in the form", () => {
  it("puts each field's message next to it, and points at them from the top", () => {
    const errors = formErrors({
      message: "invalid connector:\n  region: …",
      fields: [
        { field: "region", message: "DigitalOcean Spaces has no region \"us-east-1\"; one of: nyc3, ams3" },
        { field: "access_key_id", message: "is required: the access key id" },
        { field: "access_key_id", message: "must not contain spaces" },
      ],
    });
    expect(errors.fields).toEqual({
      region: "DigitalOcean Spaces has no region \"us-east-1\"; one of: nyc3, ams3",
      access_key_id: "is required: the access key id; must not contain spaces",
    });
    expect(errors.general).toEqual(["Check the marked fields."]);
  });

  it("maps a connection test's store fields to the form's", () => {
    expect(formFieldOf("store.bucket")).toBe("bucket");
    expect(formFieldOf("store.region")).toBe("region");
    expect(formFieldOf("secret")).toBe("secret");
    expect(formFieldOf("store.acl")).toBeNull();
    const errors = formErrors({ message: "choose a bucket (and region) to test with", fields: [{ field: "store.bucket", message: "is required" }] });
    expect(errors.fields).toEqual({ bucket: "is required" });
  });

  it("puts fields the form does not show, and messages without fields, at the top", () => {
    const hidden = formErrors({ message: "invalid store options:\n  store.acl: no", fields: [{ field: "store.acl", message: "must be one of: private" }, { field: "region", message: "unknown" }] }, new Set(["name", "bucket"]));
    expect(hidden.fields).toEqual({});
    expect(hidden.general).toEqual(["invalid store options", "store.acl: must be one of: private", "region: unknown"]);
    const plain = formErrors({ message: "the system keychain is not available (no Secret Service)", fields: [] });
    expect(plain).toEqual({ fields: {}, general: ["the system keychain is not available (no Secret Service)"] });
  });

  it("a saved connector's failed test, as lines", () => {
    expect(failureLines({ message: "choose a bucket (and region) to test with", fields: [{ field: "store.bucket", message: "is required" }] }))
      .toEqual(["choose a bucket (and region) to test with", "store.bucket: is required"]);
    expect(failureLines({ message: "access denied writing to b", fields: [] })).toEqual(["access denied writing to b"]);
  });
});

describe("connector texts", () => {
  it("says what a working test did, without contradicting its warnings", () => {
    expect(describeTest({ bucket: "b", probe_url: "https://b.s3.amazonaws.com/.probe", warnings: [] }))
      .toEqual(["Connection works: wrote and deleted https://b.s3.amazonaws.com/.probe"]);
    expect(describeTest({ bucket: "b", probe_url: "file:///srv/x/.probe", warnings: ["the probe object .probe could not be deleted"] }))
      .toEqual(["Connection works: wrote file:///srv/x/.probe", "Warning: the probe object .probe could not be deleted"]);
  });

  it("names where a connector stores in its provider's words", () => {
    expect(connectorDetails(SPACES, PROVIDERS)).toEqual([
      { label: "Region", value: "ams3" },
      { label: "Space", value: "my-bucket" },
      { label: "Spaces access key", value: "DO00EXAMPLE" },
    ]);
    expect(connectorDetails(LOCAL, PROVIDERS)).toEqual([{ label: "Folder", value: "/srv/backup" }]);
    // An unknown provider still shows something sensible.
    expect(connectorDetails({ ...LOCAL, provider: "gcs" }, PROVIDERS)).toEqual([{ label: "Endpoint", value: "/srv/backup" }]);
  });

  it("labels a connector for pick lists", () => {
    expect(connectorOptionLabel(SPACES, PROVIDERS)).toBe("photos (DigitalOcean Spaces)");
    expect(connectorOptionLabel({ ...SPACES, provider: "gcs" }, PROVIDERS)).toBe("photos (gcs)");
  });
});
