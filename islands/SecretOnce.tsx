/** Shows a secret exactly once, with a copy button and a clear warning. */
import CopyButton from "./CopyButton.tsx";

export default function SecretOnce(props: { label: string; secret: string }) {
  return (
    <div class="secret" role="alert">
      <p>
        <strong>{props.label}</strong>{" "}
        — copy it now: it is shown only this once and we store only its hash.
      </p>
      <code data-testid="secret">{props.secret}</code> <CopyButton text={props.secret} />
    </div>
  );
}
