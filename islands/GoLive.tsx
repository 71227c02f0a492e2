/** Edit & Go Live: review the test tiers, adjust them, create the live twin with live keys. */
import { useState } from "preact/hooks";
import { api, ApiError, fieldErrors } from "./_api.ts";
import { bodyOf, draftOf, TierFields, type TierLike } from "./_tier_fields.tsx";
import SecretOnce from "./SecretOnce.tsx";

export default function GoLive(
  props: { pk: string; type: "saas" | "store"; tiers: TierLike[]; livePk: string | null },
) {
  const [drafts, setDrafts] = useState(props.tiers.map(draftOf));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState("");
  const [done, setDone] = useState<{ publishableKey: string; secretKey: string } | null>(null);
  if (props.livePk && !done) {
    return (
      <p class="notice" role="status">
        This project is already live:{" "}
        <a href={`/dashboard/projects/${props.livePk}`}>{props.livePk}</a>. Edit its tiers there.
      </p>
    );
  }
  if (done) {
    return (
      <section aria-labelledby="live-h">
        <h2 id="live-h">You are live</h2>
        <p>
          Live publishable key: <code data-testid="live-pk">{done.publishableKey}</code>
        </p>
        <SecretOnce label="Live secret key" secret={done.secretKey} />
        <p>
          <a href={`/dashboard/projects/${done.publishableKey}`}>Open the live project</a>
        </p>
      </section>
    );
  }
  return (
    <form
      noValidate
      onSubmit={async (e) => {
        e.preventDefault();
        setErrors({});
        setMessage("");
        try {
          const out = await api<{ publishableKey: string; secretKey: string }>(
            "POST",
            `/v1/projects/${props.pk}/promote`,
            { tiers: drafts.map((d) => bodyOf(props.type, d)) },
          );
          setDone(out);
          // the header's "Not live yet" (server-rendered, outside this island) now links the twin
          const mode = document.querySelector<HTMLAnchorElement>("p.mode a");
          if (mode) {
            mode.textContent = "Switch to live";
            mode.href = `/dashboard/projects/${out.publishableKey}`;
          }
        } catch (err) {
          setErrors(fieldErrors(err));
          setMessage(
            err instanceof ApiError && err.status === 409
              ? `Already live: ${err.message}`
              : (err as Error).message,
          );
        }
      }}
    >
      {drafts.map((d, i) => (
        <fieldset class="tier">
          <legend>{d.displayName || d.name}</legend>
          <TierFields
            type={props.type}
            draft={d}
            prefix={`live${i}`}
            nameEditable={false}
            errors={Object.fromEntries(
              Object.entries(errors).filter(([k]) => k.startsWith(`tiers.${i}.`)).map((
                [k, v],
              ) => [k.slice(`tiers.${i}.`.length), v]),
            )}
            onChange={(n) => setDrafts(drafts.map((x, j) => (j === i ? n : x)))}
          />
        </fieldset>
      ))}
      {message && <p class="form-error" role="alert">{message}</p>}
      <button type="submit">Create the live project</button>
    </form>
  );
}
