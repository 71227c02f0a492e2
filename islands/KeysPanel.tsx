/** Secret-key rotation with a grace period; the new key is shown exactly once. */
import { useState } from "preact/hooks";
import { api } from "./_api.ts";
import SecretOnce from "./SecretOnce.tsx";

const GRACE = [
  [0, "immediately"],
  [3600, "in 1 hour"],
  [86_400, "in 24 hours"],
  [604_800, "in 7 days"],
] as const;

export default function KeysPanel(props: { pk: string }) {
  const [grace, setGrace] = useState(3600);
  const [result, setResult] = useState<{ secretKey: string; oldKeyExpiresAt: string } | null>(null);
  const [error, setError] = useState("");
  return (
    <div>
      <label for="grace">
        The old secret key stops working
        <select
          id="grace"
          value={grace}
          onChange={(e) => setGrace(Number((e.currentTarget as HTMLSelectElement).value))}
        >
          {GRACE.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
        </select>
      </label>
      <button
        type="button"
        onClick={async () => {
          setError("");
          try {
            setResult(
              await api("POST", `/v1/projects/${props.pk}/keys/rotate`, { graceSeconds: grace }),
            );
          } catch (err) {
            setError((err as Error).message);
          }
        }}
      >
        Rotate secret key
      </button>
      {error && <p class="form-error" role="alert">{error}</p>}
      {result && (
        <>
          <SecretOnce label="New secret key" secret={result.secretKey} />
          <p>The old key works until {new Date(result.oldKeyExpiresAt).toUTCString()}.</p>
        </>
      )}
    </div>
  );
}
