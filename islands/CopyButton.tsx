/** A button that copies a value to the clipboard and says so (for keys shown once). */
import { useState } from "preact/hooks";

export default function CopyButton(props: { text: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      class="copy"
      onClick={async () => {
        await navigator.clipboard?.writeText(props.text).catch(() => {});
        setCopied(true);
        setTimeout(() => setCopied(false), 2000);
      }}
    >
      {copied ? "Copied" : props.label ?? "Copy"}
      <span class="sr-only" aria-live="polite">{copied ? " to clipboard" : ""}</span>
    </button>
  );
}
