/** Developer access tokens: create (secret shown once) and revoke. */
import { useState } from "preact/hooks";
import { api } from "./_api.ts";
import SecretOnce from "./SecretOnce.tsx";

interface Token {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
}

export default function TokensPanel(props: { tokens: Token[] }) {
  const [tokens, setTokens] = useState(props.tokens);
  const [name, setName] = useState("");
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState("");
  return (
    <div>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setError("");
          try {
            const res = await api<{ token: Token; secret: string }>("POST", "/v1/tokens", { name });
            setTokens([...tokens, res.token]);
            setSecret(res.secret);
            setName("");
          } catch (err) {
            setError((err as Error).message);
          }
        }}
      >
        <label for="token-name">
          Token name
          <input
            id="token-name"
            value={name}
            onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)}
            required
          />
        </label>
        <button type="submit">Create token</button>
        {error && <p class="form-error" role="alert">{error}</p>}
      </form>
      {secret && <SecretOnce label="New access token" secret={secret} />}
      <table>
        <caption>Access tokens</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Starts with</th>
            <th scope="col">Created</th>
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {tokens.map((t) => (
            <tr>
              <td>{t.name}</td>
              <td>
                <code>{t.prefix}…</code>
              </td>
              <td>{t.createdAt.slice(0, 10)}</td>
              <td>
                <button
                  type="button"
                  class="danger"
                  onClick={async () => {
                    await api("DELETE", `/v1/tokens/${t.id}`);
                    setTokens(tokens.filter((x) => x.id !== t.id));
                  }}
                >
                  Revoke {t.name}
                </button>
              </td>
            </tr>
          ))}
          {tokens.length === 0 && (
            <tr>
              <td colSpan={4} data-testid="tokens-empty">
                No access tokens yet. Create one to call the developer API from scripts or CI.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
