// The "Add connector" dialog: the provider first, then only that provider's fields, in its own
// words. "Test connection" writes and deletes a probe object with what was typed (nothing is
// saved); "Save" adds the connector, its secret going to the system keychain. The secret is
// read from its input when sent and nowhere else; the input is emptied when the dialog closes.

import { commands, type ConnectionTest, type ConnectorFailure, type Connector_Serialize as Connector, type ProviderInfo_Serialize as ProviderInfo } from "./bindings";
import { buildSpec, type ConnectorForm, describeTest, fieldsFor, type FieldPlan, type FormErrors, formErrors, type FormField, providerInfo, regionToShow } from "./connector-model";
import { h, setText } from "./dom";
import { Modal } from "./modal";
import { announce, errorText } from "./notice";

export interface ConnectorDialogHandlers {
  /** A connector was saved. */
  onAdded(connector: Connector): void;
  /** Where focus goes on close when the opener does not have it. */
  restoreFocus(): boolean;
}

type CommandResult<T, E> = { status: "ok"; data: T } | { status: "error"; error: E };

/** One labelled field, with an optional hint and its error line underneath. */
class Field {
  readonly el: HTMLElement;
  readonly label: HTMLLabelElement;
  readonly error: HTMLElement;
  private readonly hint: HTMLElement | null;

  constructor(readonly name: FormField, public control: HTMLInputElement | HTMLSelectElement, labelText: string, hint?: string) {
    this.label = h("label", { for: control.id }, labelText);
    this.error = h("p", { class: "field-error", id: `${control.id}-error`, "data-testid": `${control.id}-error`, hidden: true });
    this.hint = hint ? h("p", { class: "hint", id: `${control.id}-hint` }, hint) : null;
    this.el = h("div", { class: "form-field", "data-field": name }, this.label, control, this.hint, this.error);
    this.describe();
  }

  /** Puts another control (a select instead of a text input) in this field's place. */
  replaceControl(control: HTMLInputElement | HTMLSelectElement): void {
    this.control.replaceWith(control);
    this.control = control;
    this.label.htmlFor = control.id;
    this.describe();
  }

  setLabel(text: string, required: boolean): void {
    setText(this.label, text);
    this.label.classList.toggle("required", required);
    if (required) this.control.setAttribute("aria-required", "true");
    else this.control.removeAttribute("aria-required");
  }

  setError(message: string | null): void {
    this.error.hidden = message === null;
    this.error.textContent = message ?? "";
    if (message === null) this.control.removeAttribute("aria-invalid");
    else this.control.setAttribute("aria-invalid", "true");
  }

  private describe(): void {
    this.control.setAttribute("aria-describedby", [this.hint?.id, this.error.id].filter(Boolean).join(" "));
  }
}

export class ConnectorDialog {
  readonly el: HTMLDialogElement;
  private readonly modal: Modal;
  private readonly provider: HTMLSelectElement;
  private readonly name: HTMLInputElement;
  private readonly endpoint: HTMLInputElement;
  private readonly bucket: HTMLInputElement;
  private readonly accessKey: HTMLInputElement;
  private readonly secret: HTMLInputElement;
  private readonly fields: Record<FormField, Field>;
  private readonly providerFields: HTMLElement;
  private readonly permissions: HTMLElement;
  private readonly formError: HTMLElement;
  private readonly testResult: HTMLElement;
  private readonly testButton: HTMLButtonElement;
  private readonly saveButton: HTMLButtonElement;
  private providers: readonly ProviderInfo[] = [];
  private plan: FieldPlan | null = null;
  /** Bumped on open and close: answers to requests of an earlier opening are dropped. */
  private token = 0;
  private saving = false;

