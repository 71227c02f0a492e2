/** Deleting the developer's account, after typing the password (or, with Clerk, the email). */
import { useState } from "preact/hooks";
import { api } from "./_api.ts";

export default function DeleteAccount(props: { email: string; clerk: boolean }) {
  const [asking, setAsking] = useState(false);
  const [confirm, setConfirm] = useState("");
  const [error, setError] = useState("");

  const run = async (e: Event) => {
    e.preventDefault();
    setError("");
    try {
      await api("DELETE", "/v1/me", { confirm });
      location.assign("/?account=deleted");
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <section aria-labelledby="delete-account-title" class="danger-zone">
      <h2 id="delete-account-title">Delete account</h2>
      <p>
        Deleting your account deletes all your projects: their keys stop at once, their
        subscriptions still running are canceled at your payment provider, and their data is removed
        after 30 days. Your access tokens and sessions end, and {props.email}{" "}
        can sign up again. Payments already made stay in your payment provider's account.
      </p>
      {!asking && (
        <button type="button" class="danger" onClick={() => setAsking(true)}>
          Delete account…
        </button>
      )}
      {asking && (
        <form
          class="confirm"
          role="alertdialog"
          aria-labelledby="delete-account-ask"
          onSubmit={run}
        >
          <p id="delete-account-ask">
            <strong>Delete your account and every project?</strong>{" "}
            {props.clerk ? "Type your email to confirm." : "Type your password to confirm."}
          </p>
          <label for="delete-account-confirm">
            {props.clerk ? "Email" : "Password"}
            <input
              id="delete-account-confirm"
              type={props.clerk ? "email" : "password"}
              autocomplete={props.clerk ? "off" : "current-password"}
              required
              value={confirm}
              aria-invalid={error ? "true" : undefined}
              onInput={(e) => setConfirm(e.currentTarget.value)}
            />
          </label>
          <button type="submit" class="danger">Delete account</button>{" "}
          <button type="button" class="secondary" onClick={() => setAsking(false)}>Cancel</button>
        </form>
      )}
      {error && <p class="form-error" role="alert">{error}</p>}
    </section>
  );
}
