/** Shows a secret exactly once, with a copy button and a clear warning. */
import CopyButton from "./CopyButton.tsx";

export default function SecretOnce(
  props: {
    label: string;
    secret: string;
    /** How it is kept: a hash (keys, tokens, the default) or sealed (webhook signing secrets). */
    stored?: "hash" | "sealed";
  },
) {
  return (
    <div class="secret" role="alert">
      <p>
        <strong>{props.label}</strong>{" "}
        — copy it now: it is shown only this once{props.stored === "sealed"
          ? " (we keep it encrypted, to sign with, and never show it again)."
          : " and we store only its hash."}
      </p>
      <code data-testid="secret">{props.secret}</code> <CopyButton text={props.secret} />
    </div>
  );
}
