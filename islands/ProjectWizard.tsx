/** Create-project wizard: the type is chosen once (locked forever), then tiers or products. */
import { useState } from "preact/hooks";
import { api, fieldErrors, formMessage } from "./_api.ts";
import { bodyOf, draftOf, emptyDraft, type TierDraft, TierFields } from "./_tier_fields.tsx";
import SecretOnce from "./SecretOnce.tsx";
import { STRIPE_CURRENCIES } from "../components/currency.ts";

interface Created {
  publishableKey: string;
  secretKey: string;
}

export default function ProjectWizard() {
  const [type, setType] = useState<"saas" | "store" | null>(null);
  const [name, setName] = useState("");
  const [currency, setCurrency] = useState("usd");
  const [automaticTax, setAutomaticTax] = useState(false);
  const [tiers, setTiers] = useState<TierDraft[]>([]);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<Created | null>(null);

  if (created) {
    return (
      <section aria-labelledby="created-h">
        <h2 id="created-h">Project created</h2>
        <p>
          Publishable key: <code data-testid="pk">{created.publishableKey}</code>
        </p>
        <SecretOnce label="Secret key" secret={created.secretKey} />
        <p>
          <a class="button" href={`/dashboard/projects/${created.publishableKey}`}>
            Open the project
          </a>
        </p>
      </section>
    );
  }

  if (!type) {
    return (
      <fieldset>
        <legend>What are you selling?</legend>
        <p class="warning" role="note">
          The project type can't be changed later: choose carefully.
        </p>
        <button
          type="button"
          onClick={() => {
            setType("saas");
            setTiers([
              draftOf({ name: "free", price: 0, limit: 100 }),
              draftOf({ name: "pro", price: 1900, limit: 10000, popular: true }),
            ]);
          }}
        >
          SaaS — subscription tiers with usage limits
        </button>
        <button
          type="button"
          onClick={() => {
            setType("store");
            setTiers([emptyDraft("store")]);
          }}
        >
          Store — products with inventory
        </button>
      </fieldset>
    );
  }

  /** Drops the field messages a change made stale (and the sentence when none is left). */
  const forget = (match: (key: string) => boolean) => {
    const left = Object.fromEntries(Object.entries(errors).filter(([k]) => !match(k)));
    if (Object.keys(left).length === Object.keys(errors).length) return;
    setErrors(left);
    if (Object.keys(left).length === 0) setMessage("");
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setMessage("");
    try {
      const res = await api<Created>("POST", "/v1/projects", {
        name: name.trim(),
        type,
        currency,
        automaticTax,
        tiers: tiers.map((t) => bodyOf(type, { ...t, currency })),
      });
      setCreated(res);
    } catch (err) {
      setErrors(fieldErrors(err));
      setMessage(formMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} noValidate>
      <p>
        Type: <strong>{type === "saas" ? "SaaS" : "Store"}</strong> (locked once created)
      </p>
      <label for="project-name">
        Project name
        <input
          id="project-name"
          value={name}
          onInput={(e) => {
            setName((e.currentTarget as HTMLInputElement).value);
            forget((k) => k === "name");
          }}
          required
          aria-invalid={!!errors.name}
          aria-describedby={errors.name ? "project-name-err" : undefined}
        />
        {errors.name && (
          <span class="field-error" id="project-name-err" role="alert">{errors.name}</span>
        )}
      </label>
      <label for="project-currency">
        Currency (every {type === "saas" ? "tier" : "product"} is priced in it; fixed once created)
        <select
          id="project-currency"
          value={currency}
          onChange={(e) => {
            const next = e.currentTarget.value;
            setCurrency(next);
            setTiers(tiers.map((t) => ({ ...t, currency: next })));
          }}
        >
          {[...STRIPE_CURRENCIES].sort().map((c) => (
            <option key={c} value={c}>{c.toUpperCase()}</option>
          ))}
        </select>
      </label>
      <label class="check" for="project-tax">
        <input
          id="project-tax"
          type="checkbox"
          checked={automaticTax}
          onChange={(e) => setAutomaticTax(e.currentTarget.checked)}
        />{" "}
        Calculate tax at checkout with Stripe Tax (asks for the buyer's billing address)
      </label>
      <h2>{type === "saas" ? "Tiers" : "Products"}</h2>
      {tiers.map((t, i) => (
        <fieldset class="tier">
          <legend>{type === "saas" ? "Tier" : "Product"} {i + 1}</legend>
          <TierFields
            type={type}
            draft={t}
            prefix={`t${i}`}
            nameEditable
            errors={Object.fromEntries(
              Object.entries(errors).filter(([k]) => k.startsWith(`tiers.${i}.`)).map((
                [k, v],
              ) => [k.slice(`tiers.${i}.`.length), v]),
            )}
            onChange={(d) => {
              setTiers(tiers.map((x, j) => (j === i ? d : x)));
              // an edited field's message goes; the others stay until the next submit
              const changed = (Object.keys(d) as (keyof TierDraft)[]).filter((k) =>
                d[k] !== tiers[i]![k]
              );
              forget((k) => changed.some((f) => k === `tiers.${i}.${String(f)}`));
            }}
          />
          {tiers.length > 1 && (
            <button
              type="button"
              class="secondary"
              onClick={() => setTiers(tiers.filter((_, j) => j !== i))}
            >
              Remove
            </button>
          )}
        </fieldset>
      ))}
      <button
        type="button"
        class="secondary"
        onClick={() => setTiers([...tiers, emptyDraft(type)])}
      >
        Add {type === "saas" ? "tier" : "product"}
      </button>
      {message && <p class="form-error" role="alert">{message}</p>}
      <button type="submit" disabled={busy}>{busy ? "Creating…" : "Create project"}</button>
    </form>
  );
}
