// Mounts Clerk's sign-in when the page is configured for Clerk; Clerk keeps its session in the
// `__session` cookie, which the server verifies networklessly.
const el = document.getElementById("clerk-sign-in");
function mount() {
  const clerk = globalThis.Clerk;
  if (!clerk) return setTimeout(mount, 100);
  clerk.load().then(() => {
    if (clerk.user) location.href = el.dataset.next || "/dashboard";
    else clerk.mountSignIn(el, { forceRedirectUrl: el.dataset.next || "/dashboard" });
  });
}
if (el) mount();
