/** Secret keys: the ones that work now, and rotation with a grace period (new key shown once). */
import { useState } from "preact/hooks";
import { api } from "./_api.ts";
import SecretOnce from "./SecretOnce.tsx";

const GRACE = [
  [0, "immediately"],
  [3600, "in 1 hour"],
  [86_400, "in 24 hours"],
  [604_800, "in 7 days"],
] as const;

/** What GET /v1/projects/:pk/keys answers. */
export interface KeyList {
  current: { prefix: string | null; createdAt: string };
  previous: { prefix: string | null; expiresAt: string }[];
}

const shown = (prefix: string | null) => prefix ? `${prefix}…` : "(made before prefixes were kept)";

export default function KeysPanel(props: { pk: string; keys: KeyList }) {
  const [keys, setKeys] = useState(props.keys);
  const [grace, setGrace] = useState(3600);
  const [confirming, setConfirming] = useState(false);
  const [result, setResult] = useState<
    { secretKey: string; oldKeyExpiresAt: string; grace: number } | null
  >(null);
  const [error, setError] = useState("");
  const rotate = async () => {
    setError("");
    setConfirming(false);
    try {
      const out = await api<{ secretKey: string; oldKeyExpiresAt: string }>(
        "POST",
        `/v1/projects/${props.pk}/keys/rotate`,
        { graceSeconds: grace },
      );
      setResult({ ...out, grace });
      setKeys(await api<KeyList>("GET", `/v1/projects/${props.pk}/keys`));
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <div>
      <table data-testid="key-list">
        <caption>Secret keys that work now</caption>
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">Stops working</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <td>
              <code>{shown(keys.current.prefix)}</code> (current)
            </td>
            <td>when rotated</td>
          </tr>
          {keys.previous.map((k) => (
            <tr key={k.expiresAt + k.prefix}>
              <td>
                <code>{shown(k.prefix)}</code>
              </td>
              <td>{new Date(k.expiresAt).toUTCString()}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <label for="grace">
        Older secret keys stop working
        <select
          id="grace"
          value={grace}
          onChange={(e) => {
            setGrace(Number((e.currentTarget as HTMLSelectElement).value));
            setConfirming(false);
          }}
        >
          {GRACE.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
        </select>
      </label>
      <button type="button" onClick={() => (grace === 0 ? setConfirming(true) : rotate())}>
        Rotate secret key
      </button>
      {confirming && (
        <div class="confirm" role="alertdialog" aria-labelledby="rotate-now">
          <p id="rotate-now">
            <strong>Every older secret key stops working now</strong>
            {keys.previous.length ? `, including ${keys.previous.length} still in grace` : ""}.
            Servers still using one will get 401 at once.
          </p>
          <button type="button" class="danger" onClick={rotate}>Rotate and end old keys now</button>
          {" "}
          <button type="button" class="secondary" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </div>
      )}
      {error && <p class="form-error" role="alert">{error}</p>}
      {result && (
        <>
          <SecretOnce label="New secret key" secret={result.secretKey} />
          <p>
            {result.grace === 0
              ? "The older keys stopped working."
              : `The previous key works until ${new Date(result.oldKeyExpiresAt).toUTCString()}.`}
          </p>
        </>
      )}
    </div>
  );
}
