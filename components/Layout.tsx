/** The page shell: head, skip link, header with navigation, main landmark. Server-only. */
import type { ComponentChildren } from "preact";

export interface NavUser {
  email: string;
}

export function Layout(
  props: {
    title: string;
    user?: NavUser | null;
    /**
     * A page shown to a merchant's own customers (sandbox checkout and portal): the header names
     * the merchant and carries none of the platform's links.
     */
    merchant?: string;
    children: ComponentChildren;
    head?: ComponentChildren;
  },
) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta
          name="description"
          content="dream-api: usage-based billing and stores on your own Stripe account — tiers, usage limits, checkout, webhooks and a dashboard."
        />
        <title>{props.title}</title>
        <link rel="stylesheet" href="/static/app.css" />
        {props.head}
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          {props.merchant !== undefined
            ? <span class="brand">{props.merchant}</span>
            : <a href="/" class="brand">dream-api</a>}
          {props.merchant === undefined && (
            <nav aria-label="Main">
              <a href="/docs">Docs</a>
              {props.user
                ? (
                  <>
                    <a href="/dashboard">Dashboard</a>
                    <a href="/dashboard/tokens">Access tokens</a>
                    <a href="/dashboard/account">Account</a>
                    <form method="post" action="/signout" class="inline">
                      <button type="submit" class="link">Sign out {props.user.email}</button>
                    </form>
                  </>
                )
                : (
                  <>
                    <a href="/signin">Sign in</a>
                    <a href="/signup">Sign up</a>
                  </>
                )}
            </nav>
          )}
        </header>
        <main id="main">{props.children}</main>
      </body>
    </html>
  );
}
