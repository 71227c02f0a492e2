/** Stripe Connect onboarding in flight: the state sent to Stripe, kept one hour. */
import type { Mode } from "@/lib/ids.ts";

export interface ConnectState {
  developerId: string;
  mode: Mode;
  accountId: string;
  returnTo: string;
}

export const connectStateKeys = {
  byState: (state: string) => ["connect_states", state] as const,
};

export async function saveConnectState(kv: Deno.Kv, state: string, rec: ConnectState) {
  await kv.set(connectStateKeys.byState(state), rec, { expireIn: 3600_000 });
}

export async function getConnectState(kv: Deno.Kv, state: string): Promise<ConnectState | null> {
  return (await kv.get<ConnectState>(connectStateKeys.byState(state))).value;
}

export async function deleteConnectState(kv: Deno.Kv, state: string): Promise<void> {
  await kv.delete(connectStateKeys.byState(state));
}
