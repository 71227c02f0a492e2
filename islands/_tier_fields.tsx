/** Shared form rows for a tier (SaaS) or product (Store): a draft in, changes out. */
import { useState } from "preact/hooks";
import { amountStep, fromMajorInput, toMajorInput } from "../components/currency.ts";

export interface TierDraft {
  name: string;
  displayName: string;
  price: string; // in major units, as typed
  currency: string;
  interval: "month" | "year";
  limit: string; // "" = unlimited
  inventory: string; // "" = unlimited
  trialDays: string; // "" or "0" = no trial
  overageAmount: string; // major units per block, "" = no overage
  overagePer: string;
  overageCap: string; // "" = no cap
  features: string;
  popular: boolean;
  description: string;
  imageUrl: string;
}

export interface TierLike {
  name: string;
  displayName?: string;
  price: number;
  currency?: string;
  interval?: "month" | "year" | null;
  limit?: number | null;
  inventory?: number | null;
  trialDays?: number;
  overage?: { unitAmount: number; per: number; cap?: number | null | undefined } | null;
  features?: string[];
  popular?: boolean;
  description?: string | null;
  imageUrl?: string | null;
  archived?: boolean;
}

export function draftOf(t: TierLike): TierDraft {
  return {
    name: t.name,
    displayName: t.displayName ?? "",
    price: toMajorInput(t.price, t.currency ?? "usd"),
    currency: t.currency ?? "usd",
    interval: t.interval ?? "month",
    limit: t.limit === null || t.limit === undefined ? "" : String(t.limit),
    inventory: t.inventory === null || t.inventory === undefined ? "" : String(t.inventory),
    trialDays: t.trialDays ? String(t.trialDays) : "",
    overageAmount: t.overage ? toMajorInput(t.overage.unitAmount, t.currency ?? "usd") : "",
    overagePer: t.overage ? String(t.overage.per) : "1",
    overageCap: t.overage?.cap ? String(t.overage.cap) : "",
    features: (t.features ?? []).join(", "),
    popular: t.popular ?? false,
    description: t.description ?? "",
    imageUrl: t.imageUrl ?? "",
  };
}

export const emptyDraft = (type: "saas" | "store"): TierDraft =>
  draftOf({ name: "", price: 0, ...(type === "store" ? { inventory: 10 } : { limit: 1000 }) });

/** The API body of a draft (numbers parsed; blanks are null = unlimited). */
export function bodyOf(type: "saas" | "store", d: TierDraft, withName = true) {
  const num = (s: string) => (s.trim() === "" ? null : Number(s));
  const body: Record<string, unknown> = {
    ...(withName ? { name: d.name.trim() } : {}),
    ...(d.displayName.trim() ? { displayName: d.displayName.trim() } : {}),
    price: fromMajorInput(d.price, d.currency || "usd"),
    currency: d.currency.trim().toLowerCase() || "usd",
    popular: d.popular,
    description: d.description.trim() || null,
    imageUrl: d.imageUrl.trim() || null,
  };
  if (type === "saas") {
    body.interval = d.interval;
    body.limit = num(d.limit);
    body.features = d.features.split(",").map((f) => f.trim()).filter(Boolean);
    body.trialDays = d.trialDays.trim() === "" ? 0 : Number(d.trialDays);
    body.overage = d.overageAmount.trim() === "" ? null : {
      unitAmount: fromMajorInput(d.overageAmount, d.currency || "usd"),
      per: d.overagePer.trim() === "" ? 1 : Number(d.overagePer),
      cap: num(d.overageCap),
    };
  } else {
    body.inventory = num(d.inventory);
  }
  return body;
}

/** Uploads an image with progress; resolves to its URL. */
export function uploadImage(file: File, onProgress: (pct: number) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/v1/assets");
    xhr.upload.onprogress = (e) =>
      e.lengthComputable && onProgress(Math.round((e.loaded / e.total) * 100));
    xhr.onload = () => {
      const data = JSON.parse(xhr.responseText || "{}");
      if (xhr.status === 201) resolve(data.url);
      else reject(new Error(data?.error?.message ?? `Upload failed (${xhr.status})`));
    };
    xhr.onerror = () => reject(new Error("Upload failed"));
    const form = new FormData();
    form.append("file", file);
    xhr.send(form);
  });
}

