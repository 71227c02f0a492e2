/** The health probe's own key: written (and expiring) on every probe of the store. */
export const healthKeys = {
  probe: (instance: string) => ["health_probes", instance] as const,
};
