/**
 * Project settings: the name, and end-user sign-in (the original dream-api SDK's "JWT gate"):
 * Clerk session tokens of the developer's own app accepted as customer tokens, verified with
 * the app's PEM public key.
 */
import { useState } from "preact/hooks";
import { api, fieldErrors } from "./_api.ts";
import { Toast } from "../components/Toast.tsx";

/** What the island needs of a project (PATCH /v1/projects/:pk answers more). */
export interface SettingsProps {
  pk: string;
  name: string;
  endUserAuth: { jwtKey: string; issuer?: string; authorizedParties?: string[] } | null;
  /** Stripe Tax at checkout. */
  automaticTax?: boolean;
}

export default function ProjectSettings(props: SettingsProps) {
  const [name, setName] = useState(props.name);
  const [auth, setAuth] = useState(props.endUserAuth);
  const [tax, setTax] = useState(props.automaticTax ?? false);
  const [jwtKey, setJwtKey] = useState(props.endUserAuth?.jwtKey ?? "");
  const [issuer, setIssuer] = useState(props.endUserAuth?.issuer ?? "");
  const [parties, setParties] = useState((props.endUserAuth?.authorizedParties ?? []).join("\n"));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState("");
  const [saved, setSaved] = useState("");

  const save = async (body: Record<string, unknown>, done: string) => {
    setErrors({});
    setMessage("");
    setSaved("");
    try {
      const out = await api<{ project: SettingsProps }>("PATCH", `/v1/projects/${props.pk}`, body);
      setAuth(out.project.endUserAuth);
      setTax(out.project.automaticTax ?? false);
      setName(out.project.name);
      // the page's header and breadcrumbs name the project too: no reload needed
      document.querySelectorAll("[data-project-name]").forEach((e) => {
        e.textContent = out.project.name;
      });
      setSaved(done);
    } catch (err) {
      setErrors(fieldErrors(err));
      setMessage((err as Error).message);
    }
  };
  const partyList = parties.split(/[\s,]+/).filter(Boolean);

  return (
    <div>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          save({ name }, "Name saved.");
        }}
      >
        <h2>Name</h2>
        <label for="project-name">
          Project name
          <input
            id="project-name"
            value={name}
            maxLength={100}
            required
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </label>
        <button type="submit">Save name</button>
      </form>

      <form
        aria-labelledby="tax-title"
        onSubmit={(e) => {
          e.preventDefault();
          save({ automaticTax: !tax }, tax ? "Tax at checkout is off." : "Tax at checkout is on.");
        }}
      >
        <h2 id="tax-title">Tax</h2>
        <p data-testid="tax-state">
          {tax
            ? "On: Stripe Tax calculates tax at checkout from the buyer's billing address."
            : "Off: checkouts charge the prices as they are."}
        </p>
        <button type="submit" class="secondary">
          {tax ? "Turn off tax at checkout" : "Turn on tax at checkout (Stripe Tax)"}
        </button>
      </form>

      <form
        aria-labelledby="eua-title"
        onSubmit={(e) => {
          e.preventDefault();
          save({
            endUserAuth: {
              jwtKey,
              ...(issuer.trim() ? { issuer: issuer.trim() } : {}),
              ...(partyList.length ? { authorizedParties: partyList } : {}),
            },
          }, "End-user sign-in is on.");
        }}
      >
        <h2 id="eua-title">End-user sign-in (Clerk)</h2>
        <p data-testid="eua-state">
          {auth
            ? "On: Clerk session tokens of your app are accepted as customer tokens (X-Clerk-Token)."
            : "Off: only customer tokens minted by your server are accepted."}
        </p>
        <p class="muted">
          With it on, your app's signed-in users call with your publishable key and their Clerk
          session token; the customer id is the token's{" "}
          <code>sub</code>, created on first sight with its email. Tokens are checked here, offline,
          with your Clerk instance's public key (Clerk dashboard → API keys → JWT public key).
        </p>
        <label for="eua-key">
          JWT public key (PEM)
          <textarea
            id="eua-key"
            rows={6}
            required
            aria-invalid={errors["endUserAuth.jwtKey"] ? "true" : undefined}
            aria-describedby={errors["endUserAuth.jwtKey"] ? "eua-key-err" : undefined}
            value={jwtKey}
            onInput={(e) => setJwtKey(e.currentTarget.value)}
            placeholder="-----BEGIN PUBLIC KEY-----"
          />
        </label>
        {errors["endUserAuth.jwtKey"] && (
          <span class="field-error" id="eua-key-err" role="alert">
            {errors["endUserAuth.jwtKey"]}
          </span>
        )}
        <label for="eua-issuer">
          Issuer (optional: the token's iss claim must match)
          <input id="eua-issuer" value={issuer} onInput={(e) => setIssuer(e.currentTarget.value)} />
        </label>
        <label for="eua-parties">
          Authorized parties (optional: your app's origins, one per line)
          <textarea
            id="eua-parties"
            rows={2}
            value={parties}
            onInput={(e) => setParties(e.currentTarget.value)}
          />
        </label>
        <button type="submit">{auth ? "Save end-user sign-in" : "Turn on end-user sign-in"}</button>
        {auth && (
          <>
            {" "}
            <button
              type="button"
              class="secondary"
              onClick={() => save({ endUserAuth: null }, "End-user sign-in is off.")}
            >
              Turn off
            </button>
          </>
        )}
      </form>
      {message && <p class="form-error" role="alert">{message}</p>}
      <Toast message={saved} onClose={() => setSaved("")} testid="settings-saved" />
    </div>
  );
}