export function TierFields(props: {
  type: "saas" | "store";
  draft: TierDraft;
  onChange: (d: TierDraft) => void;
  errors: Record<string, string>;
  prefix: string;
  nameEditable: boolean;
}) {
  const { draft: d, errors, prefix, type } = props;
  const [progress, setProgress] = useState<number | null>(null);
  const [uploadError, setUploadError] = useState("");
  const set = (k: keyof TierDraft) => (e: Event) => {
    const el = e.currentTarget as HTMLInputElement;
    props.onChange({ ...d, [k]: el.type === "checkbox" ? el.checked : el.value });
  };
  const id = (k: string) => `${prefix}-${k}`;
  const err = (k: string) =>
    errors[k]
      ? <span class="field-error" id={id(k) + "-err"} role="alert">{errors[k]}</span>
      : null;
  const described = (
    k: string,
  ) => (errors[k] ? { "aria-describedby": id(k) + "-err", "aria-invalid": true } : {});
  // a plain function, not a component: a component made during render would remount (and lose focus)
  const numberField = (
    p: {
      field:
        | "price"
        | "limit"
        | "inventory"
        | "trialDays"
        | "overageAmount"
        | "overagePer"
        | "overageCap";
      label: string;
      step: string;
    },
  ) => (
    <label for={id(p.field)}>
      {p.label}
      <input
        id={id(p.field)}
        type="number"
        min="0"
        step={p.step}
        value={d[p.field]}
        onInput={set(p.field)}
        {...described(p.field)}
      />
      {err(p.field)}
    </label>
  );
  return (
    <div class="tier-fields">
      <label for={id("name")}>
        Name (slug)
        <input
          id={id("name")}
          value={d.name}
          onInput={set("name")}
          disabled={!props.nameEditable}
          required
          pattern="[a-z0-9][a-z0-9_-]*"
          {...described("name")}
        />
        {err("name")}
      </label>
      <label for={id("displayName")}>
        Display name
        <input
          id={id("displayName")}
          value={d.displayName}
          onInput={set("displayName")}
          {...described("displayName")}
        />
        {err("displayName")}
      </label>
      {numberField({
        field: "price",
        label: `Price (${d.currency.toUpperCase()})`,
        step: amountStep(d.currency),
      })}
      {type === "saas" && !props.nameEditable && (
        <p class="muted" id={id("price-note")}>
          A new price applies to new checkouts; existing subscribers keep the price they pay.
        </p>
      )}
      {type === "saas"
        ? (
          <>
            <label for={id("interval")}>
              Billing interval
              <select id={id("interval")} value={d.interval} onChange={set("interval")}>
                <option value="month">monthly</option>
                <option value="year">yearly</option>
              </select>
            </label>
            {numberField({
              field: "limit",
              label: "Usage limit per period (blank = unlimited)",
              step: "1",
            })}
            {numberField({
              field: "trialDays",
              label: "Free trial (days, blank = none)",
              step: "1",
            })}
            <fieldset class="overage">
              <legend>Overage (pay as you go past the limit)</legend>
              {numberField({
                field: "overageAmount",
                label:
                  `Price per block (${d.currency.toUpperCase()}, blank = calls stop at the limit)`,
                step: amountStep(d.currency),
              })}
              {numberField({ field: "overagePer", label: "Calls per block", step: "1" })}
              {numberField({
                field: "overageCap",
                label: "At most this many calls past the limit (blank = no cap)",
                step: "1",
              })}
              {err("overage")}
            </fieldset>
            <label for={id("features")}>
              Features (comma separated)
              <input id={id("features")} value={d.features} onInput={set("features")} />
            </label>
            <label class="check" for={id("popular")}>
              <input
                id={id("popular")}
                type="checkbox"
                checked={d.popular}
                onChange={set("popular")}
              />{" "}
              Mark as popular
            </label>
          </>
        )
        : (
          <>
            {numberField({ field: "inventory", label: "Inventory (blank = unlimited)", step: "1" })}
            <label for={id("description")}>
              Description
              <textarea id={id("description")} value={d.description} onInput={set("description")} />
            </label>
            <div class="image-field">
              <label for={id("image")}>
                Image (PNG, JPEG, WebP or GIF, up to 5 MB)
                <input
                  id={id("image")}
                  type="file"
                  accept="image/png,image/jpeg,image/webp,image/gif"
                  onChange={async (e) => {
                    const file = (e.currentTarget as HTMLInputElement).files?.[0];
                    if (!file) return;
                    setUploadError("");
                    setProgress(0);
                    try {
                      const url = await uploadImage(file, setProgress);
                      props.onChange({ ...d, imageUrl: url });
                    } catch (x) {
                      setUploadError((x as Error).message);
                    } finally {
                      setProgress(null);
                    }
                  }}
                />
              </label>
              {progress !== null && (
                <progress max={100} value={progress} aria-label="Upload progress">
                  {progress}%
                </progress>
              )}
              {uploadError && <span class="field-error" role="alert">{uploadError}</span>}
              {d.imageUrl && (
                <img
                  class="preview"
                  src={d.imageUrl}
                  alt={`Image of ${d.displayName || d.name}`}
                  width={96}
                  height={96}
                />
              )}
              {err("imageUrl")}
            </div>
          </>
        )}
    </div>
  );
}
