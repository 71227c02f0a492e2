/**
 * Deleting a project (after a confirmation that names it), and undoing that within 30 days.
 * Deletion covers the test and live twins together; their keys stop working at once.
 */
import { useState } from "preact/hooks";
import { api } from "./_api.ts";
import { Toast } from "../components/Toast.tsx";

export interface LifecycleProps {
  pk: string;
  name: string;
  /** ISO times when deleted; null when the project is in use. */
  deletedAt: string | null;
  purgeAt: string | null;
}

const day = (iso: string) =>
  new Date(iso).toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "numeric" });

export default function ProjectLifecycle(props: LifecycleProps) {
  const [purgeAt, setPurgeAt] = useState(props.purgeAt);
  const [asking, setAsking] = useState(false);
  const [typed, setTyped] = useState("");
  // the name as it is now (it may have been renamed on this page since it was rendered)
  const [name, setName] = useState(props.name);
  const [error, setError] = useState("");
  const [done, setDone] = useState("");

  const run = async (path: string, what: string) => {
    setError("");
    setDone("");
    try {
      const out = await api<{ projects: { purgeAt: string | null }[] }>(
        path === "" ? "DELETE" : "POST",
        `/v1/projects/${props.pk}${path}`,
      );
      setPurgeAt(out.projects[0]?.purgeAt ?? null);
      setAsking(false);
      setTyped("");
      setDone(what);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <section aria-labelledby="lifecycle-title" class="danger-zone">
      <h2 id="lifecycle-title">Delete project</h2>
      {purgeAt
        ? (
          <>
            <p data-testid="deleted-state">
              <strong>This project is deleted.</strong> Its keys don't work. Its data is kept until
              {" "}
              {day(purgeAt)}, then removed for good.
            </p>
            <button
              type="button"
              onClick={() => run("/restore", "Project restored: its keys work again.")}
            >
              Restore project
            </button>
          </>
        )
        : (
          <>
            <p>
              Deleting stops this project's keys and open checkouts at once (test and live). Its
              customers, usage and orders are kept 30 days, during which you can restore it here;
              then they are removed, and subscriptions still running are canceled at your payment
              provider. Payments already made stay in your payment provider's account.
            </p>
            {!asking && (
              <button
                type="button"
                class="danger"
                onClick={async () => {
                  try {
                    const p = await api<{ project: { name: string } }>(
                      "GET",
                      `/v1/projects/${props.pk}`,
                    );
                    setName(p.project.name);
                  } catch { /* keep the rendered name */ }
                  setAsking(true);
                }}
              >
                Delete project…
              </button>
            )}
            {asking && (
              <form
                class="confirm"
                role="alertdialog"
                aria-labelledby="delete-confirm"
                onSubmit={(e) => {
                  e.preventDefault();
                  if (typed.trim() === name.trim()) {
                    run("", "Project deleted. You can restore it for 30 days.");
                  }
                }}
              >
                <p id="delete-confirm">
                  <strong>Delete {name}?</strong> Type its name to confirm.
                </p>
                <label for="delete-name">
                  Project name
                  <input
                    id="delete-name"
                    value={typed}
                    autocomplete="off"
                    onInput={(e) => setTyped(e.currentTarget.value)}
                  />
                </label>
                <button type="submit" class="danger" disabled={typed.trim() !== name.trim()}>
                  Delete project
                </button>{" "}
                <button type="button" class="secondary" onClick={() => setAsking(false)}>
                  Cancel
                </button>
              </form>
            )}
          </>
        )}
      {error && <p class="form-error" role="alert">{error}</p>}
      <Toast message={done} onClose={() => setDone("")} testid="lifecycle-done" />
    </section>
  );
}
