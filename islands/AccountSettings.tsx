/** The developer's account: change the password; sign out everywhere (after a confirmation). */
import { useState } from "preact/hooks";
import { api, fieldErrors } from "./_api.ts";
import { Toast } from "../components/Toast.tsx";

export default function AccountSettings(props: { email: string; clerk: boolean }) {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState("");
  const [saved, setSaved] = useState("");
  const [asking, setAsking] = useState(false);

  const change = async (e: Event) => {
    e.preventDefault();
    setErrors({});
    setMessage("");
    setSaved("");
    try {
      await api("POST", "/v1/me/password", { currentPassword: current, newPassword: next });
      setCurrent("");
      setNext("");
      setSaved("Password changed. Every other session has ended.");
    } catch (err) {
      setErrors(fieldErrors(err));
      setMessage((err as Error).message);
    }
  };
  const everywhere = async () => {
    setAsking(false);
    try {
      await api("POST", "/v1/me/sessions/revoke");
      location.assign("/signin");
    } catch (err) {
      setMessage((err as Error).message);
    }
  };
  return (
    <div>
      <p>
        Signed in as <strong>{props.email}</strong>.
      </p>
      {!props.clerk && (
        <form onSubmit={change} aria-labelledby="pw-title">
          <h2 id="pw-title">Change password</h2>
          <label for="pw-current">
            Current password
            <input
              id="pw-current"
              type="password"
              autoComplete="current-password"
              required
              value={current}
              aria-invalid={errors.currentPassword ? "true" : undefined}
              aria-describedby={errors.currentPassword ? "pw-current-err" : undefined}
              onInput={(e) => setCurrent(e.currentTarget.value)}
            />
          </label>
          {errors.currentPassword && (
            <span class="field-error" id="pw-current-err" role="alert">
              {errors.currentPassword}
            </span>
          )}
          <label for="pw-new">
            New password (at least 8 characters)
            <input
              id="pw-new"
              type="password"
              autoComplete="new-password"
              required
              minLength={8}
              value={next}
              aria-invalid={errors.newPassword ? "true" : undefined}
              aria-describedby={errors.newPassword ? "pw-new-err" : undefined}
              onInput={(e) => setNext(e.currentTarget.value)}
            />
          </label>
          {errors.newPassword && (
            <span class="field-error" id="pw-new-err" role="alert">{errors.newPassword}</span>
          )}
          <button type="submit">Change password</button>
        </form>
      )}
      <section aria-labelledby="sessions-title">
        <h2 id="sessions-title">Sessions</h2>
        <p>
          Signs out every browser, this one too. Access tokens keep working: revoke them on the
          Access tokens page.
        </p>
        <button type="button" class="danger" onClick={() => setAsking(true)}>
          Sign out everywhere…
        </button>
        {asking && (
          <div class="confirm" role="alertdialog" aria-labelledby="everywhere-confirm">
            <p id="everywhere-confirm">
              <strong>End every dashboard session now, this one included?</strong>
            </p>
            <button type="button" class="danger" onClick={everywhere}>Sign out everywhere</button>
            {" "}
            <button type="button" class="secondary" onClick={() => setAsking(false)}>Cancel</button>
          </div>
        )}
      </section>
      {message && <p class="form-error" role="alert">{message}</p>}
      <Toast message={saved} onClose={() => setSaved("")} testid="account-saved" />
    </div>
  );
}