  constructor(private readonly handlers: ConnectorDialogHandlers) {
    const text = (id: string, extra: Record<string, string | boolean> = {}) =>
      h("input", { type: "text", id, "data-testid": id, spellcheck: "false", autocomplete: "off", ...extra });
    this.provider = h("select", { id: "connector-provider", "data-testid": "connector-provider", "aria-required": "true" });
    this.name = text("connector-name", { placeholder: "e.g. photos" });
    this.endpoint = text("connector-endpoint");
    this.bucket = text("connector-bucket");
    this.accessKey = text("connector-access-key");
    this.secret = h("input", { type: "password", id: "connector-secret", "data-testid": "connector-secret", autocomplete: "off", spellcheck: "false" });
    const region = text("connector-region");
    this.fields = {
      provider: new Field("provider", this.provider, "Provider"),
      name: new Field("name", this.name, "Name"),
      endpoint: new Field("endpoint", this.endpoint, "Endpoint"),
      region: new Field("region", region, "Region"),
      bucket: new Field("bucket", this.bucket, "Bucket"),
      access_key_id: new Field("access_key_id", this.accessKey, "Access key ID"),
      secret: new Field("secret", this.secret, "Secret", "Kept in the system keychain only, never in Compressor's settings."),
    };
    this.fields.provider.setLabel("Provider", true);
    this.permissions = h("p", { class: "hint connector-permissions", id: "connector-permissions", "data-testid": "connector-permissions" });
    this.providerFields = h("div", { class: "connector-fields", hidden: true },
      this.fields.name.el,
      this.fields.endpoint.el,
      this.fields.region.el,
      this.fields.bucket.el,
      this.fields.access_key_id.el,
      this.fields.secret.el,
      this.permissions,
    );
    this.formError = h("div", { class: "form-error", role: "alert", id: "connector-form-error", "data-testid": "connector-form-error", hidden: true });
    this.testResult = h("div", { class: "connector-result", role: "status", "aria-live": "polite", id: "connector-test-result", "data-testid": "connector-test-result", hidden: true });
    this.testButton = h("button", { type: "button", id: "connector-test", "data-testid": "connector-test" }, "Test connection");
    this.saveButton = h("button", { type: "submit", class: "primary", id: "connector-save", "data-testid": "connector-save" }, "Save");
    const cancel = h("button", { type: "button", id: "connector-cancel", "data-testid": "connector-cancel" }, "Cancel");

    const form = h("form", { class: "connector-form", method: "dialog", novalidate: true },
      h("header", { class: "dialog-head" }, h("div", { class: "dialog-titles" },
        h("h2", { id: "connector-dialog-title" }, "Add a storage connector"),
        h("p", { class: "dialog-subtitle" }, "A storage account results can be uploaded to."))),
      h("div", { class: "connector-body" },
        this.formError,
        this.fields.provider.el,
        this.providerFields,
        this.testResult,
      ),
      h("footer", { class: "dialog-foot" }, h("div", { class: "dialog-foot-actions" }, cancel, this.testButton, this.saveButton)),
    );
    this.el = h("dialog", { class: "dialog connector-dialog", "data-testid": "connector-dialog", "aria-labelledby": "connector-dialog-title" }, form);
    this.modal = new Modal(this.el, {
      restoreFocus: () => this.handlers.restoreFocus(),
      onClose: () => this.closed(),
    });

    this.provider.addEventListener("change", () => this.providerChanged());
    // An S3-compatible endpoint turns the region list into a free text field.
    this.endpoint.addEventListener("input", () => {
      const info = providerInfo(this.providers, this.provider.value);
      if (info && fieldsFor(info, this.endpoint.value).region?.kind !== this.plan?.region?.kind) this.layout(false);
    });
    for (const field of Object.values(this.fields)) {
      field.el.addEventListener("input", () => field.setError(null));
      field.el.addEventListener("change", () => field.setError(null));
    }
    this.testButton.addEventListener("click", () => void this.test());
    cancel.addEventListener("click", () => this.modal.close());
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.save();
    });
  }

  get isOpen(): boolean {
    return this.modal.open;
  }

  /** Opens an empty form; `providers` come from list_providers. */
  open(providers: readonly ProviderInfo[]): void {
    this.providers = providers;
    this.token++;
    this.provider.replaceChildren(
      h("option", { value: "" }, "Choose a provider…"),
      ...providers.map((p) => h("option", { value: p.provider }, p.label)),
    );
    this.provider.value = "";
    for (const input of [this.name, this.endpoint, this.bucket, this.accessKey, this.secret]) input.value = "";
    this.fields.region.control.value = "";
    this.clearMessages();
    this.layout(true);
    this.modal.show(this.provider);
  }

  close(): void {
    this.modal.close();
  }

  /** What the form holds, without the secret. */
  form(): ConnectorForm {
    return {
      provider: this.provider.value,
      name: this.name.value,
      endpoint: this.endpoint.value,
      region: this.fields.region.control.value,
      bucket: this.bucket.value,
      accessKeyId: this.accessKey.value,
    };
  }

  private closed(): void {
    // The secret is forgotten with the dialog, and late answers are dropped.
    this.secret.value = "";
    this.token++;
    this.saving = false;
    this.testButton.disabled = false;
    this.saveButton.disabled = false;
  }

  private providerChanged(): void {
    // Endpoints, regions and secrets mean different things to different providers.
    this.endpoint.value = "";
    this.fields.region.control.value = "";
    this.secret.value = "";
    this.clearMessages();
    this.layout(true);
  }

  /** Shows the chosen provider's fields with its labels. `reset`: the region starts at its default. */
  private layout(reset: boolean): void {
    const info = providerInfo(this.providers, this.provider.value);
    this.providerFields.hidden = !info;
    this.plan = info ? fieldsFor(info, this.endpoint.value) : null;
    const plan = this.plan;
    if (!info || !plan) return;

    const { endpoint, region, bucket, accessKey, secret } = plan;
    this.fields.endpoint.el.hidden = !endpoint;
    if (endpoint) {
      this.fields.endpoint.setLabel(endpoint.label, endpoint.required);
      this.endpoint.placeholder = endpoint.placeholder;
    }

    const regionField = this.fields.region;
    regionField.el.hidden = !region;
    if (region) {
      const current = reset ? "" : regionField.control.value;
      if (region.kind === "select") {
        const select = regionField.control instanceof HTMLSelectElement
          ? regionField.control
          : h("select", { id: "connector-region", "data-testid": "connector-region" });
        const options = region.options.map((r) => h("option", { value: r }, r));
        // Without a default, nothing is chosen until the user picks.
        select.replaceChildren(...(region.selected ? [] : [h("option", { value: "" }, "Choose a region…")]), ...options);
        select.value = regionToShow(region, current);
        if (select !== regionField.control) regionField.replaceControl(select);
      } else if (!(regionField.control instanceof HTMLInputElement)) {
        const input = h("input", { type: "text", id: "connector-region", "data-testid": "connector-region", spellcheck: "false", autocomplete: "off", placeholder: "e.g. us-east-1" });
        input.value = current;
        regionField.replaceControl(input);
      }
      regionField.setLabel("Region", region.required);
    }

    this.fields.bucket.el.hidden = !bucket;
    if (bucket) this.fields.bucket.setLabel(bucket.label, false);
    this.fields.access_key_id.el.hidden = !accessKey;
    if (accessKey) this.fields.access_key_id.setLabel(accessKey.label, true);
    this.fields.secret.el.hidden = !secret;
    if (secret) this.fields.secret.setLabel(secret.label, true);
    this.fields.name.setLabel("Name", true);
    setText(this.permissions, plan.permissions ? `Permissions: ${plan.permissions}.` : "");
    this.permissions.hidden = !plan.permissions;
  }

  /** The fields on show, to know which errors can be put next to their field. */
  private shownFields(): Set<FormField> {
    const shown = new Set<FormField>(["provider"]);
    if (!this.plan) return shown;
    shown.add("name");
    shown.add("bucket");
    if (this.plan.endpoint) shown.add("endpoint");
    if (this.plan.region) shown.add("region");
    if (this.plan.accessKey) shown.add("access_key_id");
    if (this.plan.secret) shown.add("secret");
    return shown;
  }

  /** What must be there before anything is sent: a provider, and a secret where it has one. */
  private missing(): FormErrors | null {
    if (!this.provider.value) return { fields: { provider: "Choose a provider." }, general: [] };
    if (this.plan?.secret && this.secret.value === "") return { fields: { secret: "is required" }, general: [] };
    return null;
  }

  private async test(): Promise<void> {
    if (this.testButton.disabled) return;
    this.clearMessages();
    const missing = this.missing();
    if (missing) {
      this.showErrors(missing, this.testResult);
      return;
    }
    const token = this.token;
    const spec = buildSpec(this.form(), this.providers);
    this.testButton.disabled = true;
    this.showResult("running", ["Testing…"]);
    let result: CommandResult<ConnectionTest, ConnectorFailure>;
    try {
      result = await commands.testConnectorSpec(spec, this.secret.value);
    } catch (err) {
      result = { status: "error", error: { message: errorText(err), fields: [] } };
    }
    if (token !== this.token) return;
    this.testButton.disabled = false;
    if (result.status === "ok") {
      const lines = describeTest(result.data);
      this.showResult("ok", lines);
      announce(lines[0]);
    } else {
      this.showErrors(formErrors(result.error, this.shownFields()), this.testResult);
    }
  }

  private async save(): Promise<void> {
    if (this.saving) return;
    this.clearMessages();
    const missing = this.missing();
    if (missing) {
      this.showErrors(missing, this.formError);
      return;
    }
    const token = this.token;
    const spec = buildSpec(this.form(), this.providers);
    this.saving = true;
    this.saveButton.disabled = true;
    let result: CommandResult<Connector, ConnectorFailure>;
    try {
      result = await commands.addConnector(spec, this.secret.value);
    } catch (err) {
      result = { status: "error", error: { message: errorText(err), fields: [] } };
    }
    if (token !== this.token) return;
    this.saving = false;
    this.saveButton.disabled = false;
    if (result.status === "error") {
      this.showErrors(formErrors(result.error, this.shownFields()), this.formError);
      return;
    }
    this.secret.value = "";
    this.modal.close();
    this.handlers.onAdded(result.data);
  }

  /** Field messages next to their fields (the first one focused), the rest in `where`. */
  private showErrors(errors: FormErrors, where: HTMLElement): void {
    let first: Field | null = null;
    for (const [name, message] of Object.entries(errors.fields) as [FormField, string][]) {
      const field = this.fields[name];
      field.setError(message);
      first ??= field;
    }
    const general = errors.general.filter((line) => line.trim() !== "");
    if (general.length) {
      if (where === this.testResult) this.showResult("error", general);
      else this.showLines(where, general);
    }
    first?.control.focus();
  }

  private showResult(state: "running" | "ok" | "error", lines: string[]): void {
    this.testResult.dataset.state = state;
    this.showLines(this.testResult, lines);
    // Below the fields: bring it into view (the body scrolls on small windows).
    this.testResult.scrollIntoView?.({ block: "nearest" });
  }

  private showLines(el: HTMLElement, lines: string[]): void {
    el.replaceChildren(...lines.map((line, i) => h("p", { class: i === 0 ? "result-head" : "result-line" }, line)));
    el.hidden = false;
  }

  private clearMessages(): void {
    for (const field of Object.values(this.fields)) field.setError(null);
    for (const el of [this.formError, this.testResult]) {
      el.hidden = true;
      el.replaceChildren();
    }
    delete this.testResult.dataset.state;
  }
}
