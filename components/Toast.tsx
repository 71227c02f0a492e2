/**
 * Feedback after a save, where the eye is: a live region fixed at the bottom of the screen
 * (so "Saved" is never off-screen), cleared after a few seconds through `onClose`. Rendered
 * always, empty when there is nothing to say, so screen readers announce each message. One
 * toast at a time per page: a new one (from any island) clears the others.
 */
import { useEffect, useLayoutEffect, useRef } from "preact/hooks";

const EVENT = "dream:toast";

export function Toast(props: { message: string; onClose: () => void; testid?: string }) {
  const { message, onClose } = props;
  const me = useRef({});
  useEffect(() => {
    const other = (e: Event) => {
      if ((e as CustomEvent).detail !== me.current) onClose();
    };
    addEventListener(EVENT, other);
    return () => removeEventListener(EVENT, other);
  }, []);
  // before the new message is painted, so the others clear in the same frame (with useEffect,
  // which runs after paint, both toasts showed for a frame)
  useLayoutEffect(() => {
    if (!message) return;
    dispatchEvent(new CustomEvent(EVENT, { detail: me.current }));
    const t = setTimeout(onClose, 8000);
    return () => clearTimeout(t);
  }, [message]);
  return (
    <p class="toast" role="status" aria-live="polite" data-testid={props.testid}>
      {message}
    </p>
  );
}
