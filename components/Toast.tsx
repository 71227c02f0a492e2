/**
 * Feedback after a save, where the eye is: a live region fixed at the bottom of the screen
 * (so "Saved" is never off-screen), cleared after a few seconds through `onClose`. Rendered
 * always, empty when there is nothing to say, so screen readers announce each message.
 */
import { useEffect } from "preact/hooks";

export function Toast(props: { message: string; onClose: () => void; testid?: string }) {
  const { message, onClose } = props;
  useEffect(() => {
    if (!message) return;
    const t = setTimeout(onClose, 8000);
    return () => clearTimeout(t);
  }, [message]);
  return (
    <p class="toast" role="status" aria-live="polite" data-testid={props.testid}>
      {message}
    </p>
  );
}
